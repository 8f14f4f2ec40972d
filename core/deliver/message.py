"""The message of a queued job as a delivery agent writes it: qf headers + df body.

The qf keeps the headers (``H?cond?Name: value``) and the df the body (LF
line ends, no dot-stuffing).  :class:`MessageSource` renders them for one
mailer: a header is written when its condition allows (``??`` always; mailer
flag letters such as ``?P?`` when the mailer has one of them; ``?$x?`` or
``?${name}?`` when that macro is set), and Sendmail's macro references
(byte 0x81 + ``g`` is the envelope sender, + ``j`` our host name) are
expanded.  Mailer flags are Sendmail's defaults: local ``PDFM``, file
``PDFM``, prog ``DFM``, esmtp/relay ``DFM``.

:func:`smtp_chunks` yields the message for SMTP DATA (CRLF, dot-stuffed,
lines longer than 998 octets broken with Sendmail's ``!``), :func:`mbox_bytes`
the mbox form (``From `` line, ``>From`` escaping, trailing blank line).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..queue.qf import ENCODING, ERRORS, MACRO_REF, Header, QueueFile
from .address import is_null_sender, qualify

MAILER_FLAGS = {"local": "PDFM", "*file*": "PDFM", "prog": "DFM", "esmtp": "DFM", "relay": "DFM"}
MAX_LINE = 998
CHUNK = 64 * 1024


def header_applies(header: Header, flags: str, macros: dict[str, str]) -> bool:
    """Sendmail's rule for ``?cond?`` on an H line."""
    cond = header.condition
    if not cond:
        return True
    if cond.startswith("$"):
        name = cond[1:]
        return bool(macros.get(name))
    return any(c in flags for c in cond)


class MessageSource:
    """One queued message, ready to be rendered for a mailer."""

    def __init__(self, qf: QueueFile, df_path: Path, host_name: str) -> None:
        self.qf = qf
        self.df_path = df_path
        self.host_name = host_name
        self.macros = dict(qf.macros)
        self.return_path = "" if is_null_sender(qf.sender) else qualify(qf.sender, host_name)

    def expand(self, value: str) -> str:
        """Replace Sendmail macro references (0x81 + name) in a header value."""
        if MACRO_REF not in value:
            return value
        out: list[str] = []
        i = 0
        while i < len(value):
            c = value[i]
            if c != MACRO_REF:
                out.append(c)
                i += 1
                continue
            name = value[i + 1 : i + 2]
            i += 2
            if name == "{":
                end = value.find("}", i)
                end = len(value) if end < 0 else end
                name = "{" + value[i:end] + "}"
                i = end + 1
            out.append(self._macro(name))
        return "".join(out)

    def _macro(self, name: str) -> str:
        if name == "g":
            return self.return_path
        if name == "j":
            return self.host_name
        return self.macros.get(name, "")

    def headers(self, mailer: str, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """(name, value) pairs for ``mailer``; ``extra`` go after Return-Path (or first)."""
        flags = MAILER_FLAGS.get(mailer, "DFM")
        out: list[tuple[str, str]] = []
        placed = False
        for header in self.qf.headers:
            if not header_applies(header, flags, self.macros):
                continue
            value = self.expand(header.value)
            out.append((header.name, value))
            if header.name.lower() == "return-path" and not placed:
                out.extend(extra)
                placed = True
        if not placed:
            out[0:0] = list(extra)
        return out

    def header_bytes(self, mailer: str, extra: Sequence[tuple[str, str]] = ()) -> bytes:
        """The header block with LF line ends, without the blank separator line."""
        lines = [f"{name}: {value}\n" for name, value in self.headers(mailer, extra)]
        return "".join(lines).encode(ENCODING, ERRORS)

    def body_lines(self) -> Iterator[bytes]:
        """The df's lines, each with its LF (the last may lack one)."""
        with open(self.df_path, "rb") as handle:
            yield from handle

    def size(self, mailer: str = "esmtp") -> int:
        """Octets of the rendered message (headers, blank line, body)."""
        return len(self.header_bytes(mailer)) + 1 + self.df_path.stat().st_size

    def received_count(self) -> int:
        """Number of ``Received:`` headers (the hop count)."""
        return sum(1 for h in self.qf.headers if h.name.lower() == "received")

    def delivered_to(self) -> list[str]:
        """Values of the ``Delivered-To:`` headers, lower-cased and stripped."""
        return [
            h.value.strip().strip("<>").lower()
            for h in self.qf.headers
            if h.name.lower() == "delivered-to"
        ]


def _crlf_line(line: bytes) -> Iterator[bytes]:
    """One LF-terminated line as CRLF lines, dot-stuffed, at most 998 octets each."""
    text = line[:-1] if line.endswith(b"\n") else line
    if text.endswith(b"\r"):
        text = text[:-1]
    while len(text) > MAX_LINE:
        part, text = text[: MAX_LINE - 1], text[MAX_LINE - 1 :]
        yield (b"." if part.startswith(b".") else b"") + part + b"!\r\n"
    yield (b"." if text.startswith(b".") else b"") + text + b"\r\n"


def smtp_chunks(source: MessageSource, mailer: str = "esmtp") -> Iterator[bytes]:
    """The message for DATA in chunks of about 64 KiB, without the final ``.``."""
    buf = bytearray()
    for line in source.header_bytes(mailer).splitlines(keepends=True):
        buf += b"".join(_crlf_line(line))
    buf += b"\r\n"
    for line in source.body_lines():
        buf += b"".join(_crlf_line(line))
        if len(buf) >= CHUNK:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)


def from_line(sender: str, when: float | None = None) -> bytes:
    """The mbox ``From sender date`` line (asctime, local time)."""
    who = sender or "MAILER-DAEMON"
    stamp = time.asctime(time.localtime(time.time() if when is None else when))
    return f"From {who} {stamp}\n".encode(ENCODING, ERRORS)


def mbox_chunks(
    source: MessageSource, headers: bytes, when: float | None = None
) -> Iterator[bytes]:
    """The message in mbox form: From line, headers, body with ``>From`` escaping, blank line."""
    buf = bytearray(from_line(source.return_path, when))
    buf += headers + b"\n"
    last = b"\n"
    for line in source.body_lines():
        if line.startswith(b"From "):
            buf += b">"
        buf += line
        last = line
        if len(buf) >= CHUNK:
            yield bytes(buf)
            buf.clear()
    if not last.endswith(b"\n"):
        buf += b"\n"
    buf += b"\n"
    yield bytes(buf)


def plain_chunks(source: MessageSource, headers: bytes) -> Iterator[bytes]:
    """The message as a plain RFC 5322 file (Maildir, program stdin): headers, blank line, body."""
    yield headers + b"\n"
    buf = bytearray()
    for line in source.body_lines():
        buf += line
        if len(buf) >= CHUNK:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)
