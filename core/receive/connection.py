"""A byte stream for one SMTP session: bounded line reads, buffered replies, STARTTLS.

``SmtpConnection`` is an ``asyncio.Protocol`` that owns the input buffer itself,
so the session can (a) read lines with a hard length limit that never lets a
peer grow memory, (b) flush replies only when no complete command is waiting
(PIPELINING answered in one write), and (c) throw away plaintext that was
pipelined behind STARTTLS before the TLS handshake (CVE-2024-34083).

The same class serves ``-bs`` mode, where input is a read pipe and output a
separate write pipe.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass

HIGH_WATER = 256 * 1024


class ConnectionClosed(Exception):
    """The peer closed the connection (or it was reset) before a full line arrived."""


@dataclass(frozen=True)
class Line:
    """One input line without its terminator.

    ``ending`` is ``"crlf"``, ``"lf"`` (bare LF) or ``""`` at end of input;
    ``overflow`` is True when the line was longer than the limit (the excess
    was read and discarded, ``data`` holds only its start).
    """

    data: bytes
    ending: str
    overflow: bool = False


class WritePipeProtocol(asyncio.Protocol):
    """Forwards flow control of a separate output pipe to its ``SmtpConnection``."""

    def __init__(self, owner: SmtpConnection) -> None:
        self._owner = owner

    def pause_writing(self) -> None:
        self._owner.pause_writing()

    def resume_writing(self) -> None:
        self._owner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.connection_lost(exc)


class SmtpConnection(asyncio.Protocol):
    """Buffered, flow-controlled byte stream over an asyncio transport."""

    def __init__(self, on_connect: Callable[[SmtpConnection], None] | None = None) -> None:
        self._on_connect = on_connect
        self._buffer = bytearray()
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._deadline: float | None = None
        self._transport: asyncio.Transport | None = None
        self._out: asyncio.WriteTransport | None = None
        self._pending = bytearray()
        self._paused = False
        self._closed = False
        self._can_write = asyncio.Event()
        self._can_write.set()
        self.peer: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None

    # -- asyncio.Protocol ------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport | asyncio.ReadTransport)
        self._transport = transport  # type: ignore[assignment]
        if isinstance(transport, asyncio.WriteTransport):
            self._out = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = (str(peer[0]), int(peer[1]))
        local = transport.get_extra_info("sockname")
        if isinstance(local, tuple):
            self.local = (str(local[0]), int(local[1]))
        if self._on_connect is not None:
            callback, self._on_connect = self._on_connect, None
            callback(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > HIGH_WATER and not self._paused and self._transport:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._closed = True
        self._can_write.set()
        self._wake()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def set_output(self, transport: asyncio.WriteTransport) -> None:
        """Send output through another transport (the write pipe of ``-bs`` mode)."""
        self._out = transport

    # -- reading ---------------------------------------------------------
    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait_for_data(self) -> None:
        self.flush()
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        timer = None
        if self._deadline is not None:
            delay = self._deadline - loop.time()
            if delay <= 0:
                raise TimeoutError
            timer = loop.call_later(delay, self._expire, self._waiter)
        try:
            await self._waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    @staticmethod
    def _expire(waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError())

    def _consume(self, n: int) -> bytes:
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        if self._paused and len(self._buffer) < HIGH_WATER // 2 and self._transport:
            self._paused = False
            self._transport.resume_reading()
        return data

    async def readline(self, limit: int, timeout: float | None = None) -> Line:
        """Read one line of at most ``limit`` octets (terminator included).

        A longer line is drained to its end and returned with ``overflow``; the
        buffer never holds more than ``HIGH_WATER`` plus one socket read.
        ``TimeoutError`` when the whole line has not arrived within ``timeout``.
        """
        if timeout is None:
            return await self._readline(limit)
        self._deadline = asyncio.get_running_loop().time() + timeout
        try:
            return await self._readline(limit)
        finally:
            self._deadline = None

    async def _readline(self, limit: int) -> Line:
        kept = b""
        overflow = False
        while True:
            idx = self._buffer.find(b"\n")
            if idx >= 0:
                raw = self._consume(idx + 1)
                crlf = raw.endswith(b"\r\n")
                body = raw[:-2] if crlf else raw[:-1]
                if overflow or len(raw) > limit:
                    return Line((kept + body)[:limit], "crlf" if crlf else "lf", True)
                return Line(body, "crlf" if crlf else "lf")
            if len(self._buffer) > limit:
                # Keep the first part for the error message, drop the rest.
                chunk = self._consume(len(self._buffer))
                if not overflow:
                    kept = chunk[:limit]
                overflow = True
                continue
            if self._eof:
                if self._buffer or kept:
                    rest = self._consume(len(self._buffer))
                    return Line((kept + rest)[:limit], "", overflow)
                raise ConnectionClosed
            await self._wait_for_data()

    def take_lines(self, limit: int) -> bytes:
        """Everything buffered up to the last complete line (at most ``limit`` octets); no wait."""
        end = self._buffer.rfind(b"\n", 0, limit)
        return self._consume(end + 1) if end >= 0 else b""

    def unread(self, data: bytes) -> None:
        """Put ``data`` back in front of the buffer (it was taken but not used)."""
        if data:
            self._buffer[:0] = data

    def has_line(self) -> bool:
        """True when a complete line is already buffered (a pipelined command)."""
        return b"\n" in self._buffer

    def discard_buffer(self) -> int:
        """Throw away everything buffered; returns how many octets were dropped."""
        n = len(self._buffer)
        self._consume(n)
        return n

    # -- writing ---------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Queue output; it is sent by ``flush`` (called before every wait for input)."""
        self._pending += data

    def flush(self) -> None:
        if self._pending and self._out is not None and not self._out.is_closing():
            self._out.write(bytes(self._pending))
        self._pending.clear()

    async def drain(self) -> None:
        """Flush and wait until the transport's own buffer has room again."""
        self.flush()
        if not self._closed:
            await self._can_write.wait()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self.flush()
        if self._out is not None:
            self._out.close()
        if self._transport is not None and self._transport is not self._out:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- TLS -------------------------------------------------------------
    @property
    def tls_active(self) -> bool:
        return self._transport is not None and (
            self._transport.get_extra_info("ssl_object") is not None
        )

    async def start_tls(self, context: ssl.SSLContext, timeout: float) -> None:
        """Upgrade to TLS as server; anything pipelined in plaintext is discarded first."""
        self.discard_buffer()
        self.flush()
        transport = self._transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        new = await loop.start_tls(
            transport,
            self,
            context,
            server_side=True,
            ssl_handshake_timeout=timeout,
        )
        if new is None:
            raise ConnectionClosed
        self._transport = new
        self._out = new
