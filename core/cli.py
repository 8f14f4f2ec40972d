"""``postroom-mta``: Sendmail's command-line flags and link names mapped onto the core.

Called as ``mailq`` it behaves as ``-bp``; as ``newaliases``, ``hoststat``,
``purgestat``, ``mailstats``, ``praliases`` or ``vacation`` it names the
Sendmail command it stands for. Exit codes are ``sysexits.h``'s; every error
is one clear line on standard error, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__

EX_OK = 0
EX_USAGE = 64
EX_NOPERM = 77
EX_CONFIG = 78
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_OSERR = 71
EX_TEMPFAIL = 75
EX_IOERR = 74

LINK_MODES = {
    "mailq": "p",
    "newaliases": "i",
    "hoststat": "h",
    "purgestat": "H",
    "mailstats": "mailstats",
    "praliases": "praliases",
    "vacation": "vacation",
    "makemap": "makemap",
}
NOT_YET = {
    "t": "address test mode (-bt) is not provided by Postroom",
}
ARG_FLAGS = {"C", "f", "r", "F", "X", "O", "N", "R", "V", "B", "L", "h", "p"}


class UsageError(Exception):
    """A command-line mistake; the message says what was wrong."""


@dataclass
class Invocation:
    """The parsed command line."""

    mode: str = "m"
    config: Path | None = None
    overrides: list[str] = field(default_factory=list)
    sender: str | None = None
    full_name: str | None = None
    ignore_dots: bool = False
    from_headers: bool = False
    verbose: bool = False
    traffic: Path | None = None
    queue_args: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    rpc: bool = False
    version: bool = False


def parse_args(argv: Sequence[str], mode: str = "m") -> Invocation:
    """Parse Sendmail-style flags (``-bD``, ``-qI...``, ``-O Opt=Val``, ``-oi``...)."""
    inv = Invocation(mode=mode)
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            inv.recipients.extend(args[i:])
            break
        if arg == "--version":
            inv.version = True
            continue
        if arg == "--rpc":
            inv.rpc = True
            continue
        if not arg.startswith("-") or arg == "-":
            inv.recipients.append(arg)
            continue
        flag, rest = arg[1], arg[2:]
        if flag in ARG_FLAGS:
            if not rest:
                if i >= len(args):
                    raise UsageError(f"option requires an argument -- '{flag}'")
                rest = args[i]
                i += 1
            _apply_valued(inv, flag, rest)
        elif flag == "b":
            if not rest or rest[0] not in "DdsmpPhHivt":
                raise UsageError(f"Invalid operation mode {rest[:1] or '(none)'}")
            inv.mode = rest[0]
        elif flag == "q":
            inv.queue_args.append(arg)
        elif flag == "o":
            _apply_old_option(inv, rest)
        elif flag == "i":
            inv.ignore_dots = True
        elif flag == "t":
            inv.from_headers = True
        elif flag == "v":
            inv.verbose = True
        elif flag in ("d", "n", "U", "G", "A", "Q"):
            continue  # debug and compatibility flags: accepted, no effect here
        else:
            raise UsageError(f"Illegal option -- {flag}")
    return inv


def _apply_valued(inv: Invocation, flag: str, value: str) -> None:
    if flag == "C":
        inv.config = Path(value)
    elif flag in ("f", "r"):
        if inv.sender is not None:
            raise UsageError('More than one "from" person')
        inv.sender = value
    elif flag == "F":
        inv.full_name = value
    elif flag == "X":
        inv.traffic = Path(value)
    elif flag == "O":
        if "=" not in value:
            raise UsageError(f"-O {value}: expected Option=Value")
        inv.overrides.append(value)
    # N, R, V, B, L, h, p: DSN and protocol details for -bm; accepted and ignored.


def _apply_old_option(inv: Invocation, rest: str) -> None:
    if rest.startswith("i"):
        inv.ignore_dots = True
    elif rest.startswith("Q") and len(rest) > 1:
        inv.overrides.append(f"QueueDirectory={rest[1:]}")
    elif rest.startswith("L") and len(rest) > 1:
        inv.overrides.append(f"LogLevel={rest[1:]}")
    else:
        raise UsageError(f"-o{rest[:1]}: old-style option not supported; use -O Name=Value")


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    called = Path(sys.argv[0]).name if argv is None else "postroom-mta"
    name = called if called in LINK_MODES else "postroom-mta"
    mode = LINK_MODES.get(name, "m")
    if mode in ("mailstats", "praliases", "makemap", "vacation"):
        from .runner import run_own_flags_command

        return run_own_flags_command(mode, args)
    try:
        inv = parse_args(args, mode)
    except UsageError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EX_USAGE
    if inv.version:
        print(f"postroom-mta {__version__}")
        return EX_OK
    if inv.mode == "p" and not inv.rpc:
        from .mailq_command import run_mailq as run  # lean: no daemon or delivery imports
    else:
        from .runner import run
    try:
        return run(inv, name)
    except KeyboardInterrupt:
        return EX_TEMPFAIL
    except PermissionError as exc:
        print(f"{name}: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EX_NOPERM
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{name}: {where}{exc.strerror or exc}", file=sys.stderr)
        return EX_IOERR
    except Exception as exc:  # last resort: one line, never a traceback
        print(f"{name}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EX_SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
