"""A loopback SMTP sink for the crash and soak harnesses: records every whole message.

:class:`SmtpSink` listens on 127.0.0.1 (a free port) in its own thread and
event loop.  A message is recorded only after its terminating ``.`` has
arrived, so a sender killed in the middle of DATA leaves no trace here; the
``250`` that follows is what makes the sending MTA count it delivered.  The
reply to RCPT depends on the recipient's domain (:data:`DEFER_DOMAIN` gets
``451``, :data:`BOUNCE_DOMAIN` gets ``550``, anything else ``250``), which
gives the harnesses deferrals and bounces without DNS or a mailertable.

Recorded data is what travelled on the wire, dot-unstuffed, with LF line
ends (as a receiving MTA would store it).  ``connections`` counts sessions,
and ``activity`` is set on every new session (the crash harness uses it to
kill the sender during a queue run).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

DEFER_DOMAIN = "defer.test"
BOUNCE_DOMAIN = "bounce.test"
MAX_LINE = 1 << 20


@dataclass(frozen=True)
class SinkMessage:
    """One message the sink acknowledged."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes  # LF line ends, dot-unstuffed, without the final "."


def rcpt_reply(address: str) -> str:
    """The sink's answer to ``RCPT TO:<address>``."""
    domain = address.rpartition("@")[2].lower()
    if domain == DEFER_DOMAIN:
        return f"451 4.3.0 <{address}>... Try again later"
    if domain == BOUNCE_DOMAIN:
        return f"550 5.1.1 <{address}>... User unknown"
    return f"250 2.1.5 <{address}>... Recipient ok"


def _path(arg: str) -> str:
    """The address inside ``FROM:<...>`` / ``TO:<...>`` (parameters ignored)."""
    start, end = arg.find("<"), arg.find(">")
    return arg[start + 1 : end] if 0 <= start < end else arg.partition(":")[2].strip()


class SmtpSink:
    """A minimal ESMTP server that keeps what it accepts; ``close()`` stops it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[SinkMessage] = []
        self.connections = 0
        self.rcpt_refused = 0
        self.rcpt_deferred = 0
        self.activity = threading.Event()
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self.port = 0
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("SMTP sink did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", 0, limit=MAX_LINE)
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        ready.set()
        self.loop.run_forever()
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def messages(self) -> list[SinkMessage]:
        """A snapshot of every message received so far, in arrival order."""
        with self._lock:
            return list(self._messages)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        self.activity.set()
        sender = ""
        rcpts: list[str] = []
        try:
            writer.write(b"220 sink.test ESMTP loopback sink\r\n")
            while True:
                line = await reader.readline()
                if not line.endswith(b"\n"):
                    return
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                verb, _, arg = text.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    reply = "250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8"
                elif verb == "HELO":
                    reply = "250 sink.test"
                elif verb == "MAIL":
                    sender, rcpts = _path(arg), []
                    reply = "250 2.1.0 Sender ok"
                elif verb == "RCPT":
                    address = _path(arg)
                    reply = rcpt_reply(address)
                    if reply.startswith("250"):
                        rcpts.append(address)
                    elif reply.startswith("4"):
                        self.rcpt_deferred += 1
                    else:
                        self.rcpt_refused += 1
                elif verb == "DATA":
                    if not rcpts:
                        reply = "503 5.0.0 Need RCPT"
                    else:
                        writer.write(b"354 go ahead\r\n")
                        data = await self._data(reader)
                        if data is None:
                            return
                        with self._lock:
                            self._messages.append(SinkMessage(sender, tuple(rcpts), data))
                        reply = "250 2.0.0 stored"
                        rcpts = []
                elif verb == "RSET":
                    sender, rcpts = "", []
                    reply = "250 2.0.0 Reset"
                elif verb == "QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    return
                else:
                    reply = "250 2.0.0 OK"
                writer.write(reply.encode() + b"\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        except asyncio.CancelledError:
            return  # the sink is closing
        finally:
            writer.close()

    @staticmethod
    async def _data(reader: asyncio.StreamReader) -> bytes | None:
        """The DATA content up to ``.``; None when the connection ends before it."""
        body = bytearray()
        while True:
            line = await reader.readline()
            if not line.endswith(b"\n"):
                return None
            if line == b".\r\n":
                return bytes(body)
            if line.startswith(b"."):
                line = line[1:]
            body += line[:-2] + b"\n" if line.endswith(b"\r\n") else line

    def close(self) -> None:
        def stop() -> None:
            if self._server is not None:
                self._server.close()
            self.loop.stop()

        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
