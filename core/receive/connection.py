"""A byte stream for one SMTP session: bounded line reads, buffered replies, STARTTLS.

``SmtpConnection`` is an ``asyncio.Protocol`` that owns the input buffer itself,
so the session can (a) read lines with a hard length limit that never lets a
peer grow memory, (b) flush replies only when no complete command is waiting
(PIPELINING answered in one write), and (c) throw away plaintext that was
pipelined behind STARTTLS before the TLS handshake (CVE-2024-34083).

The same class serves ``-bs`` mode, where input is a read pipe and output a
separate write pipe.

On a socket it is a ``BufferedProtocol``: the transport reads into one scratch
buffer shared by every connection of the process (reads and their delivery
happen back to back on the loop's thread), so no read allocates a fresh
256 KiB object -- which malloc would map and unmap each time.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

HIGH_WATER = 256 * 1024
_SCRATCH = memoryview(bytearray(64 * 1024))


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


class SmtpConnection(asyncio.BufferedProtocol):
    """Buffered, flow-controlled byte stream over an asyncio transport."""

    def __init__(self, on_connect: Callable[[SmtpConnection], None] | None = None) -> None:
        self._on_connect = on_connect
        self._buffer = bytearray()
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None  # fires at (or before) the deadline
        self._loop: asyncio.AbstractEventLoop | None = None
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
        self._loop = asyncio.get_running_loop()
        # Duck-typed: a read pipe (-bs) has no write(); other loops' transports need not
        # derive from asyncio's classes.
        self._transport = cast(asyncio.Transport, transport)
        if hasattr(transport, "write"):
            self._out = cast(asyncio.WriteTransport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = (str(peer[0]), int(peer[1]))
        local = transport.get_extra_info("sockname")
        if isinstance(local, tuple):
            self.local = (str(local[0]), int(local[1]))
        if self._on_connect is not None:
            callback, self._on_connect = self._on_connect, None
            callback(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _SCRATCH

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(_SCRATCH[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
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
        self._cancel_timer()
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
    def set_deadline(self, seconds: float | None) -> None:
        """Every read from now on must finish within ``seconds`` (None: no deadline).

        ``TimeoutError`` once it passes; a ``readline`` with its own timeout
        replaces this deadline for that line.
        """
        if seconds is None:
            self._deadline = None
        else:
            self._deadline = self._clock().time() + seconds

    def _clock(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait_for_data(self) -> None:
        self.flush()
        loop = self._clock()
        self._waiter = loop.create_future()
        deadline = self._deadline
        if deadline is not None:
            if deadline <= loop.time():
                raise TimeoutError
            # One timer serves many waits: it is only replaced when it would fire too late.
            if self._timer is None or self._timer.when() > deadline:
                self._cancel_timer()
                self._timer = loop.call_at(deadline, self._on_timer)
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _on_timer(self) -> None:
        """The timer is due: fail the wait if its deadline has passed, else wait on."""
        self._timer = None
        waiter, deadline = self._waiter, self._deadline
        if waiter is None or waiter.done() or deadline is None:
            return  # nothing is waiting under a deadline; the next wait arms a timer
        loop = self._clock()
        if loop.time() >= deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._timer = loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

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
        self._deadline = self._clock().time() + timeout
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
        self._cancel_timer()
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
