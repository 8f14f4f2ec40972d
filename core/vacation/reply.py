"""Building the reply message (RFC 3834): :func:`build_reply` and :func:`build_file_reply`.

Every reply carries ``To: <sender>``, ``Auto-Submitted: auto-replied``,
``Precedence: bulk`` (so older responders such as Sendmail 8.17's vacation,
which only looks at Precedence, stay quiet too), ``X-Auto-Response-Suppress:
All``, ``In-Reply-To`` and ``References`` when the incoming message had a
Message-ID, a ``Date`` from the injected clock and a ``Message-ID``.  Every
header value we write passes :func:`clean_header_text`: no CR, LF or other
control characters, white space collapsed, length capped (BAD-INPUTS
principle: generated headers never contain CR, LF or control characters).

- :func:`build_reply` -- the built-in responder: From the user, the settings'
  subject (``$SUBJECT`` = the incoming subject) and text, as
  ``text/plain; charset=utf-8`` (quoted-printable when not plain ASCII).
- :func:`build_file_reply` -- the ``vacation`` program: a complete message file
  (``~/.vacation.msg``) whose own headers are kept (cleaned), with the headers
  above added in front and a From/Date/Message-ID supplied when missing.

Lines end in LF; the queue writer takes care of SMTP's CRLF and dot-stuffing.
"""

from __future__ import annotations

import email.header
import quopri
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime

from .incoming import IncomingMessage

MAX_SUBJECT = 200
MAX_REFERENCES = 10
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]+")
_MSGID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,250}>")
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")
_REPLACED = frozenset({"to", "auto-submitted", "in-reply-to", "references", "message-id", "date"})


def clean_header_text(text: str, limit: int = 998) -> str:
    """``text`` with control characters (CR, LF included) turned into spaces, collapsed, capped."""
    cleaned = " ".join(_CONTROLS.sub(" ", text).split())
    return cleaned[:limit]


def reply_subject(template: str, original: str) -> str:
    """The reply subject: ``$SUBJECT`` replaced by the incoming subject, cleaned."""
    subject = clean_header_text(template.replace("$SUBJECT", clean_header_text(original)))
    return subject[:MAX_SUBJECT] or "Out of office"


def encode_header_value(text: str) -> str:
    """ASCII as is; anything else as RFC 2047 UTF-8 encoded words."""
    if text.isascii():
        return text
    return email.header.Header(text, "utf-8").encode(linesep="\n")


def message_id_for(now: float, host_name: str) -> str:
    """A fresh ``<time.random@host>`` Message-ID."""
    return f"<{int(now)}.{secrets.token_hex(8)}@{clean_header_text(host_name, 200)}>"


def thread_headers(message: IncomingMessage) -> list[str]:
    """``In-Reply-To`` and ``References`` for a reply to ``message`` (none without a Message-ID)."""
    found = _MSGID.findall(message.message_id or "")
    if not found:
        return []
    mid = found[0]
    refs = _MSGID.findall(" ".join(message.get_all("References")))
    chain = [*[r for r in refs if r != mid][-(MAX_REFERENCES - 1) :], mid]
    return [f"In-Reply-To: {mid}", "References: " + "\n ".join(chain)]


def _body(text: str) -> tuple[list[str], bytes]:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    raw = body.encode("utf-8")
    if raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\n")):
        return ["Content-Transfer-Encoding: 7bit"], raw
    return ["Content-Transfer-Encoding: quoted-printable"], quopri.encodestring(raw)


def build_reply(
    message: IncomingMessage,
    *,
    to: str,
    from_address: str,
    subject: str,
    body: str,
    now: float,
    host_name: str,
    message_id: str | None = None,
) -> bytes:
    """The built-in responder's reply (see the module docstring)."""
    cte, payload = _body(body)
    headers = [
        f"From: {clean_header_text(from_address, 320)}",
        f"To: {clean_header_text(to, 320)}",
        f"Subject: {encode_header_value(reply_subject(subject, message.subject))}",
        f"Date: {format_datetime(datetime.fromtimestamp(now, UTC))}",
        f"Message-ID: {clean_header_text(message_id or message_id_for(now, host_name), 300)}",
        *thread_headers(message),
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "X-Auto-Response-Suppress: All",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        *cte,
    ]
    return ("\n".join(headers) + "\n\n").encode("utf-8") + payload


def _template_headers(text: str) -> tuple[list[tuple[str, str]], str]:
    """(headers, body) of a message file; a file without a header block is all body."""
    head, sep, body = text.partition("\n\n")
    fields: list[tuple[str, str]] = []
    for line in head.split("\n") if sep else []:
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            return [], text
        fields.append((name, value.strip()))
    return fields, (body if sep else text)


def build_file_reply(
    template: bytes,
    message: IncomingMessage,
    *,
    to: str,
    from_address: str,
    now: float,
    host_name: str,
    message_id: str | None = None,
) -> bytes:
    """The ``vacation`` program's reply from a message file (see the module docstring)."""
    text = template.decode("utf-8", "replace").replace("\r\n", "\n")
    fields, body = _template_headers(text)
    out = [
        f"To: {clean_header_text(to, 320)}",
        "Auto-Submitted: auto-replied",
        *thread_headers(message),
    ]
    present = set()
    for name, value in fields:
        lname = name.lower()
        if lname in _REPLACED:
            continue
        present.add(lname)
        if lname == "subject":
            value = encode_header_value(reply_subject(value, message.subject))
        else:
            value = clean_header_text(value)
        out.append(f"{name}: {value}")
    if "from" not in present:
        out.append(f"From: {clean_header_text(from_address, 320)}")
    if "precedence" not in present:
        out.append("Precedence: bulk")
    out.append(f"Date: {format_datetime(datetime.fromtimestamp(now, UTC))}")
    out.append(f"Message-ID: {clean_header_text(message_id or message_id_for(now, host_name))}")
    if not body.endswith("\n"):
        body += "\n"
    return ("\n".join(out) + "\n\n" + body).encode("utf-8")
