"""A small asyncio SMTP client for outgoing mail.

Why our own and not aiosmtplib: a queue runner needs, per command, the
timeout RFC 5321 §4.5.3.2 gives that phase (Sendmail's ``Timeout.initial``,
``.helo``, ``.mail``, ``.rcpt``, ``.datainit``, ``.datablock``,
``.datafinal``, ``.rset``, ``.quit``); real PIPELINING (MAIL, every RCPT and
DATA in one write, replies read afterwards); every command and reply line
handed to an observer as it happens (the ``-v`` dialogue and the ``xf``
transcript, in Sendmail's format); the message streamed from the ``df``
already dot-stuffed; a source address from ClientPortOptions; and
opportunistic STARTTLS that does not verify certificates, as Sendmail does
by default.  aiosmtplib has one timeout per call, no pipelining and no
per-line hook; bending it to all that would take more code than this module.

:class:`SmtpConnection` is one client session.  Every failure is an
:class:`SmtpError`: :class:`SmtpTimeout` (with the phase, e.g. ``client
greeting``), :class:`SmtpClosed` (the server closed or reset the
connection), or :class:`ConnectFailed` (carries the ``errno``).  Replies
are :class:`Reply` objects; a reply never raises by itself.
"""

from __future__ import annotations

import asyncio
import errno as errno_mod
import re
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

MAX_REPLY_LINES = 1000
LINE_LIMIT = 64 * 1024
_ENHANCED = re.compile(r"([245])\.[0-9]{1,3}\.[0-9]{1,3}")


class SmtpError(Exception):
    """A session-level failure; ``errno`` is the system error it stands for."""

    errno = errno_mod.EIO


class ConnectFailed(SmtpError):
    """The TCP connection could not be opened."""

    def __init__(self, err: int, text: str) -> None:
        super().__init__(text)
        self.errno = err


class SmtpTimeout(SmtpError):
    """No answer within the phase's timeout."""

    errno = errno_mod.ETIMEDOUT

    def __init__(self, phase: str) -> None:
        super().__init__(f"timeout during {phase}")
        self.phase = phase


class SmtpClosed(SmtpError):
    """The server closed or reset the connection."""

    errno = errno_mod.ECONNRESET


@dataclass(frozen=True)
class Reply:
    """One (possibly multi-line) reply; ``lines`` are as received, without CRLF."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The first line, as Sendmail keeps it (``250 2.0.0 ok``)."""
        return self.lines[0] if self.lines else str(self.code)

    @property
    def kind(self) -> int:
        """The first digit: 2, 3, 4 or 5."""
        return self.code // 100

    def enhanced(self) -> str | None:
        """The RFC 3463 status code at the start of the text, if any."""
        m = _ENHANCED.match(self.text[4:])
        if m and m.group(1) == str(self.kind):
            return m.group(0)
        return None

    def message(self, enhanced: bool) -> str:
        """The text after the code (and after the enhanced code when ``enhanced``)."""
        rest = self.text[4:]
        code = self.enhanced() if enhanced else None
        if code:
            rest = rest[len(code) :].lstrip(" ")
        return rest


class Observer(Protocol):
    """Receives the dialogue (see :class:`.transcript.Transcript`)."""

    def command(self, line: str) -> None: ...

    def reply(self, line: str) -> None: ...

    def say(self, text: str) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass(frozen=True)
class Timeouts:
    """Seconds per phase (Sendmail's Timeout.* names)."""

    connect: float = 300.0
    initial: float = 300.0
    helo: float = 300.0
    mail: float = 600.0
    rcpt: float = 3600.0
    datainit: float = 300.0
    datablock: float = 3600.0
    datafinal: float = 3600.0
    rset: float = 300.0
    quit: float = 120.0
    misc: float = 120.0
    starttls: float = 3600.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Timeouts:
        """From ``Config.timeouts`` (unknown keys ignored, missing ones default)."""
        names = cls.__dataclass_fields__
        return cls(**{k: float(v) for k, v in values.items() if k in names})


