"""Putting a DSN into the queue as a new job, the way Sendmail queues a bounce.

The qf is made by the receiver's :func:`..receive.envelope.build_queue_file`
(so Received, Date, From and Message-Id are the same as for any local
submission), then given Sendmail's bounce envelope: sender ``MAILER-DAEMON``,
flags ``rn`` (a response; a bounce of it returns headers only), priority
30000, recipients flagged ``PF`` (notify on failure only), From
``Mail Delivery Subsystem <MAILER-DAEMON>``.  The new job is durable
(df, tf -> qf, fsync) before :func:`queue_report` returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..queue.qf import QueueFile, QueueRecipient
from ..queue.store import QueueStore
from ..receive.envelope import Origin, RecipientRequest, Transaction, build_queue_file
from .address import strip_brackets
from .dsn import Report, address_for_header, build_body, headers
from .message import MessageSource

BOUNCE_PRIORITY = 30000
DAEMON_NAME = "Mail Delivery Subsystem"


def queue_report(
    store: QueueStore,
    report: Report,
    to: Sequence[str],
    original: QueueFile,
    source: MessageSource,
    *,
    orig_qid: str,
    host_name: str,
    now: float,
) -> str:
    """Queue ``report`` for the addresses ``to``; returns the new job's id."""
    writer = store.new_message()
    try:
        body = build_body(
            report,
            original,
            source,
            qid=writer.qid,
            orig_qid=orig_qid,
            now=now,
            host_name=host_name,
        )
        eight_bit = report.return_body and "8" in original.flags
        writer.write(body)
        hdrs = headers(
            report, [address_for_header(a) for a in to], writer.qid, now, host_name, eight_bit
        )
        tx = Transaction(sender="", recipients=[RecipientRequest(strip_brackets(a)) for a in to])
        origin = Origin(
            protocol="", client="localhost", local_user="MAILER-DAEMON", full_name=DAEMON_NAME
        )
        qf = build_queue_file(
            writer.qid,
            tx,
            origin,
            hdrs,
            size=len(body),
            has_8bit=eight_bit,
            host_name=host_name,
            now=now,
        )
        recipients = tuple(
            QueueRecipient(
                address=address_for_header(a) if "@" in a else strip_brackets(a),
                flags="PF",
                final_recipient=r.final_recipient,
            )
            for a, r in zip(to, qf.recipients, strict=True)
        )
        qf = dataclasses.replace(
            qf,
            flags="rn" + ("8" if eight_bit else ""),
            priority=BOUNCE_PRIORITY,
            auth=None,
            recipients=recipients,
            body_type="8BITMIME" if eight_bit else None,
        )
        writer.commit(qf)
    except BaseException:
        writer.abort()
        raise
    return writer.qid
