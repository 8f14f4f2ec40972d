"""A realistic queue for the GUI tests and the screenshots, written with the real QueueStore.

``build_queue(queue_dir)`` writes about forty messages: fresh ones, messages deferred
for a day with Sendmail's status texts (connection refused, greylisting, mailbox full,
DNS failure), several recipient domains, multi-recipient mail, and a few quarantined
(held) with reasons.  Returns the ids by kind, so tests can name what they act on.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from postroom.core.queue import (
    RETURN_PATH_VALUE,
    Header,
    QueueFile,
    QueueRecipient,
    QueueStore,
    initial_priority,
    quarantine,
)

DEFERRALS = (
    ("partner-corp.example", "Deferred: Connection refused by mx1.partner-corp.example."),
    ("customers.example.net", "Deferred: Connection timed out with mx.customers.example.net."),
    ("greylist.example.org", "Deferred: 451 4.7.1 Greylisted, please try again in 5 minutes"),
    ("mail.example.com", "Deferred: 452 4.2.2 <sales@mail.example.com>... Mailbox full"),
    ("slow-dns.example", "Deferred: Name server: slow-dns.example.: host name lookup failure"),
)
FRESH = (
    ("alice@corp.example", "bob@example.org", "Quarterly figures"),
    ("billing@invoices.example.net", "accounts@partner-corp.example", "Invoice 2024-1187"),
    ("noreply@shop.example", "carol@mail.example.com", "Your order has shipped"),
    ("dave@corp.example", "erin@customers.example.net", "Re: meeting on Thursday"),
    ("", "postmaster@corp.example", "Delivery Status Notification (Failure)"),
    ("newsletter@news.example", "frank@example.org", "This week at Example News"),
)
HELD = (
    ("promo@bulk-mailer.example", "Suspected spam: 14 identical messages in 2 minutes"),
    ("hr@corp.example", "Attachment payroll.exe blocked by policy"),
    ("legal@corp.example", "Waiting for legal review (ticket 4711)"),
)


@dataclass
class BuiltQueue:
    fresh: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.fresh, *self.deferred, *self.held]


def _write(
    store: QueueStore,
    sender: str,
    recipients: list[tuple[str, str | None]],
    subject: str,
    *,
    age: int,
    attempts: int = 0,
    status: str | None = None,
    body_lines: int = 12,
) -> str:
    now = int(time.time())
    writer = store.new_message()
    body = "".join(f"Line {i} of the message about {subject.lower()}.\n" for i in range(body_lines))
    data = body.encode()
    writer.write(data)
    rcpts = tuple(QueueRecipient(f"<{a}>", "PFD", status=s) for a, s in recipients)
    ctime = now - age
    name = sender.split("@")[0].title() if sender else "Mail Delivery Subsystem"
    qf = QueueFile(
        ctime=ctime,
        sender=f"<{sender}>",
        recipients=rcpts,
        headers=(
            Header("Return-Path", RETURN_PATH_VALUE, "P"),
            Header("Received", f"from client.example ([192.0.2.7]) by mail.example.test; {ctime}"),
            Header("From", f"{name} <{sender or 'MAILER-DAEMON@mail.example.test'}>"),
            Header("To", ", ".join(a for a, _ in recipients)),
            Header("Subject", subject),
            Header("Message-ID", f"<{writer.qid}@mail.example.test>"),
        ),
        attempts=attempts,
        last_attempt=ctime + 60 * attempts if attempts else 0,
        priority=initial_priority(len(data), len(rcpts)),
        status=status,
        flags="s",
        macros=(("r", "ESMTP"), ("s", "client.example")),
    )
    writer.commit(qf)
    return writer.qid


def build_queue(queue_dir: Path, *, repeat: int = 4) -> BuiltQueue:
    """Write the realistic queue into ``queue_dir``; ``repeat`` scales the deferred part."""
    queue_dir.mkdir(parents=True, exist_ok=True)
    store = QueueStore(queue_dir, fsync=False)
    built = BuiltQueue()
    for i, (sender, rcpt, subject) in enumerate(FRESH):
        built.fresh.append(_write(store, sender, [(rcpt, None)], subject, age=20 + 70 * i))
    for n in range(repeat):
        for i, (domain, status) in enumerate(DEFERRALS):
            age = [400, 1500, 5400, 30000, 90000][(i + n) % 5] + 37 * n
            rcpts: list[tuple[str, str | None]] = [(f"user{n}@{domain}", status)]
            if n % 2:
                rcpts.append((f"team{n}@example.org", None))
            qid = _write(
                store,
                f"sender{n}@corp.example",
                rcpts,
                f"Report {n}.{i}",
                age=age,
                attempts=1 + (n + i) % 6,
                status=status,
                body_lines=10 + 400 * ((n + i) % 3),
            )
            built.deferred.append(qid)
    for i, (sender, reason) in enumerate(HELD):
        qid = _write(
            store, sender, [(f"list{i}@customers.example.net", None)], "Offer", age=3000 + 600 * i
        )
        quarantine(queue_dir, qid, reason, fsync=False)
        built.held.append(qid)
    return built


HOSTS = (
    # host, age in seconds, errno, exit status, dsn, reply
    ("mx1.partner-corp.example", 240, 111, 75, "4.4.1", None),
    ("mx.customers.example.net", 900, 110, 75, "4.4.1", None),
    (
        "mx.greylist.example.org",
        1300,
        0,
        75,
        "4.7.1",
        "451 4.7.1 Greylisted, please try again in 5 minutes",
    ),
    ("mail.example.com", 5400, 0, 75, "4.2.2", "452 4.2.2 Mailbox full"),
    ("mx.example.org", 60, 0, 0, "2.0.0", "250 2.0.0 Ok: queued as 4XyZ1"),
    ("smtp.corp.example", 30, 0, 0, "2.0.0", "250 2.0.0 ok 1732532101 qp 4411"),
    ("old-relay.example", 3 * 86400 + 7322, 0, 75, "4.4.2", "421 4.4.2 Connection dropped"),
)


def build_hosts(status_dir: Path) -> list[str]:
    """Write Sendmail host status files for the realistic hosts; returns their names."""
    from postroom.core.hoststat import HostStatus, HostStatusStore

    store = HostStatusStore(status_dir)
    now = int(time.time())
    for host, age, errno, exit_status, dsn, reply in HOSTS:
        store.write(HostStatus(host, now - age, errno, 0, exit_status, dsn, reply))
        os.utime(store.path_for(host), (now - age, now - age))  # purgestat reads the mtime
    return [h[0] for h in HOSTS]
