"""The ``vacation`` program, Sendmail 8.17's flags (SENDMAIL.md 7.3), Postroom's stricter rules.

``vacation [-a alias] [-C cf] [-d] [-f db] [-i] [-j] [-l] [-m msg] [-R addr]
[-r interval] [-s sender] [-t x] [-U] [-x] [-z] login`` -- usually from a
``.forward`` or alias: ``\\eric, "|/usr/bin/vacation eric"``; the message,
with its leading ``From `` line, on standard input.

- database: ``~/.vacation.db`` or ``-f db`` + ``.db`` (relative to the home
  folder; with ``-U`` to the current folder), a :class:`.memory.ReplyMemory`;
- message file: ``~/.vacation.msg`` or ``-m msg``: a complete message with
  headers, sent back with ``To``/``Auto-Submitted``/``In-Reply-To``... added
  (:func:`.reply.build_file_reply`);
- ``-i`` empties the database, ``-r n`` stores the interval in days (not
  numeric, e.g. ``infinite``: reply once), ``-x`` reads exclusions (addresses
  or ``@domain``) from standard input, ``-l`` lists the database as Sendmail
  does (key in 40 columns, a space, ``ctime`` of the last reply or
  ``(exclusion)``); ``-j`` skips the To/Cc check; ``-a`` adds names to look
  for; ``-s`` replies to that address instead of the ``From `` line's;
  ``-U`` takes the login as given (needs ``-f`` and ``-m``); ``-d`` writes
  the reason for every decision to standard error; ``-t`` and ``-C`` are
  accepted (``-C`` is the caller's business: it picks the configuration).

Stricter than Sendmail: all rules of :mod:`.rules`, and the reply's envelope
sender is ``<>`` unless ``-R`` names one (``-z`` keeps ``<>``).  The reply is
handed to ``submit``; nothing is remembered when that fails.  Exit codes are
Sendmail's: 0 (also when no reply is due), 64 usage, 65 bad input, 66 missing
file, 67 unknown user, 69 no way to submit, 75 submission failed.
"""

from __future__ import annotations

import os
import pwd
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from .errors import ReplyMemoryError
from .incoming import BadFromLine, read_incoming
from .memory import ReplyMemory
from .reply import build_file_reply
from .responder import Submit
from .rules import RateLimit, VacationUser, addressed_to, should_reply
from .settings import DAY, DEFAULT_INTERVAL, VacationSettings

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_NOUSER = 67
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75
ONLY_ONCE = 0
_WITH_ARG = set("aCfmRrst")
_FLAGS = set("dIijlUxz")


@dataclass(frozen=True)
class Login:
    """A user the program answers for: login name and home folder."""

    name: str
    home: str


def passwd_login(name: str | None) -> Login | None:
    """``name``'s passwd entry, or the invoking user's when ``name`` is None."""
    try:
        entry = pwd.getpwuid(os.getuid()) if name is None else pwd.getpwnam(name)
    except (KeyError, ValueError):
        return None
    return Login(entry.pw_name, entry.pw_dir)


@dataclass
class Options:
    """The parsed command line."""

    aliases: list[str] = field(default_factory=list)
    debug: bool = False
    db: str | None = None
    init: bool = False
    always: bool = False
    list_db: bool = False
    msg: str | None = None
    return_addr: str | None = None
    interval: int | None = None
    sender: str | None = None
    as_given: bool = False
    exclude: bool = False
    args: list[str] = field(default_factory=list)


class UsageError(Exception):
    pass


def parse_options(argv: Sequence[str]) -> Options:
    """getopt("a:C:df:Iijlm:R:r:s:t:Uxz")."""
    opts = Options()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            opts.args += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            opts.args += args[i - 1 :]
            break
        j = 1
        while j < len(arg):
            flag = arg[j]
            j += 1
            if flag in _WITH_ARG:
                value = arg[j:]
                if not value:
                    if i >= len(args):
                        raise UsageError
                    value, i = args[i], i + 1
                j = len(arg)
                _apply_value(opts, flag, value)
            elif flag in _FLAGS:
                _apply_flag(opts, flag)
            else:
                raise UsageError
    return opts


def _apply_value(opts: Options, flag: str, value: str) -> None:
    if flag == "a":
        opts.aliases.append(value)
    elif flag == "f":
        opts.db = value
    elif flag == "m":
        opts.msg = value
    elif flag == "R":
        opts.return_addr = value
    elif flag == "r":
        if value[:1].isdigit():
            digits = value[: len(value) - len(value.lstrip("0123456789"))]
            opts.interval = int(digits) * DAY
        else:
            opts.interval = ONLY_ONCE
    elif flag == "s":
        opts.sender = value
    # C (configuration, chosen by the caller) and t (SunOS) are accepted and ignored


def _apply_flag(opts: Options, flag: str) -> None:
    if flag == "d":
        opts.debug = True
    elif flag in "Ii":
        opts.init = True
    elif flag == "j":
        opts.always = True
    elif flag == "l":
        opts.list_db = True
    elif flag == "U":
        opts.as_given = True
    elif flag == "x":
        opts.exclude = True
    elif flag == "z":
        opts.return_addr = "<>"


USAGE = (
    "usage: vacation [-a alias] [-C cfpath] [-d] [-f db] [-i] [-j] [-l] [-m msg] "
    "[-R returnaddr] [-r interval] [-s sender] [-t time] [-U] [-x] [-z] login"
)


