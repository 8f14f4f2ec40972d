"""Command entry points for the CLI: ``newaliases``/``-bi``, ``praliases``, ``-bv``.

Each takes what it needs plus output streams and returns a sysexits code;
nothing here parses Sendmail's main command line or loads the configuration
on its own (``praliases`` gets a loader for its ``-C`` flag).

- :func:`run_newaliases`: prints duplicate warnings and the summary line on
  standard output, as Sendmail does; on a broken file prints every problem
  (``<file>: line <n>: <text>``) on standard output too, keeps the old table
  and returns 65 (EX_DATAERR).
- :func:`run_praliases`: ``praliases [-C cf] [-f file] [key ...]``.
- :func:`run_verify`: ``-bv addr ...`` with ``restrictexpand`` honoured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ..config.model import Config
from .compile import praliases
from .errors import AliasDatabaseError, AliasError, AliasFileError
from .setup import expander_for, load_table_for, newaliases_for, restricted_reader
from .store import compiled_path
from .verify import verify

EX_OK = 0
EX_USAGE = 64


def run_newaliases(config: Config, out: TextIO, err: TextIO) -> int:
    """``newaliases`` / ``sendmail -bi``."""
    try:
        result = newaliases_for(config)
    except AliasFileError as exc:
        for line in exc.lines:
            print(line, file=out)
        print(f"newaliases: {config.alias_file}: not rebuilt; the previous table stays", file=err)
        return exc.exit_code
    except AliasError as exc:
        print(f"newaliases: {exc}", file=err)
        return exc.exit_code
    for line in result.lines():
        print(line, file=out)
    return EX_OK


def run_praliases(
    argv: Sequence[str],
    load_config: Callable[[Path | None], Config],
    out: TextIO,
    err: TextIO,
) -> int:
    """``praliases [-C cf] [-f file] [key ...]``; ``load_config`` maps ``-C`` to a Config."""
    cf: Path | None = None
    alias_file: Path | None = None
    keys: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-C", "-f"):
            if i >= len(args):
                print(f"praliases: option requires an argument -- '{arg[1]}'", file=err)
                return EX_USAGE
            value, i = Path(args[i]), i + 1
            if arg == "-C":
                cf = value
            else:
                alias_file = value
        elif arg.startswith("-C") or arg.startswith("-f"):
            if arg[1] == "C":
                cf = Path(arg[2:])
            else:
                alias_file = Path(arg[2:])
        elif arg == "--":
            keys += args[i:]
            break
        elif arg.startswith("-") and arg != "-":
            print(f"praliases: invalid option -- '{arg[1:2]}'", file=err)
            print("usage: praliases [-C cffile] [-f aliasfile] [key ...]", file=err)
            return EX_USAGE
        else:
            keys.append(arg)
    if alias_file is None:
        alias_file = Path(load_config(cf).alias_file)
    try:
        lines = praliases(compiled_path(alias_file), keys)
    except AliasDatabaseError as exc:
        print(f"praliases: {exc}", file=err)
        return exc.exit_code
    for line in lines:
        print(line, file=out)
    return EX_OK


def run_verify(config: Config, addresses: Sequence[str], out: TextIO, err: TextIO) -> int:
    """``sendmail -bv addr ...``: one line per target (see :mod:`.verify`)."""
    if not addresses:
        print("Recipient names must be specified", file=err)
        return EX_USAGE
    try:
        table = load_table_for(config, rebuild_missing=False)
    except AliasError as exc:
        print(f"{exc}", file=err)
        return exc.exit_code
    for warning in table.warnings:
        print(warning, file=out)
    expander = expander_for(config, table, reader=restricted_reader(config))
    smart = str(config.smart_host) if config.smart_host is not None else None
    result = verify(expander, addresses, smart_host=smart)
    for line in result.lines:
        print(line, file=out)
    return result.status
