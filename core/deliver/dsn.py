"""Delivery status notifications (RFC 3464) in Sendmail's layout (SENDMAIL.md §9).

:func:`build_report` turns a :class:`Report` about one queued message into
the headers and body of a ``multipart/report; report-type=delivery-status``
message from the Mail Delivery Subsystem:

1. a text part -- the delay-warning box, "The original message was received
   at ... from ...", the lists of permanent, transient and successful
   addresses with ``(reason: ...)``, and "Transcript of session follows"
   with the job's ``xf`` text;
2. ``message/delivery-status`` -- Original-Envelope-Id, Reporting-MTA,
   Received-From-MTA, Arrival-Date, then per recipient Original-Recipient,
   Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
   Last-Attempt-Date (and Will-Retry-Until for a delay);
3. the returned message: ``message/rfc822``, or ``text/rfc822-headers``
   when the body is not returned.

The boundary is ``<qid>.<time>/<host>`` as Sendmail makes it.  Subjects and
``Auto-Submitted`` values per kind follow Sendmail's ``returntosender``.
Generated text is 7-bit; characters that are not printable ASCII in quoted
remote text become ``?``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate

from ..queue.qf import ENCODING, ERRORS, QueueFile
from .message import MessageSource

MAX_LINE = 990


class Kind(enum.Enum):
    """Which DSN: its subject and Auto-Submitted value."""

    FAILURE = ("Returned mail: see transcript for details", "failure")
    DELAY = ("Warning: could not send message for past {warn}", "warning-timeout")
    RECEIPT = ("Return receipt", "return-receipt")
    POSTMASTER = ("Postmaster notify: see transcript for details", "postmaster-notification")


@dataclass(frozen=True)
class Entry:
    """One recipient in a report."""

    shown: str
    action: str  # failed, delayed, delivered (to mailbox), relayed (to non-DSN-aware mailer)
    status: str
    final_recipient: str
    original_recipient: str | None = None
    reason: str | None = None
    diagnostic: str | None = None
    diagnostic_type: str = "SMTP"
    remote_mta: str | None = None
    last_attempt: float = 0.0


@dataclass(frozen=True)
class Report:
    """What one DSN says about one queued message."""

    kind: Kind
    entries: tuple[Entry, ...]
    transcript: str
    return_body: bool
    warn_after: float = 0.0
    return_after: float = 0.0


def pintvl(seconds: float) -> str:
    """Sendmail's ``pintvl(seconds, false)``: ``4 hours``, ``5 days``, ``1 hour, 30 minutes``."""
    left = int(seconds)
    parts: list[str] = []
    for size, name in (
        (604800, "week"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return ", ".join(parts) or "0 seconds"


def decode_xtext(text: str) -> str:
    """RFC 3461 xtext (``+2B`` escapes) to text; invalid escapes are kept as they are."""
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i + 1 : i + 3]
        if text[i] == "+" and len(pair) == 2 and all(c in "0123456789ABCDEFabcdef" for c in pair):
            out.append(chr(int(pair, 16)))
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def clean(text: str) -> str:
    """One line of printable ASCII for a generated part."""
    line = "".join(c if " " <= c <= "~" or c == "\t" else "?" for c in text)
    return line[:MAX_LINE]


def subject(report: Report) -> str:
    """The DSN's Subject."""
    text, _ = report.kind.value
    return text.format(warn=pintvl(report.warn_after))


def boundary(qid: str, now: float, host_name: str) -> str:
    """Sendmail's boundary ``<qid>.<time>/<host>``."""
    return f"{qid}.{int(now)}/{host_name[:100]}"


def headers(
    report: Report, to: Sequence[str], qid: str, now: float, host_name: str, eight_bit: bool
) -> list[tuple[str, str]]:
    """The DSN's own headers (the queue adds Received, Date, From, Message-Id)."""
    out = [
        ("To", ", ".join(to)),
        ("MIME-Version", "1.0"),
        (
            "Content-Type",
            "multipart/report; report-type=delivery-status;\n\tboundary="
            f'"{boundary(qid, now, host_name)}"',
        ),
    ]
    if eight_bit:
        out.append(("Content-Transfer-Encoding", "8bit"))
    out.append(("Subject", subject(report)))
    out.append(("Auto-Submitted", f"auto-generated ({report.kind.value[1]})"))
    return out


def _date(when: float) -> str:
    return formatdate(when, localtime=True)


def _human(report: Report, original: QueueFile, orig_qid: str) -> list[str]:
    lines: list[str] = []
    if report.kind is Kind.DELAY:
        lines += [
            "    **********************************************",
            "    **      THIS IS A WARNING MESSAGE ONLY      **",
            "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **",
            "    **********************************************",
            "",
        ]
    lines.append(f"The original message was received at {_date(original.ctime)}")
    lines.append(clean("from " + dict(original.macros).get("_", "localhost")))
    if report.kind is Kind.POSTMASTER:
        lines.append(f"with id {orig_qid}")
    lines.append("")
    groups = (
        ("failed", "   ----- The following addresses had permanent fatal errors -----"),
        ("delayed", "   ----- The following addresses had transient non-fatal errors -----"),
    )
    for action, title in groups:
        chosen = [e for e in report.entries if e.action == action]
        if not chosen:
            continue
        lines.append(title)
        for e in chosen:
            lines.append(clean(e.shown))
            if action == "failed" and e.reason:
                lines.append(clean(f"    (reason: {e.reason})"))
        lines.append("")
    good = [e for e in report.entries if e.action.startswith(("delivered", "relayed"))]
    if good:
        lines.append("   ----- The following addresses had successful delivery notifications -----")
        for e in good:
            what = (
                "successfully delivered to mailbox"
                if e.action.startswith("delivered")
                else "relayed to non-DSN-aware mailer"
            )
            lines.append(clean(f"{e.shown}  ({what})"))
        lines.append("")
    if report.transcript.strip():
        lines.append("   ----- Transcript of session follows -----")
        lines.append("")
        lines += [clean(t) for t in report.transcript.rstrip("\n").split("\n")]
    return lines


def _status_part(report: Report, original: QueueFile, host_name: str) -> list[str]:
    lines = ["Content-Type: message/delivery-status", ""]
    if original.envid:
        lines.append(clean(f"Original-Envelope-Id: {decode_xtext(original.envid)}"))
    lines.append(f"Reporting-MTA: dns; {host_name}")
    received_from = dict(original.macros).get("s")
    if received_from:
        lines.append(clean(f"Received-From-MTA: DNS; {received_from}"))
    lines.append(f"Arrival-Date: {_date(original.ctime)}")
    for e in report.entries:
        lines.append("")
        if e.original_recipient:
            lines.append(clean(f"Original-Recipient: {_orcpt(e.original_recipient)}"))
        lines.append(clean(f"Final-Recipient: {e.final_recipient}"))
        lines.append(f"Action: {e.action}")
        lines.append(f"Status: {e.status}")
        if e.remote_mta:
            lines.append(clean(f"Remote-MTA: DNS; {e.remote_mta.rstrip('.')}"))
        if e.diagnostic:
            lines.append(clean(f"Diagnostic-Code: {e.diagnostic_type}; {e.diagnostic}"))
        lines.append(f"Last-Attempt-Date: {_date(e.last_attempt)}")
        if e.action == "delayed":
            lines.append(f"Will-Retry-Until: {_date(original.ctime + report.return_after)}")
    return lines


def _orcpt(value: str) -> str:
    kind, sep, address = value.partition(";")
    if not sep:
        return decode_xtext(value)
    return f"{kind.strip()};{decode_xtext(address.strip())}"


def build_body(
    report: Report,
    original: QueueFile,
    source: MessageSource,
    *,
    qid: str,
    orig_qid: str,
    now: float,
    host_name: str,
) -> bytes:
    """The DSN body (LF line ends), as it goes into the new job's df."""
    mark = "--" + boundary(qid, now, host_name)
    text = ["This is a MIME-encapsulated message", "", mark, ""]
    text += _human(report, original, orig_qid)
    text += ["", mark]
    text += _status_part(report, original, host_name)
    text += ["", mark]
    kind = "message/rfc822" if report.return_body else "text/rfc822-headers"
    text.append(f"Content-Type: {kind}")
    if report.return_body and "8" in original.flags:
        text.append("Content-Transfer-Encoding: 8bit")
    text.append("")
    out = bytearray(("\n".join(text) + "\n").encode("ascii", "replace"))
    out += source.header_bytes("local")
    if report.return_body:
        out += b"\n"
        last = b"\n"
        for line in source.body_lines():
            out += line
            last = line
        if not last.endswith(b"\n"):
            out += b"\n"
    out += ("\n" + mark + "--\n\n").encode(ENCODING, ERRORS)
    return bytes(out)


def address_for_header(address: str) -> str:
    """``<a@b>`` for the To: header (a bare local name stays bare)."""
    bare = address.strip().strip("<>")
    return f"<{bare}>" if "@" in bare else bare
