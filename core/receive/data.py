"""Reading the DATA section: strict end-of-data, dot-unstuffing, limits, header split.

End of data is only ``CRLF . CRLF``. A bare LF or bare CR anywhere in the
content marks the message as bad (it is read to the real end and then refused
with ``550 5.5.2``), so the smuggling sequences of BAD-INPUTS B19–B20 can never
split one message into two. Lines longer than 1000 octets and messages over
MaxMessageSize are likewise read to the end, stored no further, and refused.

Lines are handed on with LF endings (Sendmail's df holds the body with LF
line ends); the header section (up to the first empty line) is parsed into
``(name, value)`` pairs for the qf's ``H`` lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .connection import ConnectionClosed, SmtpConnection
from .headers import MAX_HEADER_BYTES, HeaderSplitter

MAX_LINE = 1000  # octets including CRLF (RFC 5321 §4.5.3.1.6)
BLOCK = 256 * 1024  # body octets taken at once on the fast path


@dataclass
class DataResult:
    """What one DATA section turned out to be; ``reply`` is set when it is refused."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0  # octets of the whole message as stored (LF line ends)
    body_size: int = 0
    has_8bit: bool = False
    reply: str | None = None
    log_note: str | None = None
    lines: int = 0


class DataReader:
    """Consumes one DATA section from a connection, feeding body bytes to ``sink``.

    ``sink`` receives body bytes in order; it is not called once the message
    is known to be refused. ``trace`` sees every raw line read (for ``-X``).
    """

    def __init__(
        self,
        conn: SmtpConnection,
        sink: Callable[[bytes], None],
        *,
        max_size: int,
        trace: Callable[[bytes], None] | None = None,
    ) -> None:
        self._conn = conn
        self._sink = sink
        self._max_size = max_size
        self._trace = trace
        self._result = DataResult()
        self._headers = HeaderSplitter()
        self._result.headers = self._headers.headers
        self._pending_body = bytearray()
        self._slow = False

    def _refuse(self, reply: str, note: str) -> None:
        if self._result.reply is None:
            self._result.reply = reply
            self._result.log_note = note

    async def read(self) -> DataResult:
        """Read up to and including the terminating dot; never returns early."""
        result = self._result
        previous = "crlf"  # the CRLF of the DATA command precedes the first line
        while True:
            if previous == "crlf" and self._fast_path_ok():
                block = self._conn.take_lines(BLOCK)
                if block:
                    if self._bulk(block):
                        break
                    continue
            line = await self._conn.readline(MAX_LINE)
            raw = line.data
            if self._trace is not None:
                self._trace(raw)
            if line.ending == "crlf" and previous == "crlf" and raw == b"." and not line.overflow:
                break
            previous = line.ending
            if line.ending == "":
                raise ConnectionClosed
            result.lines += 1
            if line.overflow:
                self._refuse("500 5.5.2 Line too long", "line_too_long")
            if line.ending == "lf":
                self._refuse(
                    "550 5.5.2 Message contains bare LF (line ends must be CRLF)", "bare_lf"
                )
            if b"\r" in raw:
                self._refuse("550 5.5.2 Message contains bare CR", "bare_cr")
            if result.reply is not None:
                continue
            if raw.startswith(b"."):
                raw = raw[1:]
            self._store_line(raw)
        if result.reply is None:
            self._flush_body()
        return result

    def _fast_path_ok(self) -> bool:
        return (
            self._trace is None
            and not self._slow
            and self._result.reply is None
            and not self._headers.in_headers
        )

    def _bulk(self, block: bytes) -> bool:
        """Take whole CRLF lines of body at once; True when the end of data was among them.

        Anything unusual (bare CR or LF, an overlong line) puts the block back and
        leaves the rest of the message to the line-by-line path, which refuses it.
        """
        end = (b"\r\n" + block).find(b"\r\n.\r\n")
        body = block if end < 0 else block[:end]
        crlf = body.count(b"\r\n")
        too_long = body and max(map(len, body.split(b"\n"))) + 1 > MAX_LINE
        if body.count(b"\n") != crlf or body.count(b"\r") != crlf or too_long:
            self._conn.unread(block)
            self._slow = True
            return False
        if end >= 0:
            self._conn.unread(block[end + 3 :])
        data = body.replace(b"\r\n", b"\n")
        if data.startswith(b"."):
            data = data[1:]
        data = data.replace(b"\n.", b"\n")
        result = self._result
        result.lines += crlf
        result.size += len(data)
        if self._max_size and result.size > self._max_size:
            self._refuse(
                f"552 5.3.4 Message size exceeds fixed maximum message size ({self._max_size})",
                "too_big",
            )
            return end >= 0
        if not result.has_8bit and not data.isascii():
            result.has_8bit = True
        self._pending_body += data
        result.body_size += len(data)
        if len(self._pending_body) >= 64 * 1024:
            self._flush_body()
        return end >= 0

    def _store_line(self, raw: bytes) -> None:
        result = self._result
        result.size += len(raw) + 1
        if self._max_size and result.size > self._max_size:
            self._refuse(
                f"552 5.3.4 Message size exceeds fixed maximum message size ({self._max_size})",
                "too_big",
            )
            return
        if not result.has_8bit and not raw.isascii():
            result.has_8bit = True
        if self._headers.feed(raw):
            if self._headers.too_large:
                self._refuse(
                    f"552 5.6.0 Headers too large ({MAX_HEADER_BYTES} max)", "headers_too_large"
                )
            return
        self._pending_body += raw
        self._pending_body += b"\n"
        result.body_size += len(raw) + 1
        if len(self._pending_body) >= 64 * 1024:
            self._flush_body()

    def _flush_body(self) -> None:
        if self._pending_body:
            self._sink(bytes(self._pending_body))
            self._pending_body.clear()
