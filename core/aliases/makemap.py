"""``makemap`` -- building the text maps kept beside the aliases file.

Usage: ``makemap [-N] [-c n] [-C cf] [-d] [-D c] [-e] [-f] [-i t] [-l] [-o] [-r] [-s]
[-t c] [-u] [-v] type mapname < text``.

Reads ``key value`` lines on standard input (Sendmail's makemap.c rules):
empty lines and lines starting with the comment character (``#``, ``-D``) are
skipped; a line starting with white space is ``syntax error (leading
space)``; the key ends at the first white space (or the ``-t`` character) and
is folded to lower case unless ``-f``; the value is the rest after the
separators, and may not be empty unless ``-e``; a repeated key is ``duplicate
key`` unless ``-r`` (replace) or ``-d`` (keep both; lookups use the first).
Lines longer than 1024 bytes, and lines with CR, NUL, control characters or
invalid UTF-8, are errors.  Messages are Sendmail's:
``makemap: <map>: line <n>: <text>`` on standard error; ``-v`` prints
``key=`<key>', val=`<value>'`` for each entry on standard output.

The map is written to ``<mapname>.sqlite`` (:mod:`.store`) atomically, for
every type Sendmail knows (``hash``, ``btree``, ``dbm``, ``cdb``,
``implicit``).  Unlike Sendmail, a source with any error writes nothing (exit
65) and the old map stays in force.  ``-o`` adds to the existing map, ``-u``
prints the map as ``key<TAB>value`` lines (``-t`` character instead of the
tab) in database order.  ``-N``, ``-c``, ``-C``, ``-s`` and ``-i`` are accepted
for compatibility and change nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from .errors import EX_CANTCREAT, EX_DATAERR, EX_NOINPUT
from .lines import line_problem
from .parser import ascii_lower
from .store import TableError, compiled_path, read_table, write_table

EX_OK = 0
EX_USAGE = 64
BUFSIZE = 1024
MAP_TYPES = ("hash", "btree", "dbm", "cdb", "implicit")
_WITH_ARG = set("CDcit")
_FLAGS = set("Ndeflorsuvx")
USAGE = (
    "Usage: makemap [-C cffile] [-N] [-c cachesize] [-D commentchar]",
    "               [-d] [-e] [-f] [-i type] [-l] [-o] [-r] [-s] [-t delimiter]",
    "               [-u] [-v] type mapname",
)


@dataclass
class MakemapOptions:
    """The parsed command line."""

    map_type: str = ""
    map_name: Path = Path()
    fold: bool = True
    separator: str | None = None
    comment: str = "#"
    allow_empty: bool = False
    allow_duplicates: bool = False
    replace: bool = False
    append: bool = False
    dump: bool = False
    verbose: bool = False
    list_types: bool = False
    ignored: list[str] = field(default_factory=list)


class UsageError(Exception):
    pass


def parse_options(argv: Sequence[str]) -> MakemapOptions:
    """getopt-style parsing of makemap's flags; :class:`UsageError` on a mistake."""
    opts = MakemapOptions()
    args = list(argv)
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            rest += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            rest.append(arg)
            rest += args[i:]
            break
        j = 1
        while j < len(arg):
            flag = arg[j]
            j += 1
            if flag in _WITH_ARG:
                value = arg[j:]
                if not value:
                    if i >= len(args):
                        raise UsageError(f"option requires an argument -- '{flag}'")
                    value = args[i]
                    i += 1
                j = len(arg)
                if flag == "D":
                    opts.comment = value[:1]
                elif flag == "t":
                    opts.separator = value[:1] or None
                else:
                    opts.ignored.append(f"-{flag}")
            elif flag in _FLAGS:
                _apply_flag(opts, flag)
            else:
                raise UsageError(f"invalid option -- '{flag}'")
    if opts.list_types:
        return opts
    if len(rest) != 2:
        raise UsageError("type and mapname are required")
    opts.map_type, opts.map_name = rest[0], Path(rest[1])
    return opts


def _apply_flag(opts: MakemapOptions, flag: str) -> None:
    if flag == "d":
        opts.allow_duplicates = True
    elif flag == "e":
        opts.allow_empty = True
    elif flag == "f":
        opts.fold = False
    elif flag in ("l", "x"):
        opts.list_types = True
    elif flag == "o":
        opts.append = True
    elif flag == "r":
        opts.replace = True
    elif flag == "u":
        opts.dump = True
    elif flag == "v":
        opts.verbose = True
    else:  # N, s: accepted, no effect here
        opts.ignored.append(f"-{flag}")


