"""The ``-X`` traffic log: every SMTP line read and written, in Sendmail's format.

Each line is ``<pid> <<< text`` for input and ``<pid> >>> text`` for output,
the pid zero-padded to five digits (SENDMAIL.md §6.3). AUTH exchanges are
written as ``<redacted>`` so credentials never reach the log.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


class TrafficLog:
    """Appends traffic lines to one file, shared by every session of a process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "ab", buffering=0)

    def _prefix(self) -> bytes:
        return b"%05d " % os.getpid()

    def read(self, line: bytes) -> None:
        """Record one line received from the peer (no terminator)."""
        self._file.write(self._prefix() + b"<<< " + line + b"\n")

    def wrote(self, data: bytes) -> None:
        """Record output; ``data`` may hold several CRLF-terminated lines."""
        lines = data.split(b"\r\n")
        if lines and lines[-1] == b"":
            lines.pop()
        prefix = self._prefix()
        self._file.write(b"".join(prefix + b">>> " + ln + b"\n" for ln in lines))

    def event(self, text: str) -> None:
        """An ``=== CONNECT host`` / ``=== EXEC argv`` line."""
        self._file.write(self._prefix() + b"=== " + text.encode("utf-8", "replace") + b"\n")

    def close(self) -> None:
        self._file.close()
