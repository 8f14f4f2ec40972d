"""Loopback peers for the delivery tests: a tiny DNS server and a scripted SMTP responder.

``DnsServer`` answers A/AAAA/MX queries over UDP on 127.0.0.1 from a table
the test defines (unknown names get NXDOMAIN, known names without the asked
type an empty NOERROR answer).  ``Responder`` is a small asyncio SMTP server
in a thread whose replies are set per command, that can stall before the
greeting or after the final dot, and that records what it received.
Nothing here uses the system resolver or leaves loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class DnsServer:
    """A UDP DNS server on 127.0.0.1 answering from ``records``."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = {
            (n.lower().rstrip(".") + ".", t.upper()): v for (n, t), v in records.items()
        }
        self.names = {name for name, _ in self.records}
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            if name not in self.names:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rdtype) in self.records:
                response.answer.append(
                    dns.rrset.from_text(name, 60, "IN", rdtype, *self.records[(name, rdtype)])
                )
            self.sock.sendto(response.to_wire(), peer)

    def resolver(self) -> dns.asyncresolver.Resolver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.lifetime = 5.0
        return resolver

    def close(self) -> None:
        self.sock.close()
        self._thread.join(timeout=5)


@dataclass
class Script:
    """How the responder answers."""

    greeting: str | None = "220 responder.test ESMTP ready"
    ehlo: list[str] = field(default_factory=lambda: ["250-responder.test", "250 8BITMIME"])
    mail: str = "250 2.1.0 Sender ok"
    rcpt: str = "250 2.1.5 Recipient ok"
    data: str = "354 Enter mail"
    final: str = "250 2.0.0 ok queued"
    stall_after_dot: bool = False


class Responder:
    """A scripted SMTP server on 127.0.0.1 (its own event loop in a thread)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.messages: list[bytes] = []
        self.commands: list[str] = []
        self.got_dot = threading.Event()
        self.connected = threading.Event()
        self.loop = asyncio.new_event_loop()
        self._release: asyncio.Event | None = None
        ready = threading.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self._release = asyncio.Event()
            self._server = self.loop.run_until_complete(
                asyncio.start_server(self._session, "127.0.0.1", 0)
            )
            self.port = int(self._server.sockets[0].getsockname()[1])
            ready.set()
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            if self._server is not None:
                self.loop.run_until_complete(self._server.wait_closed())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)

    async def _wait_release(self) -> None:
        assert self._release is not None
        await self._release.wait()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        s = self.script
        self.connected.set()
        try:
            if s.greeting is None:
                await self._wait_release()
                return
            writer.write(s.greeting.encode() + b"\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    return
                text = line.decode(errors="replace").rstrip("\r\n")
                self.commands.append(text)
                verb = text.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    reply = "\r\n".join(s.ehlo)
                elif verb == "MAIL":
                    reply = s.mail
                elif verb == "RCPT":
                    reply = s.rcpt
                elif verb == "DATA":
                    writer.write(s.data.encode() + b"\r\n")
                    if not s.data.startswith("354"):
                        continue
                    body = bytearray()
                    while True:
                        chunk = await reader.readline()
                        if not chunk or chunk == b".\r\n":
                            break
                        body += chunk
                    self.messages.append(bytes(body))
                    self.got_dot.set()
                    if s.stall_after_dot:
                        await self._wait_release()
                        return
                    reply = s.final
                elif verb == "QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    return
                else:
                    reply = "250 2.0.0 ok"
                writer.write(reply.encode() + b"\r\n")
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()

    def close(self) -> None:
        def stop() -> None:
            if self._release is not None:
                self._release.set()
            if self._server is not None:
                self._server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self._thread.join(timeout=5)
        self.loop.close()


@contextlib.contextmanager
def responder(script: Script) -> Iterator[Responder]:
    server = Responder(script)
    try:
        yield server
    finally:
        server.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
