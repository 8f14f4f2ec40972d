"""A small blocking SMTP client for looking at our own daemon from the server side.

Owns :class:`SmtpConversation` (connect, read the greeting, send one command and read
its possibly multi-line reply, quit) and :func:`listener_target` (where to connect for a
DaemonPortOptions listener: its address, or loopback for a wildcard one).  The RPC runs
on the mail server itself -- locally or at the far end of SSH -- so these connections
stay on the machine.  Every read has a deadline and a size limit; nothing here retries.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from ..policy.ports import DaemonPort

CONNECT_TIMEOUT = 5.0
REPLY_TIMEOUT = 10.0
MAX_LINE = 2048
MAX_LINES = 100


class ProbeError(Exception):
    """The conversation failed; the message says where and why."""


@dataclass(frozen=True)
class Reply:
    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The reply as the client saw it, lines joined with ``" / "``."""
        return " / ".join(self.lines)


def listener_target(port: DaemonPort) -> tuple[str, int] | None:
    """(host, port) to reach ``port`` from this machine; None for a local-socket family."""
    if port.family not in ("inet", "inet6"):
        return None
    if port.addr is not None:
        return port.addr, port.port
    return ("::1" if port.family == "inet6" else "127.0.0.1"), port.port


class SmtpConversation:
    """One SMTP connection; use as a context manager."""

    def __init__(self, host: str, port: int, *, reply_timeout: float = REPLY_TIMEOUT) -> None:
        self.host = host
        self.port = port
        self.reply_timeout = reply_timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> SmtpConversation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self, timeout: float = CONNECT_TIMEOUT) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise ProbeError(self._why("cannot connect", exc)) from None

    def greeting(self) -> Reply:
        return self._read_reply()

    def command(self, line: str) -> Reply:
        if self._sock is None:
            raise ProbeError("not connected")
        try:
            self._sock.sendall(line.encode("ascii") + b"\r\n")
        except OSError as exc:
            raise ProbeError(self._why(f"sending {line.split()[0]} failed", exc)) from None
        return self._read_reply()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.sendall(b"QUIT\r\n")
            except OSError:
                pass
            self._sock.close()
            self._sock = None

    def _why(self, what: str, exc: OSError) -> str:
        reason = exc.strerror or str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = "no answer in time"
        return f"{what} ({self.host} port {self.port}): {reason}"

    def _read_line(self, deadline: float) -> str:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProbeError(f"no complete reply in time from {self.host} port {self.port}")
            self._sock.settimeout(remaining)
            try:
                data = self._sock.recv(4096)
            except OSError as exc:
                raise ProbeError(self._why("reading the reply failed", exc)) from None
            if not data:
                raise ProbeError(f"{self.host} port {self.port} closed the connection")
            self._buffer += data
            if len(self._buffer) > MAX_LINE and b"\n" not in self._buffer[:MAX_LINE]:
                raise ProbeError(f"{self.host} port {self.port} sent an overlong line")
        raw, _, self._buffer = self._buffer.partition(b"\n")
        return raw.rstrip(b"\r").decode("utf-8", "replace")

    def _read_reply(self) -> Reply:
        if self._sock is None:
            raise ProbeError("not connected")
        deadline = time.monotonic() + self.reply_timeout
        lines: list[str] = []
        while len(lines) < MAX_LINES:
            line = self._read_line(deadline)
            lines.append(line)
            if len(line) < 3 or not line[:3].isdigit():
                raise ProbeError(f"{self.host} port {self.port} does not speak SMTP: {line!r:.80}")
            if len(line) == 3 or line[3] != "-":
                return Reply(int(line[:3]), tuple(lines))
        raise ProbeError(f"{self.host} port {self.port} sent more than {MAX_LINES} reply lines")
