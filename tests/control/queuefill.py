"""Filling a queue folder with many realistic jobs, for the RPC tests and benchmark.

``fill_queue(queue_dir, count)`` writes ``count`` committed messages through the
real :class:`QueueStore` (fsync off: speed, not durability, matters here), with
varied senders, recipient domains, ages, attempts and status texts, so filters,
sorting and ``queue.shape`` have something to work on.
"""

from __future__ import annotations

import time
from pathlib import Path

from postroom.core.queue import (
    RETURN_PATH_VALUE,
    Header,
    QueueFile,
    QueueRecipient,
    QueueStore,
    initial_priority,
)

DOMAINS = ("example.org", "example.net", "mail.example.com", "gmail.test", "corp.test")
AGES = (60, 400, 900, 1800, 3600, 7200, 86400)


def job_qf(qid: str, size: int, index: int, now: int) -> QueueFile:
    """The control file of job number ``index`` (deterministic from the index)."""
    domain = DOMAINS[index % len(DOMAINS)]
    attempts = index % 4
    status = f"Deferred: Connection refused by mx.{domain}" if attempts else None
    recipients = (
        QueueRecipient(f"<user{index}@{domain}>", "PFD", status=status),
        QueueRecipient(f"<other{index % 7}@{DOMAINS[(index + 1) % len(DOMAINS)]}>", "PFD"),
    )
    ctime = now - AGES[index % len(AGES)] - index % 50
    return QueueFile(
        ctime=ctime,
        sender=f"<sender{index % 13}@origin.test>",
        recipients=recipients,
        headers=(
            Header("Return-Path", RETURN_PATH_VALUE, "P"),
            Header("From", f"Sender {index % 13} <sender{index % 13}@origin.test>"),
            Header("Subject", f"message {index}"),
        ),
        attempts=attempts,
        last_attempt=ctime + 30 if attempts else 0,
        priority=initial_priority(size, len(recipients)),
        status=status,
        flags="s",
        macros=(("r", "ESMTP"), ("s", "client.origin.test")),
    )


def fill_queue(queue_dir: Path, count: int, *, body_size: int = 200) -> list[str]:
    """Write ``count`` jobs into ``queue_dir`` (created if needed); returns their ids."""
    queue_dir.mkdir(parents=True, exist_ok=True)
    store = QueueStore(queue_dir, fsync=False)
    now = int(time.time())
    ids: list[str] = []
    for index in range(count):
        writer = store.new_message()
        body = (f"Body of message {index}\n" * (body_size // 10 + 1)).encode()[:body_size]
        writer.write(body)
        writer.commit(job_qf(writer.qid, len(body), index, now))
        ids.append(writer.qid)
    return ids
