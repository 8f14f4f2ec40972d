"""Builders for the vacation tests: messages, users, a recording submitter, a clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from postroom.core.vacation import VacationUser

HOST = "mail.example.test"
T0 = 1_800_000_000.0  # a fixed "now" (2027-01-15)
USER = VacationUser(
    "bob",
    frozenset({"bob@example.test", f"bob@{HOST}"}),
    from_address=f"bob@{HOST}",
)


def message(
    *headers: tuple[str, str],
    sender: str | None = "friend@example.com",
    to: str | None = "Bob <bob@example.test>",
    body: str = "hello\n",
) -> bytes:
    lines = []
    if sender is not None:
        lines.append(f"From {sender}  Fri Jan 15 10:00:00 2027")
    if to is not None:
        lines.append(f"To: {to}")
    lines += [f"{n}: {v}" for n, v in headers]
    lines.append("Subject: lunch?")
    lines.append("Message-ID: <m1@example.com>")
    return ("\n".join(lines) + "\n\n" + body).encode()


@dataclass
class Outbox:
    """A submit() that records what it was given (and can be told to fail)."""

    sent: list[tuple[str, tuple[str, ...], bytes]] = field(default_factory=list)
    fail: bool = False

    def __call__(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        if self.fail:
            raise OSError("queue is full")
        self.sent.append((sender, tuple(recipients), data))


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now
