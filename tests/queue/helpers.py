"""Small builders shared by the queue tests."""

from __future__ import annotations

from pathlib import Path

from postroom.core.queue import (
    RETURN_PATH_VALUE,
    Header,
    QueueFile,
    QueueRecipient,
    QueueStore,
    initial_priority,
)

T = 1795631386


def message_qf(
    qid: str,
    size: int,
    recipients: tuple[str, ...] = ("<bob@example.org>",),
    *,
    sender: str = "<alice@example.org>",
    ctime: int = T,
    **fields: object,
) -> QueueFile:
    """A qf like Sendmail writes for an SMTP message in queue-only mode."""
    base: dict[str, object] = {
        "ctime": ctime,
        "sender": sender,
        "priority": initial_priority(size, len(recipients)),
        "flags": "s",
        "macros": (
            ("_", "localhost [127.0.0.1]"),
            ("r", "ESMTP"),
            ("s", "client.example.org"),
            ("{daemon_flags}", ""),
        ),
        "recipients": tuple(
            QueueRecipient(r, "PFD", final_recipient="RFC822; " + r.strip("<>")) for r in recipients
        ),
        "headers": (
            Header("Return-Path", RETURN_PATH_VALUE, "P"),
            Header(
                "Received",
                f"from client.example.org (localhost [127.0.0.1])\n\tby mail.example.test "
                f"with ESMTP id {qid};\n\tWed, 25 Nov 2026 18:29:46 GMT",
            ),
            Header("Subject", "test"),
        ),
    }
    base.update(fields)
    return QueueFile(**base)  # type: ignore[arg-type]


def queue_message(
    store: QueueStore,
    body: bytes = b"hello\n",
    recipients: tuple[str, ...] = ("<b@x>",),
    **kw: object,
) -> str:
    """Write and commit one message; returns its id."""
    writer = store.new_message()
    writer.write(body)
    writer.commit(message_qf(writer.qid, len(body) + 40, recipients, **kw))  # type: ignore[arg-type]
    return writer.qid


def names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}
