"""Queue rows as the browser keeps them: compact, typed, and formatted on demand.

:func:`row_from_wire` turns one ``queue.list`` row (a dict, see the server's
``queue_scan``) into a :class:`QueueRow` -- a slotted object a fraction of the dict's
size, so 100,000 of them stay small.  It is pure Python and runs on the RPC reader
thread.  The ``fmt_*`` helpers render sizes, times and ages the way ``mailq`` users
read them.
"""

from __future__ import annotations

import time
from typing import Any


class QueueRow:
    """One queued job, as listed."""

    __slots__ = (
        "arrival",
        "attempts",
        "error",
        "hold",
        "last_attempt",
        "locked",
        "next_try",
        "priority",
        "qid",
        "queue_name",
        "recipients",
        "sender",
        "size",
        "status",
    )

    def __init__(
        self,
        qid: str,
        *,
        queue_name: str = "incoming",
        arrival: int = 0,
        size: int = -1,
        sender: str = "",
        recipients: tuple[str, ...] = (),
        status: str = "",
        attempts: int = 0,
        last_attempt: int | None = None,
        next_try: int | None = None,
        priority: int = 0,
        hold: str = "",
        locked: bool = False,
        error: str = "",
    ) -> None:
        self.qid = qid
        self.queue_name = queue_name
        self.arrival = arrival
        self.size = size
        self.sender = sender
        self.recipients = recipients
        self.status = status
        self.attempts = attempts
        self.last_attempt = last_attempt
        self.next_try = next_try
        self.priority = priority
        self.hold = hold
        self.locked = locked
        self.error = error

    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QueueRow) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.qid)

    def __repr__(self) -> str:
        return f"QueueRow({self.qid!r}, {self.queue_name!r})"

    @property
    def held(self) -> bool:
        return self.queue_name == "hold"

    def mark(self, now: float) -> str:
        """Sendmail's mailq status character: ``*`` locked, ``?`` damaged, ``-`` not due."""
        if self.locked:
            return "*"
        if self.error or self.queue_name == "corrupt":
            return "?"
        if self.next_try is not None and self.next_try > now:
            return "-"
        return " "

    def status_text(self) -> str:
        """The error of a damaged file, else the envelope status (or delay reasons)."""
        if self.error:
            return self.error
        return self.status


def row_from_wire(data: dict[str, Any]) -> QueueRow:
    """A :class:`QueueRow` from one ``queue.list`` row; tolerant of missing fields."""
    recipients = data.get("recipients") or []
    addresses = tuple(str(r.get("address", "")) for r in recipients if isinstance(r, dict))
    status = data.get("status") or ""
    if not status:
        reasons = (str(r.get("delay_reason") or "") for r in recipients if isinstance(r, dict))
        status = "; ".join(dict.fromkeys(x for x in reasons if x))
    return QueueRow(
        str(data.get("queue_id", "")),
        queue_name=str(data.get("queue_name") or "incoming"),
        arrival=int(data.get("arrival_time") or 0),
        size=int(data.get("message_size", -1)),
        sender=str(data.get("sender") or ""),
        recipients=addresses,
        status=str(status),
        attempts=int(data.get("attempts") or 0),
        last_attempt=_opt_int(data.get("last_attempt")),
        next_try=_opt_int(data.get("next_try")),
        priority=int(data.get("priority") or 0),
        hold=str(data.get("quarantine") or ""),
        locked=bool(data.get("locked")),
        error=str(data.get("error") or ""),
    )


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def fmt_size(size: int) -> str:
    if size < 0:
        return "?"
    if size < 10_000:
        return f"{size} B"
    if size < 10_000_000:
        return f"{size / 1024:.0f} KiB"
    return f"{size / 1048576:.0f} MiB"


def fmt_age(seconds: float) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h`` -- precise enough, short enough."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def fmt_time(stamp: float | None, now: float) -> str:
    """Local time; the date only when it is not today."""
    if not stamp:
        return ""
    here = time.localtime(stamp)
    today = time.localtime(now)
    if here[:3] == today[:3]:
        return time.strftime("%H:%M:%S", here)
    return time.strftime("%Y-%m-%d %H:%M", here)


def fmt_next(stamp: int | None, now: float) -> str:
    if stamp is None:
        return ""
    if stamp <= now:
        return "due"
    return "in " + fmt_age(stamp - now)


def fmt_recipients(addresses: tuple[str, ...]) -> str:
    if not addresses:
        return ""
    if len(addresses) == 1:
        return addresses[0]
    return f"({len(addresses)}) {addresses[0]}, …"