@dataclass(frozen=True)
class MapSource:
    """Parsed makemap input: entries in order, error lines, ``-v`` lines."""

    entries: tuple[tuple[str, str], ...]
    errors: tuple[str, ...]
    verbose: tuple[str, ...]


def _is_sep(c: str, sep: str | None) -> bool:
    return c in " \t\n\v\f\r" if sep is None else c == sep


def parse_map_source(
    data: bytes,
    opts: MakemapOptions,
    existing: Sequence[tuple[str, str]] = (),
) -> MapSource:
    """Parse makemap input ``data`` with the options; ``existing`` entries come first (``-o``)."""
    name = str(opts.map_name)
    entries = list(existing)
    index = {k: n for n, (k, _v) in enumerate(entries)}
    errors: list[str] = []
    verbose: list[str] = []
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    for number, raw in enumerate(raw_lines, start=1):
        where = f"makemap: {name}: line {number}"
        if len(raw) >= BUFSIZE - 1:
            errors.append(f"{where}: line too long ({BUFSIZE} bytes max)")
            continue
        problem = line_problem(raw)
        if problem is not None:
            errors.append(f"{where}: {problem}")
            continue
        line = raw.decode("utf-8")
        if not line or line.startswith(opts.comment):
            continue
        if opts.separator is None and line[0].isspace():
            errors.append(f"{where}: syntax error (leading space)")
            continue
        end = 0
        while end < len(line) and not _is_sep(line[end], opts.separator):
            end += 1
        key = ascii_lower(line[:end]) if opts.fold else line[:end]
        start = end + 1 if end < len(line) else end
        while start < len(line) and _is_sep(line[start], opts.separator):
            start += 1
        value = line[start:]
        if not value and not opts.allow_empty:
            errors.append(f"{where}: no RHS for LHS {key}")
            continue
        if opts.verbose:
            verbose.append(f"key=`{key}', val=`{value}'")
        if key in index and not opts.allow_duplicates:
            if opts.replace:
                entries[index[key]] = (key, value)
            else:
                errors.append(f"{where}: key {key}: duplicate key")
            continue
        index.setdefault(key, len(entries))
        entries.append((key, value))
    return MapSource(tuple(entries), tuple(errors), tuple(verbose))


def build_map(data: bytes, opts: MakemapOptions) -> MapSource:
    """Parse ``data`` and, when it has no errors, write ``<mapname>.sqlite`` atomically."""
    target = compiled_path(opts.map_name)
    existing: tuple[tuple[str, str], ...] = ()
    if opts.append and target.exists():
        existing = read_table(target).entries
    source = parse_map_source(data, opts, existing)
    if not source.errors:
        meta = {"kind": "map", "type": opts.map_type, "fold": "1" if opts.fold else "0"}
        write_table(target, source.entries, meta)
    return source


def main(
    argv: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The ``makemap`` command; returns a sysexits code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        opts = parse_options(argv)
    except UsageError as exc:
        print(f"makemap: {exc}", file=err)
        for line in USAGE:
            print(line, file=err)
        return EX_USAGE
    if opts.list_types:
        for name in MAP_TYPES:
            print(name, file=out)
        return EX_OK
    if opts.map_type.lower() not in MAP_TYPES:
        print(
            f"makemap: error opening type {opts.map_type} map {opts.map_name}: "
            "Unknown database type",
            file=err,
        )
        return EX_CANTCREAT
    if opts.dump:
        try:
            table = read_table(compiled_path(opts.map_name))
        except TableError as exc:
            print(f"makemap: {exc}", file=err)
            return EX_NOINPUT
        sep = opts.separator or "\t"
        for key, value in table.entries:
            print(f"{key}{sep}{value}", file=out)
        return EX_OK
    data = (stdin or sys.stdin.buffer).read()
    try:
        source = build_map(data, opts)
    except TableError as exc:
        print(f"makemap: {exc}", file=err)
        return EX_CANTCREAT
    for line in source.verbose:
        print(line, file=out)
    for line in source.errors:
        print(line, file=err)
    if source.errors:
        print(f"makemap: {opts.map_name}: not written, the old map stays in force", file=err)
        return EX_DATAERR
    return EX_OK