class SmtpConnection:
    """One outgoing SMTP session."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        host: str,
        address: str,
        port: int,
        timeouts: Timeouts,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host
        self.address = address
        self.port = port
        self.timeouts = timeouts
        self.observer: Observer | None = None
        self.extensions: dict[str, str] = {}
        self.esmtp = False
        self.tls = False
        self.helo_reply: Reply | None = None
        self.dirty = False  # a transaction was started and not finished
        self._closed = False

    @classmethod
    async def connect(
        cls,
        host: str,
        address: str,
        port: int,
        timeouts: Timeouts,
        *,
        source: tuple[str, int] | None = None,
    ) -> SmtpConnection:
        """Open a TCP connection; raises :class:`ConnectFailed`."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(address, port, local_addr=source, limit=LINE_LIMIT),
                timeouts.connect,
            )
        except TimeoutError as exc:
            raise ConnectFailed(errno_mod.ETIMEDOUT, "connect timed out") from exc
        except OSError as exc:
            err = exc.errno if exc.errno is not None else errno_mod.EIO
            raise ConnectFailed(err, exc.strerror or str(exc)) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, host, address, port, timeouts)

    @property
    def closed(self) -> bool:
        return self._closed or self.writer.is_closing()

    # -- lines ------------------------------------------------------------
    def _say_command(self, line: str) -> None:
        if self.observer is not None:
            self.observer.command(line)

    def write_command(self, line: str) -> None:
        """Queue one command line (no CRLF) for sending."""
        self._say_command(line)
        self.writer.write(line.encode("utf-8", "surrogateescape") + b"\r\n")

    async def flush(self, timeout: float, phase: str) -> None:
        try:
            await asyncio.wait_for(self.writer.drain(), timeout)
        except TimeoutError as exc:
            self.abort()
            raise SmtpTimeout(phase) from exc
        except (ConnectionError, OSError) as exc:
            self.abort()
            raise SmtpClosed(f"Connection reset by {self.host}") from exc

    async def read_reply(self, timeout: float, phase: str) -> Reply:
        """Read one reply (all its lines)."""
        lines: list[str] = []
        code = 0
        for _ in range(MAX_REPLY_LINES):
            try:
                raw = await asyncio.wait_for(self.reader.readline(), timeout)
            except TimeoutError as exc:
                self.abort()
                raise SmtpTimeout(phase) from exc
            except (ConnectionError, OSError, ValueError) as exc:
                self.abort()
                raise SmtpClosed(f"Connection reset by {self.host}") from exc
            if not raw:
                self.abort()
                raise SmtpClosed(f"Connection reset by {self.host}")
            line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
            if self.observer is not None:
                self.observer.reply(line)
            if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in ("", " ", "-"):
                continue  # Sendmail ignores improperly formatted lines
            lines.append(line)
            code = int(line[:3])
            if line[3:4] != "-":
                return Reply(code, tuple(lines))
        self.abort()
        raise SmtpClosed(f"Connection reset by {self.host}")

    async def command(self, line: str, timeout: float, phase: str) -> Reply:
        """Send one command and read its reply."""
        self.write_command(line)
        await self.flush(timeout, phase)
        return await self.read_reply(timeout, phase)

    # -- session steps ----------------------------------------------------
    async def greeting(self) -> Reply:
        reply = await self.read_reply(self.timeouts.initial, "client greeting")
        self.esmtp = "ESMTP" in " ".join(reply.lines)
        return reply

    async def hello(self, name: str) -> Reply:
        """EHLO, falling back to HELO on a 5xx; records the extensions."""
        reply = await self.command(f"EHLO {name}", self.timeouts.helo, "client EHLO")
        if reply.kind == 5:
            self.esmtp = False
            reply = await self.command(f"HELO {name}", self.timeouts.helo, "client HELO")
            self.extensions = {}
        elif reply.kind == 2:
            self.esmtp = True
            self.extensions = {}
            for line in reply.lines[1:]:
                word, _, value = line[4:].partition(" ")
                self.extensions[word.upper()] = value
        self.helo_reply = reply
        return reply

    def supports(self, name: str) -> bool:
        return name.upper() in self.extensions

    async def starttls(self, context: ssl.SSLContext) -> Reply:
        """Send STARTTLS; on 220, upgrade the stream (raises on a failed handshake)."""
        reply = await self.command("STARTTLS", self.timeouts.misc, "client STARTTLS")
        if reply.kind != 2:
            return reply
        server_name = None if _is_address(self.host.strip("[]")) else self.host.rstrip(".")
        try:
            await asyncio.wait_for(
                self.writer.start_tls(context, server_hostname=server_name),
                self.timeouts.starttls,
            )
        except TimeoutError as exc:
            self.abort()
            raise SmtpTimeout("STARTTLS") from exc
        except (ssl.SSLError, ConnectionError, OSError) as exc:
            self.abort()
            raise SmtpClosed(f"TLS handshake failed with {self.host}: {exc}") from exc
        self.tls = True
        return reply

    async def send_message(self, chunks: Iterable[bytes]) -> Reply:
        """After a 354: stream the dot-stuffed message and the final dot; the final reply."""
        try:
            for chunk in chunks:
                self.writer.write(chunk)
                await self.flush(self.timeouts.datablock, "client DATA blocks")
            self.writer.write(b".\r\n")
        except (ConnectionError, OSError) as exc:
            self.abort()
            raise SmtpClosed(f"Connection reset by {self.host}") from exc
        if self.observer is not None:
            self.observer.say(">>> .")
        await self.flush(self.timeouts.datablock, "client DATA blocks")
        return await self.read_reply(self.timeouts.datafinal, "client DATA status")

    async def rset(self) -> bool:
        """RSET; False (and the connection closed) if it fails."""
        try:
            reply = await self.command("RSET", self.timeouts.rset, "client RSET")
        except SmtpError:
            return False
        if reply.kind != 2:
            await self.quit()
            return False
        self.dirty = False
        return True

    async def quit(self) -> None:
        """QUIT and close; errors are ignored (the work is done)."""
        if self.closed:
            self.abort()
            return
        try:
            await self.command("QUIT", self.timeouts.quit, "client QUIT")
        except SmtpError:
            pass
        self.abort()

    async def wait_closed(self) -> None:
        """Wait until the transport is really closed (after :meth:`abort`/:meth:`quit`)."""
        self.abort()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), self.timeouts.quit)
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            pass

    def abort(self) -> None:
        """Close the socket without QUIT."""
        if not self._closed:
            self._closed = True
            self.writer.close()


def _is_address(text: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        return False
    return True


def client_tls_context() -> ssl.SSLContext:
    """Opportunistic TLS: encrypt, but verify nothing (Sendmail's default client)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
