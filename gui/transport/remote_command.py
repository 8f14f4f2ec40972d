"""The command line run on the remote host, built from fixed parts with ``shlex.quote``.

The SSH exec request is one string that the remote login shell interprets, so every
part -- the program candidates, ``-C`` with the remote config path, ``-O`` overrides --
is quoted with ``shlex.quote``; nothing the user typed is ever interpolated raw.  The
command is a fixed POSIX ``sh`` script (:data:`LAUNCHER`) that receives the candidates
as arguments, takes the first one ``command -v`` finds (``~/`` at the start means the
remote user's home), announces it on standard error and ``exec``s it with the remaining
arguments.  When none exists it says so on standard error and exits 127, which the
transport turns into "postroom-mta not found on host X (looked for ...)" instead of a
protocol error.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

LAUNCHER = (
    'n=$1; shift; i=0; prog=""; '
    'while [ "$i" -lt "$n" ]; do c=$1; shift; i=$((i+1)); '
    'case $c in "~/"*) c="$HOME/${c#"~/"}";; esac; '
    'if [ -z "$prog" ] && command -v "$c" >/dev/null 2>&1; then prog=$(command -v "$c"); fi; '
    "done; "
    'if [ -z "$prog" ]; then echo "postroom-rpc: not-found" >&2; exit 127; fi; '
    'echo "postroom-rpc: starting $prog" >&2; exec "$prog" "$@"'
)
STARTING = "postroom-rpc: starting "
NOT_FOUND = "postroom-rpc: not-found"
NOT_FOUND_STATUS = 127

DEFAULT_PROGRAMS = (
    "postroom-mta",
    "/usr/sbin/postroom-mta",
    "/usr/bin/postroom-mta",
    "/usr/local/bin/postroom-mta",
    "~/.local/bin/postroom-mta",
)


@dataclass(frozen=True)
class RemoteCommand:
    """What to start on the remote host: the first of ``programs`` found, with ``args``.

    ``config`` becomes ``-C <config>`` and each of ``overrides`` ``-O <override>``.
    """

    programs: tuple[str, ...] = DEFAULT_PROGRAMS
    args: tuple[str, ...] = ("--rpc",)
    config: str | None = None
    overrides: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        """The argument vector after the program (``--rpc -C ... -O ...``)."""
        extra = list(self.args)
        if self.config is not None:
            extra += ["-C", self.config]
        for override in self.overrides:
            extra += ["-O", override]
        return extra

    def command_line(self) -> str:
        """The exec request's string: ``sh -c LAUNCHER postroom-rpc N prog... args...``."""
        if not self.programs:
            raise ValueError("no program to start")
        for part in (*self.programs, *self.argv()):
            if "\0" in part or "\n" in part or "\r" in part:
                raise ValueError(f"a remote command part contains a line break or NUL: {part!r}")
        words = ["sh", "-c", LAUNCHER, "postroom-rpc", str(len(self.programs))]
        words += [*self.programs, *self.argv()]
        return " ".join(shlex.quote(word) for word in words)
