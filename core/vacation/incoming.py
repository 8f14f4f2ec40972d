"""Reading the message a vacation responder looks at: the ``From `` line and the header.

:func:`parse_incoming` takes the message bytes (the body is not needed and
not kept) and returns :class:`IncomingMessage`: the envelope sender from a
leading Unix ``From `` line (parsed as Sendmail's vacation does: up to the
first space outside quotes, backslash escapes kept; an unbalanced quote or a
trailing backslash is :class:`BadFromLine`), and the header fields unfolded,
in order.  At most :data:`MAX_HEADER_BYTES` of header are read; the rest is
ignored.  :func:`read_incoming` does the same from a stream and then drains
it (so the delivery agent writing to us never gets EPIPE).
"""

from __future__ import annotations

import email.header
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

MAX_HEADER_BYTES = 256 * 1024


class BadFromLine(ValueError):
    """The leading ``From `` line is malformed (Sendmail: EX_DATAERR)."""


@dataclass(frozen=True)
class IncomingMessage:
    """The sender of the ``From `` line (None without one) and the header fields."""

    from_line: str | None
    headers: tuple[tuple[str, str], ...]

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    def names(self) -> list[str]:
        return [n for n, _v in self.headers]

    @property
    def message_id(self) -> str | None:
        value = self.get("Message-ID")
        return value.strip() if value else None

    @property
    def subject(self) -> str:
        """The Subject decoded from RFC 2047 (empty when absent)."""
        raw = self.get("Subject")
        if raw is None:
            return ""
        try:
            return str(email.header.make_header(email.header.decode_header(raw)))
        except (ValueError, LookupError, UnicodeError):
            return raw


def from_line_sender(line: str) -> str:
    """The address in a ``From address date`` line (Sendmail vacation's rules)."""
    text = line[5:]
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 1
            if i >= len(text):
                raise BadFromLine('badly formatted "From " line')
        elif c == '"':
            quoted = not quoted
        elif c in "\r\n":
            break
        elif c == " " and not quoted:
            break
        i += 1
    if quoted:
        raise BadFromLine('badly formatted "From " line')
    return text[:i]


def _header_lines(lines: Iterable[bytes]) -> tuple[str | None, list[tuple[str, str]]]:
    from_line: str | None = None
    headers: list[tuple[str, str]] = []
    first = True
    for raw in lines:
        line = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
        if first and line.startswith("From "):
            from_line = from_line_sender(line)
            first = False
            continue
        first = False
        if not line:
            break
        if line[0] in " \t":
            if headers:
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if colon and name and not any(c in name for c in " \t"):
            headers.append((name, value.strip()))
    return from_line, headers


def _bounded(lines: Iterable[bytes]) -> Iterable[bytes]:
    total = 0
    for line in lines:
        total += len(line)
        if total > MAX_HEADER_BYTES:
            return
        yield line


def parse_incoming(data: bytes) -> IncomingMessage:
    """Parse a message (a leading ``From `` line is optional here)."""
    from_line, headers = _header_lines(_bounded(data.splitlines(keepends=True)))
    return IncomingMessage(from_line, tuple(headers))


def read_incoming(stream: BinaryIO) -> IncomingMessage:
    """Parse the header from ``stream``, then read and discard the rest of it."""
    collected: list[bytes] = []
    total = 0
    while total <= MAX_HEADER_BYTES:
        line = stream.readline(MAX_HEADER_BYTES + 1)
        if not line:
            break
        collected.append(line)
        total += len(line)
        if line in (b"\n", b"\r\n"):
            break
    while stream.read(65536):
        pass
    return parse_incoming(b"".join(collected))
