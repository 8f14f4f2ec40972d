"""Test messages for the crash and soak harnesses, an exact SMTP client, and the equality rule.

:func:`make_message` builds a reproducible message whose body exercises what
an MTA transforms: lines starting with ``.`` (dot-stuffing), ``From `` and
``>From `` (mbox quoting), empty and 998-octet lines, trailing blanks, UTF-8.
Every message carries its own ``X-Crash-Token`` header and a ``Message-Id``,
``Date`` and ``From``, so the MTA has no reason to add any of those.

:class:`SmtpClient` speaks SMTP over a plain socket and reports, for every
message, whether the terminating dot was sent and what the reply was: the
harness needs to tell "acknowledged" (a ``250`` with the queue id), "in doubt"
(dot sent, no reply) and "never complete" (the dot was never sent) apart.

The equality rule (:func:`compare`) -- what a stored or delivered copy must
look like to count as the message that was sent:

- headers: the MTA may add ``Return-Path:``, ``Received:`` and (local
  delivery) ``Delivered-To:``, and only *before* the first header the client
  sent; after removing that prefix the header list must equal the sent one
  exactly (names, order, values, folding kept as ``\\n`` + whitespace);
- body: equal to the sent body with CRLF turned into LF and dot-stuffing
  removed -- byte for byte; in an mbox each body line starting with ``From ``
  gets one ``>`` (Postroom's mboxo quoting, applied to the sent body before
  comparing, never undone on the stored one) and the message ends with one
  extra empty line;
- an mbox message starts with a ``From <sender> <date>`` line (the envelope
  sender, any date).
"""

from __future__ import annotations

import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass

TOKEN_HEADER = "X-Crash-Token"
MTA_ADDED = frozenset({"return-path", "received", "delivered-to"})
LOCAL_RCPTS = ("alice@example.test", "bob@example.test")
SINK_RCPT = "rcpt@sink.test"
DEFER_RCPT = "later@defer.test"
BOUNCE_RCPT = "nobody@bounce.test"
ENCODING, ERRORS = "utf-8", "surrogateescape"
_WORDS = ("queue", "mail", "relay", "crash", "fsync", "rename", "daemon", "sendmail", "postroom")


@dataclass(frozen=True)
class SentMessage:
    """One message as the client sends it; ``body`` has LF line ends, no dot-stuffing."""

    token: str
    sender: str
    recipients: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def eight_bit(self) -> bool:
        return not self.body.isascii() or any(not v.isascii() for _, v in self.headers)

    def header_bytes(self) -> bytes:
        """The header block with LF line ends, without the empty separator line."""
        return "".join(f"{n}: {v}\n" for n, v in self.headers).encode(ENCODING, ERRORS)

    def wire(self) -> bytes:
        """The DATA content: CRLF line ends, dot-stuffed, without the final ``.``."""
        text = self.header_bytes() + b"\n" + self.body
        lines = text.split(b"\n")[:-1]
        return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines)

    def size(self) -> int:
        return len(self.header_bytes()) + 1 + len(self.body)


def _body_line(rng: random.Random) -> bytes:
    kind = rng.randrange(20)
    if kind == 0:
        return b"." + rng.choice((b"", b".", b"leading dot", b". two"))
    if kind == 1:
        return b"From the sender, a line mbox must quote"
    if kind == 2:
        return b">From an already quoted line"
    if kind == 3:
        return b""
    if kind == 4:
        return bytes(rng.choice(b"abcdefghij0123456789") for _ in range(rng.randint(900, 998)))
    if kind == 5:
        return "Grüße aus Köln, 日本語のテキスト".encode()
    if kind == 6:
        return b"trailing blanks   \t"
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 12))]
    return " ".join(words).encode()


