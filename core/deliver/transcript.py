"""The session transcript of a job: its ``xf`` file and the ``-v`` output.

While a job is worked on, Sendmail keeps ``xf<id>`` with the error and status
lines that become the "Transcript of session follows" part of a bounce.
:class:`Transcript` writes that file (created ``O_NOFOLLOW``, mode 0600) and,
in verbose mode, the ``-v`` lines to a text stream:

- :meth:`~Transcript.say` -- progress lines (``Running ...``, ``<addr>...
  Connecting to ...``, ``<addr>... Sent (...)``) to the verbose stream only;
- :meth:`~Transcript.note` -- error lines to both;
- :meth:`~Transcript.command` / :meth:`~Transcript.reply` -- the SMTP
  dialogue: every command as ``>>> CMD`` and every reply line verbatim on the
  verbose stream (Sendmail's ``-v``); in the xf only failing exchanges, as
  Sendmail's ``reply()`` does: ``... while talking to <host>:`` once per
  session, the command as ``>>> CMD`` and the reply as ``<<< 550 ...``
  (a 5xx answer to EHLO is not an error).

The text is also kept in memory (bounded) so a DSN can quote it.
:func:`remove_stale_transcripts` deletes ``xf`` files left by a crashed
runner, each only while holding its job's lock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ..logging.traffic import TrafficLog
from ..queue.errors import InvalidQueueIdError
from ..queue.locks import open_locked
from ..queue.qid import check_qid

MAX_KEPT = 64 * 1024


class Transcript:
    """The xf file and verbose stream of one job attempt."""

    def __init__(
        self,
        path: Path | None = None,
        verbose: TextIO | None = None,
        traffic: TrafficLog | None = None,
    ) -> None:
        self.path = path
        self.verbose = verbose
        self.traffic = traffic
        self._lines: list[str] = []
        self._kept = 0
        self._fd: int | None = None
        self._last_command = ""
        self._need_intro = True
        self._host = ""
        if path is not None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            self._fd = os.open(path, flags, 0o600)

    # -- output ---------------------------------------------------------
    def say(self, text: str) -> None:
        """A ``-v`` progress line (not in the xf); with ``-X`` also in the traffic log."""
        if self.traffic is not None and self.verbose is not None:
            self.traffic.wrote(text.encode("utf-8", "surrogateescape"))
        self._show(text)

    def _show(self, text: str) -> None:
        if self.verbose is not None:
            self.verbose.write(text + "\n")
            self.verbose.flush()

    def xf(self, text: str) -> None:
        """A line for the xf (and the bounce) only."""
        for line in text.split("\n"):
            if self._kept < MAX_KEPT:
                self._lines.append(line)
                self._kept += len(line) + 1
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.write(self._fd, (line + "\n").encode("utf-8", "surrogateescape"))

    def note(self, text: str) -> None:
        """An error or status line: xf and verbose stream."""
        self.xf(text)
        self.say(text)

    # -- the SMTP dialogue ------------------------------------------------
    def session(self, host: str) -> None:
        """A new SMTP session with ``host`` starts (its intro line is owed again)."""
        self._host = host
        if self.traffic is not None:
            self.traffic.event(f"CONNECT {host}")
        self._need_intro = True
        self._last_command = ""

    def command(self, line: str) -> None:
        """A command we sent."""
        self._last_command = line
        if self.traffic is not None:
            self.traffic.wrote(_redacted(line).encode("utf-8", "surrogateescape"))
        self._show(">>> " + line)

    def reply(self, line: str) -> None:
        """One reply line we read."""
        failing = line[:1] == "4" or (line[:1] == "5" and not self._last_command.startswith("EHLO"))
        if failing:
            if self._need_intro:
                self.xf(f"... while talking to {self._host}:")
                self._need_intro = False
            if self._last_command:
                self.xf(">>> " + self._last_command)
                self._last_command = ""
            self.xf("<<< " + line)
        if self.traffic is not None:
            self.traffic.read(line.encode("utf-8", "surrogateescape"))
        self._show(line)

    # -- reading back and cleanup ----------------------------------------
    def text(self) -> str:
        """Everything written to the xf so far."""
        return "\n".join(self._lines) + ("\n" if self._lines else "")

    def close(self, *, remove: bool = True) -> None:
        """Close the xf and (by default) remove it; idempotent."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
            if remove and self.path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)


def remove_stale_transcripts(queue_dir: Path, log: Callable[[str], None]) -> list[str]:
    """Remove ``xf`` files whose job is not being worked on; returns the names removed.

    A job's xf is removed only while this process holds the job's control-file
    lock (``qf``, or ``hf`` for a held job); a job that is locked by a runner
    keeps its xf.  An xf with no control file at all is debris.
    """
    removed: list[str] = []
    with os.scandir(queue_dir) as entries:
        names = [e.name for e in entries if e.name.startswith("xf")]
    for name in names:
        qid = name[2:]
        try:
            check_qid(qid)
        except InvalidQueueIdError:
            continue
        controls = [queue_dir / (p + qid) for p in ("qf", "hf", "Qf")]
        present = [c for c in controls if os.path.lexists(c)]
        fds: list[int] = []
        try:
            for control in present:
                fd = open_locked(control)
                if fd is None:
                    break
                fds.append(fd)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(queue_dir / name)
                    removed.append(name)
                    log(f"removed stale transcript {name}")
        finally:
            for fd in fds:
                os.close(fd)
    return removed


def _redacted(line: str) -> str:
    """AUTH lines keep their verb and mechanism only."""
    return (
        " ".join(line.split(" ")[:2]) + " <redacted>" if line.upper().startswith("AUTH ") else line
    )
