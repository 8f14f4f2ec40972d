"""One real daemon shared by the SMTP fuzz targets, and a reply-checking SMTP wire.

``FuzzDaemon`` runs ``postroom-mta -bD`` (no queue runs) and collects its
standard output and error in a thread, so a target can assert that an example
left no traceback.  ``FuzzWire`` sends raw bytes and reads whole replies,
checking every reply line's shape as it goes (:func:`check_reply`).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

from tests.support.mta import MtaSetup, RunningMta

REPLY_LINE = re.compile(rb"^([2-5][0-9][0-9])([ -])([^\r\n\x00]*)$")
MAX_REPLY_LINE = 512


class FuzzDaemon:
    """``postroom-mta -bD`` for fuzzing; ``output()`` is everything it printed so far."""

    def __init__(self, base: Path) -> None:
        self.setup = MtaSetup(base, options={"MaxConnectionsPerHost": 50})
        self.setup.write()
        (self.setup.queue_dir / ".hoststat").mkdir(exist_ok=True)
        self.mta = RunningMta(self.setup).start()
        assert self.mta.proc is not None and self.mta.proc.stdout is not None
        self._chunks: list[bytes] = []
        fd = self.mta.proc.stdout.fileno()
        self._reader = threading.Thread(target=self._read, args=(fd,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def output(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")

    @property
    def port(self) -> int:
        return self.mta.port()

    def alive(self) -> bool:
        return self.mta.proc is not None and self.mta.proc.poll() is None

    def close(self) -> None:
        self.mta.stop()
        self._reader.join(timeout=10)


def check_reply(lines: list[bytes]) -> int:
    """The code of a well-formed (multi-line) reply; AssertionError otherwise."""
    assert lines, "empty reply"
    codes = set()
    for index, line in enumerate(lines):
        assert len(line) + 2 <= MAX_REPLY_LINE, f"reply line of {len(line) + 2} octets"
        match = REPLY_LINE.match(line)
        assert match is not None, f"malformed reply line {line!r}"
        last = index == len(lines) - 1
        assert (match.group(2) == b" ") == last, f"bad continuation in {lines!r}"
        codes.add(match.group(1))
    assert len(codes) == 1, f"mixed codes in one reply {lines!r}"
    return int(codes.pop())


class FuzzWire:
    """A raw SMTP connection whose every reply is checked."""

    def __init__(self, port: int, timeout: float = 15.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buf = b""
        self.closed_by_server = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> tuple[int, list[bytes]]:
        """The next reply (code, lines); ConnectionError when the server closed first."""
        lines: list[bytes] = []
        while True:
            while b"\r\n" not in self._buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.closed_by_server = True
                    raise ConnectionError(f"closed by the server after {lines!r} + {self._buf!r}")
                self._buf += chunk
            line, _, self._buf = self._buf.partition(b"\r\n")
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return check_reply(lines), lines

    def expect_close(self) -> None:
        """After 221 or 421: the server must close, with nothing more to say."""
        rest = self._buf
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        assert rest == b"", f"data after the closing reply: {rest!r}"

    def close(self) -> None:
        self.sock.close()
