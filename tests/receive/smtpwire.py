"""A raw SMTP client for tests: sends exact bytes, reads whole (multi-line) replies."""

from __future__ import annotations

import socket
import ssl

OPEN: list[Wire] = []


class Wire:
    """One TCP connection to the server under test; every read has a deadline.

    Every Wire is remembered in ``OPEN`` and closed by the test's teardown.
    """

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        timeout: float = 10.0,
        source: str | None = None,
    ) -> None:
        self.sock = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None
        )
        self.buf = b""
        OPEN.append(self)

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line: str) -> str:
        """Send one command with CRLF and return its reply (lines joined by newlines)."""
        self.send(line.encode("utf-8", "surrogateescape") + b"\r\n")
        return self.reply()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; partial data {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def reply(self) -> str:
        lines = []
        while True:
            line = self._line().decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    def greeting(self) -> str:
        return self.reply()

    def starttls(self) -> None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def closed_by_peer(self) -> bool:
        """True when the server has closed the connection (EOF with nothing more to read)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def close(self) -> None:
        self.sock.close()


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()