def make_body(rng: random.Random, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        out += _body_line(rng) + b"\n"
    return bytes(out)


def message_size(rng: random.Random, largest: int = 300_000) -> int:
    """Mostly small bodies, some medium, a few large (so kills land inside DATA), some empty."""
    pick = rng.random()
    if pick < 0.03:
        return 0
    if pick < 0.83:
        return rng.randint(100, 8_000)
    if pick < 0.98:
        return rng.randint(8_000, 40_000)
    return rng.randint(40_000, max(largest, 40_000))


def make_message(
    token: str,
    rng: random.Random,
    recipients: Sequence[str],
    *,
    size: int | None = None,
    largest: int = 300_000,
) -> SentMessage:
    sender = f"load-{token}@sender.test"
    headers = (
        ("Date", "Tue, 25 Nov 2025 12:00:00 +0000"),
        ("From", f"Load Generator <{sender}>"),
        ("To", ", ".join(recipients)),
        ("Subject", f"crash harness message {token}\n\tfolded second line"),
        ("Message-Id", f"<{token}@load.test>"),
        (TOKEN_HEADER, token),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
    )
    body = make_body(rng, message_size(rng, largest) if size is None else size)
    return SentMessage(token, sender, tuple(recipients), headers, body)


# -- the equality rule -------------------------------------------------------


def parse_headers(block: bytes) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of an LF header block; folded lines joined with ``\\n``."""
    headers: list[tuple[str, str]] = []
    for raw in block.split(b"\n"):
        line = raw.decode(ENCODING, ERRORS)
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
            continue
        name, _, rest = line.partition(":")
        headers.append((name, rest[1:] if rest.startswith(" ") else rest))
    return headers


def split_message(data: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """An LF message as (headers, body)."""
    if data.startswith(b"\n"):
        return [], data[1:]
    block, sep, body = data.partition(b"\n\n")
    if not sep:
        return parse_headers(data.rstrip(b"\n")), b""
    return parse_headers(block), body


def token_of(headers: Sequence[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == TOKEN_HEADER.lower():
            return value.strip()
    return None


def mbox_quote(body: bytes) -> bytes:
    """Postroom's mbox body form: ``>`` before each line starting with ``From ``."""
    lines = body.split(b"\n")
    return b"\n".join(b">" + ln if ln.startswith(b"From ") else ln for ln in lines)


def compare(
    sent: SentMessage, headers: Sequence[tuple[str, str]], body: bytes, *, mbox: bool = False
) -> str | None:
    """None when a stored copy equals ``sent`` under the rule above, else what differs."""
    start = 0
    while start < len(headers) and headers[start][0].lower() in MTA_ADDED:
        start += 1
    kept = [tuple(h) for h in headers[start:]]
    if kept != list(sent.headers):
        for index, (got, want) in enumerate(zip(kept, sent.headers, strict=False)):
            if got != want:
                return f"header {index}: {got!r} != {want!r}"
        return f"{len(kept)} headers kept, {len(sent.headers)} sent"
    want_body = mbox_quote(sent.body) + b"\n" if mbox else sent.body
    if body != want_body:
        if len(body) != len(want_body):
            return f"body is {len(body)} octets, {len(want_body)} sent"
        first = next(i for i, (a, b) in enumerate(zip(body, want_body, strict=True)) if a != b)
        return f"body differs at octet {first}"
    return None


# -- the client --------------------------------------------------------------


class SendInterrupted(Exception):
    """The connection failed mid-message; ``dot_sent`` says whether the final dot went out."""

    def __init__(self, dot_sent: bool, why: str) -> None:
        super().__init__(why)
        self.dot_sent = dot_sent


class SmtpClient:
    """A blocking SMTP client that sends exact bytes and reads whole replies."""

    def __init__(self, port: int, *, timeout: float = 30.0, helo: str = "load.test") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buf = b""
        try:
            greeting = self.reply()
            if not greeting.startswith("220"):
                raise ConnectionError(f"greeting: {greeting}")
            ehlo = self.command(f"EHLO {helo}")
            if not ehlo.startswith("250"):
                raise ConnectionError(f"EHLO: {ehlo}")
        except OSError:
            self.close()
            raise

    def _line(self) -> bytes:
        while b"\r\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def reply(self) -> str:
        lines: list[str] = []
        while True:
            line = self._line().decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    def command(self, line: str) -> str:
        self.sock.sendall(line.encode(ENCODING, ERRORS) + b"\r\n")
        return self.reply()

    def send(self, msg: SentMessage) -> str:
        """Send one message; returns the final reply (``250 2.0.0 <qid> ...`` or a refusal).

        Raises :class:`SendInterrupted` when the connection breaks on the way.
        """
        dot_sent = False
        try:
            body = " BODY=8BITMIME" if msg.eight_bit else ""
            reply = self.command(f"MAIL FROM:<{msg.sender}>{body}")
            if not reply.startswith("250"):
                return reply
            accepted = 0
            for rcpt in msg.recipients:
                if self.command(f"RCPT TO:<{rcpt}>").startswith("250"):
                    accepted += 1
            if accepted != len(msg.recipients):
                self.command("RSET")
                return "recipient refused"
            reply = self.command("DATA")
            if not reply.startswith("354"):
                return reply
            self.sock.sendall(msg.wire())
            dot_sent = True  # from here on the server may have the whole message
            self.sock.sendall(b".\r\n")
            return self.reply()
        except (OSError, ConnectionError) as exc:
            raise SendInterrupted(dot_sent, str(exc)) from exc

    def quit(self) -> None:
        try:
            self.command("QUIT")
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        self.sock.close()


def queue_id(reply: str) -> str | None:
    """The queue id in ``250 2.0.0 <qid> Message accepted for delivery``."""
    parts = reply.split()
    if len(parts) >= 3 and parts[0] == "250" and parts[1] == "2.0.0":
        return parts[2]
    return None
