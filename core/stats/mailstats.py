"""``mailstats``: Sendmail 8.17's statistics report, byte for byte.

:func:`format_mailstats` prints one :class:`~.statusfile.Statistics`:

- normal: ``Statistics from <ctime(itime)>``, the column header (`` Mailer``
  column left out with ``omit_names``), one row per mailer with a non-zero
  nf, nt, nq, nr or nd (bytes alone do not count) as ``%2d %8ld %10ldK %8ld
  %10ldK   %6ld  %6ld  %6ld  %s``, 69 ``=``, the ``T`` row (sums of the rows
  shown) and the ``C`` row (connections from, to, rejected);
- ``program`` (``-P``/``-p``): ``<itime> <now>``, the same rows without
  ``K``, the ``T`` row and `` C %8ld %8ld %6ld``; no header, no ``=``.

Times are local (``ctime``), like Sendmail.

:func:`mailstats_main` is the command (``-C cf``, ``-c``, ``-f file``,
``-o``, ``-p``, ``-P``): messages, exit codes and option handling as
Sendmail's.  Mailer names and the StatusFile come from ``-C cf`` when given
(``M`` lines and the ``StatusFile``/``OS`` option of a Sendmail cf, read the
way mailstats reads them); otherwise the names are :data:`MAILERS` and the
file is ``default_file``.  ``-c`` (Sendmail: use submit.cf) selects that
default too: Postroom has one configuration.  ``-p`` reads and truncates
under one lock.
"""

from __future__ import annotations

import getopt
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .errors import EX_NOINPUT, EX_OSFILE, EX_USAGE, StatsError
from .statusfile import ARRAYS, MAILERS, MAXMAILERS, Statistics, StatusFile, wrap_long

MNAMELEN = 20
USAGE = "usage: mailstats [-C cffile] [-c] [-P] [-f stfile] [-o] [-p]\n"
HEADER = " M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis msgsqur"


def format_mailstats(
    stats: Statistics,
    *,
    names: Sequence[str] = MAILERS,
    omit_names: bool = False,
    program: bool = False,
    now: float | None = None,
) -> str:
    """The report for ``stats`` (``names[i]`` names mailer ``i``; missing ones are empty)."""
    out = []
    if program:
        out.append(f"{stats.itime} {int(time.time() if now is None else now)}\n")
    else:
        out.append(f"Statistics from {time.ctime(stats.itime)}\n")
        out.append(HEADER + ("\n" if omit_names else "  Mailer\n"))
    k = "" if program else "K"
    totals = [0] * 7
    for i in range(MAXMAILERS):
        row = tuple(getattr(stats, name)[i] for name in ARRAYS)
        if not (row[0] or row[2] or row[4] or row[5] or row[6]):
            continue
        name = "" if omit_names else "  " + (names[i] if i < len(names) else "")
        out.append(_row(f"{i:2d}", row, k) + name + "\n")
        totals = [wrap_long(t + v) for t, v in zip(totals, row, strict=True)]
    if not program:
        out.append("=" * 69 + "\n")
    out.append(_row(" T", tuple(totals), k) + "\n")
    if program:
        out.append(f" C {stats.cf:8d} {stats.ct:8d} {stats.cr:6d}\n")
    else:
        out.append(f" C {stats.cf:8d} {'':10s}  {stats.ct:8d} {'':10s}    {stats.cr:6d}\n")
    return "".join(out)


def _row(label: str, v: tuple[int, ...], k: str) -> str:
    return (
        f"{label} {v[0]:8d} {v[1]:10d}{k} {v[2]:8d} {v[3]:10d}{k}   {v[4]:6d}  {v[5]:6d}  {v[6]:6d}"
    )


def mailstats_main(
    argv: Sequence[str],
    default_file: Path | None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    now: float | None = None,
) -> int:
    """Run ``mailstats ARGV`` (arguments after the program name); return the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        opts, rest = getopt.gnu_getopt(list(argv), "cC:f:opP")
    except getopt.GetoptError as exc:
        err.write(_getopt_message(exc) + USAGE)
        return EX_USAGE
    if rest:
        err.write(USAGE)
        return EX_USAGE
    cfile: str | None = None
    sfile: str | None = None
    omit = program = trunc = False
    for opt, value in opts:
        if opt == "-c":
            cfile = None
        elif opt == "-C":
            cfile = value
        elif opt == "-f":
            sfile = value
        elif opt == "-o":
            omit = True
        else:
            program = True
            trunc = trunc or opt == "-p"
    names: Sequence[str] = MAILERS
    if cfile is not None:
        try:
            names, cf_sfile = read_cf(cfile)
        except OSError as exc:
            err.write(f"mailstats: {cfile}: {os.strerror(exc.errno or 0)}\n")
            return EX_NOINPUT
        except StatsError as exc:
            err.write(f"{exc}\n")
            return exc.exit_code
        sfile = sfile if sfile is not None else cf_sfile
    elif sfile is None and default_file is not None:
        sfile = os.fspath(default_file)
    if sfile is None:
        err.write("mailstats: no statistics file located\n")
        return EX_OSFILE
    status = StatusFile(sfile)
    try:
        stats = status.read_and_reset(now=now) if trunc else status.read(now=now)
    except StatsError as exc:
        err.write(f"{exc}\n")
        return exc.exit_code
    out.write(format_mailstats(stats, names=names, omit_names=omit, program=program, now=now))
    return 0


def read_cf(cfile: str) -> tuple[list[str], str | None]:
    """Mailer names in number order and the StatusFile of a Sendmail cf, read as mailstats does."""
    names = ["prog", "*file*", "*include*"]
    sfile: str | None = None
    with open(cfile, "rb") as handle:
        for raw in handle:
            line = _strip_comment(raw)
            if line.startswith(b"O"):
                value = _status_file_option(line[1:])
                if value is not None:
                    sfile = value.decode("utf-8", "surrogateescape")
                continue
            if not line.startswith(b"M"):
                continue
            if len(names) >= MAXMAILERS:
                raise StatsError(f"Too many mailers defined, {MAXMAILERS} max.")
            name = _mailer_name(line[1:])
            if name not in names:
                names.append(name)
    return names, sfile


def _strip_comment(raw: bytes) -> bytes:
    cut = raw.find(b"#")
    if cut < 0:
        cut = raw.find(b"\n")
    line = raw if cut < 0 else raw[:cut]
    return line.rstrip(b" \t\n\v\f\r")


def _status_file_option(rest: bytes) -> bytes | None:
    """The value of ``O StatusFile=...`` or the old ``OS...``, else None."""
    if rest[:11].lower() == b" statusfile" and not rest[11:12].isalnum():
        eq = rest.find(b"=")
        if eq < 0:
            return None
        return rest[eq + 1 :].lstrip(b" \t\n\v\f\r")
    if rest.startswith(b"S"):
        return rest[1:]
    return None


def _mailer_name(rest: bytes) -> str:
    end = 0
    while end < len(rest) and end < MNAMELEN and rest[end : end + 1] not in b", \t\n\v\f\r":
        end += 1
    return rest[:end].decode("utf-8", "surrogateescape")


def _getopt_message(exc: getopt.GetoptError) -> str:
    if "requires argument" in exc.msg:
        return f"mailstats: option requires an argument -- '{exc.opt}'\n"
    return f"mailstats: invalid option -- '{exc.opt}'\n"
