"""Turning one accepted transaction into a Sendmail-style qf record.

The receiver (SMTP or command line) collects a ``Transaction`` and an
``Origin``; :func:`build_queue_file` adds the headers Sendmail adds
(Return-Path, Received, Date, Message-Id, From, X-Authentication-Warning) and
fills in the envelope lines, macros and recipient flags exactly as Sendmail
8.17 writes them for a queue-only job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate

from .. import __version__
from ..queue.qf import MACRO_REF, Header, QueueFile, QueueRecipient, initial_priority


@dataclass
class RecipientRequest:
    """One accepted RCPT (or command-line recipient) and its DSN parameters."""

    address: str
    notify: frozenset[str] | None = None
    orcpt: str | None = None


@dataclass
class Transaction:
    """The envelope of the message being received."""

    sender: str
    body_type: str | None = None
    envid: str | None = None
    ret: str | None = None
    smtputf8: bool = False
    discard: bool = False  # the access map said DISCARD: accept, then drop
    recipients: list[RecipientRequest] = field(default_factory=list)


@dataclass(frozen=True)
class Origin:
    """Who handed us the message and how; becomes the ``$r``, ``$s``, ``$_`` macros."""

    protocol: str  # SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, or "" for local submission
    client: str  # "$_": "localhost [127.0.0.1]" or "alice@localhost"
    helo: str | None = None
    client_address: str | None = None
    daemon_flags: str = ""
    authenticated_as: str | None = None
    local_user: str | None = None  # set for command-line submission
    full_name: str | None = None


_date_cache: tuple[int, str] = (-1, "")


def rfc5322_date(stamp: float) -> str:
    """``formatdate(stamp, localtime=True)``, formatted once per second (it is not cheap)."""
    global _date_cache
    second = int(stamp)
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, localtime=True))
    return _date_cache[1]


def _has_header(headers: Sequence[tuple[str, str]], name: str) -> bool:
    lname = name.lower()
    return any(h.lower() == lname for h, _ in headers)


def _xtext(value: str) -> str:
    return "".join(
        c if 0x21 <= ord(c) <= 0x7E and c not in "+=" else f"+{ord(c):02X}" for c in value
    )


def _recipient_flags(req: RecipientRequest) -> str:
    if req.notify is None:
        return "PFD"
    flags = "PN"
    for word, letter in (("SUCCESS", "S"), ("FAILURE", "F"), ("DELAY", "D")):
        if word in req.notify:
            flags += letter
    return flags


def _received(qid: str, origin: Origin, host: str, rcpts: Sequence[str], date: str) -> str:
    by = f"by {host} (Postroom/{__version__})"
    if origin.local_user is not None:
        text = f"(from {origin.client})\n\t{by} id {qid}"
    else:
        helo = origin.helo or origin.client_address or "unknown"
        text = f"from {helo} ({origin.client})\n\t{by} with {origin.protocol} id {qid}"
    if len(rcpts) == 1:
        return f"{text}\n\tfor {rcpts[0]}; {date}"
    return f"{text};\n\t{date}"


def build_queue_file(
    qid: str,
    tx: Transaction,
    origin: Origin,
    headers: Sequence[tuple[str, str]],
    *,
    size: int,
    has_8bit: bool,
    host_name: str,
    warnings: Sequence[str] = (),
    now: float | None = None,
) -> QueueFile:
    """The qf for a new message (queue-only: recipients stored unexpanded)."""
    stamp = time.time() if now is None else now
    date = rfc5322_date(stamp)
    local = origin.local_user is not None

    def shown(address: str) -> str:
        return address if local else f"<{address}>"

    rcpt_shown = [shown(r.address) for r in tx.recipients]
    out: list[Header] = [
        Header("Return-Path", f"<{MACRO_REF}g>", "P"),
        Header("Received", _received(qid, origin, host_name, rcpt_shown, date)),
    ]
    if not _has_header(headers, "Date"):
        out.append(Header("Date", date, "D"))
    if not _has_header(headers, "From"):
        sender = tx.sender or "MAILER-DAEMON"
        value = f"{origin.full_name} <{sender}>" if origin.full_name else sender
        out.append(Header("From", value, "F"))
    if not _has_header(headers, "Message-Id"):
        minute = time.strftime("%Y%m%d%H%M", time.gmtime(stamp))
        out.append(Header("Message-Id", f"<{minute}.{qid}@{host_name}>", "M"))
    out.extend(Header("X-Authentication-Warning", f"{w}") for w in warnings)
    out.extend(Header(name, value) for name, value in headers)

    flags = "s"
    if tx.ret is not None:
        flags = "d" + ("n" if tx.ret == "HDRS" else "") + flags
    if has_8bit:
        flags += "8"
    macros: list[tuple[str, str]] = [("_", origin.client)]
    if not local:
        macros.append(("r", origin.protocol))
        macros.append(("s", origin.helo or ""))
    macros.append(("{daemon_flags}", origin.daemon_flags))

    recipients = tuple(
        QueueRecipient(
            address=shown(r.address),
            flags=_recipient_flags(r),
            orcpt=r.orcpt,
            final_recipient="RFC822; "
            + (r.address if "@" in r.address else f"{r.address}@{host_name}"),
        )
        for r in tx.recipients
    )
    auth: str | None = None
    if origin.authenticated_as:
        auth = _xtext(origin.authenticated_as)
    elif local and origin.local_user:
        auth = f"{tx.sender or origin.local_user}@{host_name}"
    return QueueFile(
        ctime=int(stamp),
        sender=shown(tx.sender) if tx.sender or not local else "MAILER-DAEMON",
        recipients=recipients,
        headers=tuple(out),
        priority=initial_priority(size, len(recipients)),
        body_type=tx.body_type,
        flags=flags,
        macros=tuple(macros),
        envid=tx.envid,
        auth=auth,
    )