def list_lines(memory: ReplyMemory, user: str = "") -> list[str]:
    """Sendmail's ``-l`` lines: key cut and padded to 40 columns, a space, ctime or (exclusion)."""
    out = []
    for key, when in memory.entries(user):
        shown = key.encode("utf-8")[:40].decode("utf-8", "ignore")
        stamp = "(exclusion)" if when <= 0 else time.ctime(when)
        out.append(f"{shown:<40} {stamp}")
    return out


def _resolve(home: str | None, name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or home is None:
        return path
    return Path(home) / path


@dataclass
class _Io:
    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    debug: bool = False

    def error(self, text: str) -> None:
        print(f"vacation: {text}", file=self.stderr)

    def note(self, text: str) -> None:
        if self.debug:
            print(f"vacation: {text}", file=self.stderr)


def main(
    argv: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    submit: Submit | None = None,
    host_name: str = "localhost",
    clock: Callable[[], float] = time.time,
    lookup: Callable[[str | None], Login | None] = passwd_login,
    rate_limit: RateLimit | None = None,
) -> int:
    """Run ``vacation argv``; returns a sysexits code (see the module docstring)."""
    io = _Io(stdin or sys.stdin.buffer, stdout or sys.stdout, stderr or sys.stderr)
    try:
        opts = parse_options(argv)
    except UsageError:
        io.error(f"uid {os.getuid()}: {USAGE}")
        return EX_USAGE
    io.debug = opts.debug
    if opts.interval is not None and opts.interval < 0:
        io.error(USAGE)
        return EX_USAGE
    home: str | None
    if len(opts.args) != 1:
        if not (opts.init or opts.list_db or opts.exclude):
            io.error(f"uid {os.getuid()}: {USAGE}")
            return EX_USAGE
        login = lookup(None)
        if login is None:
            io.error(f"no such user uid {os.getuid()}.")
            return EX_NOUSER
        name, home = login.name, login.home
    elif opts.as_given:
        name, home = opts.args[0], None
        if opts.db is None or opts.msg is None:
            io.error("-U requires setting both -f and -m")
            return EX_NOINPUT
    else:
        login = lookup(opts.args[0])
        if login is None:
            io.error(f"no such user {opts.args[0]}.")
            return EX_NOUSER
        name, home = login.name, login.home
    db_path = _resolve(home, (opts.db or ".vacation") + ".db")
    msg_path = _resolve(home, opts.msg or ".vacation.msg")
    try:
        memory = ReplyMemory(db_path)
    except ReplyMemoryError as exc:
        io.error(str(exc))
        return EX_DATAERR
    with memory:
        return _run(opts, io, memory, name, msg_path, submit, host_name, clock, rate_limit)


def _run(
    opts: Options,
    io: _Io,
    memory: ReplyMemory,
    name: str,
    msg_path: Path,
    submit: Submit | None,
    host_name: str,
    clock: Callable[[], float],
    rate_limit: RateLimit | None,
) -> int:
    if opts.init:
        memory.clear("")
    if opts.list_db:
        for line in list_lines(memory):
            print(line, file=io.stdout)
        return EX_OK
    if opts.interval is not None:
        memory.set_interval("", opts.interval)
    if opts.init and not opts.exclude:
        return EX_OK
    if opts.exclude:
        for raw in io.stdin:
            key = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace").strip()
            if key:
                memory.exclude("", key)
        return EX_OK
    try:
        message = read_incoming(io.stdin)
    except BadFromLine as exc:
        io.error(f"{exc}.")
        return EX_DATAERR
    names = frozenset([name, *opts.aliases])
    user = VacationUser(
        name,
        frozenset(n.lower() for n in names if "@" in n),
        frozenset(n for n in names if "@" not in n),
        f"{name}@{host_name}",
    )
    sender = opts.sender or message.from_line
    if not sender:
        if not opts.always and not addressed_to(message, user.addresses, user.names):
            io.note("not addressed to the user")
            return EX_OK
        io.error('no initial "From " line.')
        return EX_DATAERR
    stored = memory.interval("")
    settings = VacationSettings(
        enabled=True, interval=DEFAULT_INTERVAL if stored is None else stored
    )
    now = clock()
    decision = should_reply(
        message, sender, user, settings, memory, now,
        check_recipients=not opts.always, rate_limit=rate_limit, memory_user="",
    )  # fmt: skip
    io.note(decision.reason)
    if not decision.reply:
        return EX_OK
    try:
        template = msg_path.read_bytes()
    except OSError:
        shown = (
            str(msg_path) if opts.msg and os.path.isabs(opts.msg) else f"~{name}/{msg_path.name}"
        )
        io.error(f"no {shown} file.")
        return EX_NOINPUT
    reply = build_file_reply(
        template, message, to=sender, from_address=f"{name}@{host_name}", now=now,
        host_name=host_name,
    )  # fmt: skip
    if submit is None:
        io.error("cannot send the reply: no mail submission is configured")
        return EX_UNAVAILABLE
    envelope = "" if opts.return_addr in (None, "<>") else str(opts.return_addr)
    try:
        submit(envelope, [sender], reply)
    except Exception as exc:  # the submitter's failure must not lose the decision
        io.error(f"cannot send the reply: {exc}")
        return EX_TEMPFAIL
    memory.record("", sender, now)
    memory.note_sent(now)
    return EX_OK
