"""The mail log: one line per event, gated by LogLevel, in Sendmail's style.

Lines look like Sendmail's (``<qid>: from=<a@b>, size=12, ...``) so existing
log tools work. They go to ``LogFile`` when the configuration names one, else
to syslog's mail facility when ``/dev/log`` exists, else to standard error.
Issue "MTA core, part 4" grows the per-level event catalogue; the levels used
here follow SENDMAIL.md §6.1 (5 = from= lines, 6 = VRFY/EXPN, 12 = connections,
15 = every command).
"""

from __future__ import annotations

import os
import socket
import sys
import syslog
import time
from pathlib import Path
from typing import TextIO


class MailLog:
    """Writes log events at or below the configured LogLevel."""

    def __init__(self, level: int, log_file: Path | None = None, ident: str = "postroom-mta"):
        self.level = level
        self._ident = ident
        self._host = socket.gethostname().split(".")[0]
        self._file: TextIO | None = None
        self._syslog = False
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(log_file, "a", encoding="utf-8", buffering=1)
        elif os.path.exists("/dev/log"):
            syslog.openlog(ident, syslog.LOG_PID, syslog.LOG_MAIL)
            self._syslog = True

    def enabled(self, level: int) -> bool:
        return level <= self.level

    def log(self, level: int, text: str, qid: str | None = None) -> None:
        """Log ``text`` (prefixed by ``qid:`` when given) if ``level`` is enabled."""
        if level > self.level:
            return
        clean = text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)
        message = f"{qid}: {clean}" if qid else clean
        if self._syslog:
            syslog.syslog(syslog.LOG_INFO if level > 1 else syslog.LOG_CRIT, message)
            return
        stamp = time.strftime("%b %d %H:%M:%S")
        line = f"{stamp} {self._host} {self._ident}[{os.getpid()}]: {message}\n"
        (self._file or sys.stderr).write(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
