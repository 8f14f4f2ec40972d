"""Queue rows as the browser keeps them: compact tuples, built in bulk, formatted on demand.

The browser keeps each job as a plain tuple of its fields in ``queue.list`` row order
(:data:`Fields`): 100,000 of them stay small, compare and hash as values, sort with C
key functions (``operator.itemgetter``), and -- being exact tuples of atoms -- drop out
of the cyclic garbage collector's sight after their first collection, so a full
collection never walks them.  :class:`QueueRow` is the same tuple with named read-only
attributes, for code that reads one row (``as_row``).  Two ways in, both pure Python
and run on the RPC reader thread:

- :func:`rows_from_wire` turns one ``queue.list`` chunk of row objects (see the
  server's ``queue_scan``) into field tuples in one pass: a C ``itemgetter`` pulls the
  fields out of each dict, and only a row with a missing or oddly typed field takes
  the tolerant :func:`row_from_wire`;
- :func:`rows_from_arrays` does the same for the denser opt-in encoding
  (``row_format="array"``, :data:`ARRAY_FIELDS`), where each row is a JSON array.

The ``fmt_*`` helpers render sizes, times and ages the way ``mailq`` users read them.
"""

from __future__ import annotations

import time
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from postroom.core.control.protocol import QUEUE_ROW_FIELDS

(QID, QUEUE_NAME, ARRIVAL, SIZE, SENDER, RECIPIENTS, STATUS, ATTEMPTS, LAST_ATTEMPT,
 NEXT_TRY, PRIORITY, HOLD, LOCKED, ERROR) = range(len(QUEUE_ROW_FIELDS))  # fmt: skip
"""Positions in a job's tuple: the ``queue.list`` row keys (:data:`QUEUE_ROW_FIELDS`),
in their order."""
Fields = tuple[Any, ...]
"""One job's fields, in :data:`QUEUE_ROW_FIELDS` order."""
ARRAY_FIELDS = QUEUE_ROW_FIELDS
"""The opt-in denser encoding, for a server that lists ``"array"`` in ``server.info``'s
``queue_list_row_formats`` and gets ``row_format="array"`` in ``queue.list``'s params:
each row is a JSON array of these 14 values in this order, the same values as the
object row's, except ``recipients``, a list of ``[address, delay_reason]`` pairs.  The
chunks, their size and the final summary are unchanged."""


class QueueRow(tuple[Any, ...]):
    """One queued job, as listed.  ``QueueRow("id", sender=..., ...)`` for a literal one."""

    __slots__ = ()

    if TYPE_CHECKING:
        qid: str
        queue_name: str
        arrival: int
        size: int
        sender: str
        recipients: tuple[str, ...]
        status: str
        attempts: int
        last_attempt: int | None
        next_try: int | None
        priority: int
        hold: str
        locked: bool
        error: str
    else:  # each name reads its tuple slot, in C
        qid = property(itemgetter(QID))
        queue_name = property(itemgetter(QUEUE_NAME))
        arrival = property(itemgetter(ARRIVAL))
        size = property(itemgetter(SIZE))
        sender = property(itemgetter(SENDER))
        recipients = property(itemgetter(RECIPIENTS))
        status = property(itemgetter(STATUS))
        attempts = property(itemgetter(ATTEMPTS))
        last_attempt = property(itemgetter(LAST_ATTEMPT))
        next_try = property(itemgetter(NEXT_TRY))
        priority = property(itemgetter(PRIORITY))
        hold = property(itemgetter(HOLD))
        locked = property(itemgetter(LOCKED))
        error = property(itemgetter(ERROR))

    def __new__(
        cls,
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
    ) -> QueueRow:
        fields = (qid, queue_name, arrival, size, sender, recipients, status, attempts,
                  last_attempt, next_try, priority, hold, locked, error)  # fmt: skip
        return tuple.__new__(cls, fields)

    def __repr__(self) -> str:
        return f"QueueRow({self.qid!r}, {self.queue_name!r})"

    @property
    def held(self) -> bool:
        return bool(self[QUEUE_NAME] == "hold")

    def mark(self, now: float) -> str:
        return mark(self, now)

    def status_text(self) -> str:
        return status_text(self)


_make = tuple.__new__


def as_row(fields: Fields) -> QueueRow:
    """The named view of one field tuple (the same tuple when it already is one)."""
    return fields if type(fields) is QueueRow else _make(QueueRow, fields)


def mark(fields: Fields, now: float) -> str:
    """Sendmail's mailq status character: ``*`` locked, ``?`` damaged, ``-`` not due."""
    if fields[LOCKED]:
        return "*"
    if fields[ERROR] or fields[QUEUE_NAME] == "corrupt":
        return "?"
    next_try = fields[NEXT_TRY]
    if next_try is not None and next_try > now:
        return "-"
    return " "


def status_text(fields: Fields) -> str:
    """The error of a damaged file, else the envelope status (or delay reasons)."""
    return str(fields[ERROR] or fields[STATUS])


_wire = itemgetter(*QUEUE_ROW_FIELDS)
_address = itemgetter("address")


def row_from_wire(data: dict[str, Any]) -> QueueRow:
    """A :class:`QueueRow` from one ``queue.list`` row; tolerant of missing fields."""
    recipients = data.get("recipients") or []
    addresses = tuple(str(r.get("address", "")) for r in recipients if isinstance(r, dict))
    status = data.get("status") or ""
    if not status:
        reasons = [r.get("delay_reason") for r in recipients if isinstance(r, dict)]
        status = _joined_reasons(reasons)
    return QueueRow(
        str(data.get("queue_id", "")),
        queue_name=str(data.get("queue_name") or "incoming"),
        arrival=_int(data.get("arrival_time"), 0),
        size=_int(data.get("message_size"), -1),
        sender=str(data.get("sender") or ""),
        recipients=addresses,
        status=str(status),
        attempts=_int(data.get("attempts"), 0),
        last_attempt=_opt_int(data.get("last_attempt")),
        next_try=_opt_int(data.get("next_try")),
        priority=_int(data.get("priority"), 0),
        hold=str(data.get("quarantine") or ""),
        locked=bool(data.get("locked")),
        error=str(data.get("error") or ""),
    )


def rows_from_wire(rows: list[Any]) -> list[Fields]:
    """One chunk of ``queue.list`` row objects as field tuples (non-objects dropped).

    The common row -- every field present with its usual type -- is taken apart by one C
    call and put together again as a tuple; anything else goes the careful way.
    """
    out: list[Fields] = []
    add = out.append
    for data in rows:
        try:
            (qid, name, arrival, size, sender, rcpts, status, attempts, last, due, priority,
             hold, locked, error) = _wire(data)  # fmt: skip
            addresses = tuple(map(_address, rcpts))
            "".join(addresses)  # TypeError unless they are all text
        except (KeyError, TypeError):
            if isinstance(data, dict):
                add(tuple(row_from_wire(data)))
            continue
        if not _usual(qid, name, arrival, size, sender, attempts, priority, last, due, status,
                      hold, error):  # fmt: skip
            add(tuple(row_from_wire(data)))
            continue
        if not status:
            status = _joined_reasons([r.get("delay_reason") for r in rcpts])
        add((qid, name, arrival, size, sender, addresses, status, attempts, last, due, priority,
             hold or "", locked is True, error or ""))  # fmt: skip
    return out


def rows_from_arrays(rows: list[Any]) -> list[Fields]:
    """One chunk in the ``row_format="array"`` encoding as field tuples.

    A row that is not an array of :data:`ARRAY_FIELDS` is read as an object row if it
    is one, and dropped otherwise.
    """
    out: list[Fields] = []
    add = out.append
    width = len(ARRAY_FIELDS)
    for row in rows:
        if type(row) is not list or len(row) != width:
            if isinstance(row, dict):
                add(tuple(row_from_wire(row)))
            continue
        (qid, name, arrival, size, sender, rcpts, status, attempts, last, due, priority,
         hold, locked, error) = row  # fmt: skip
        addresses = _array_addresses(rcpts)
        if addresses is None or not _usual(qid, name, arrival, size, sender, attempts,
                                           priority, last, due, status, hold, error):  # fmt: skip
            add(tuple(_odd(row)))
            continue
        if not status:
            status = _joined_reasons([r[1] if len(r) > 1 else None for r in rcpts])
        add((qid, name, arrival, size, sender, addresses, status, attempts, last, due, priority,
             hold or "", locked is True, error or ""))  # fmt: skip
    return out


_LISTS_ONLY = {list}
_first = itemgetter(0)


def _array_addresses(rcpts: object) -> tuple[str, ...] | None:
    if type(rcpts) is not list or not set(map(type, rcpts)) <= _LISTS_ONLY:
        return None
    try:
        addresses = tuple(map(_first, rcpts))
        "".join(addresses)  # TypeError unless they are all text
    except (TypeError, IndexError, KeyError):
        return None
    return addresses


def _odd(row: list[Any]) -> QueueRow:
    """An array row with an unexpected value somewhere, read the tolerant way."""
    data = dict(zip(ARRAY_FIELDS, row, strict=True))
    rcpts = data.get("recipients")
    data["recipients"] = [
        {"address": r[0], "delay_reason": r[1] if len(r) > 1 else None}
        for r in (rcpts if isinstance(rcpts, list) else [])
        if isinstance(r, list) and r
    ]
    return row_from_wire(data)


def _joined_reasons(reasons: list[object]) -> str:
    """The recipients' distinct delay reasons, for a job without an envelope status."""
    if not any(reasons):
        return ""
    return "; ".join(dict.fromkeys(str(x) for x in reasons if x))


def _usual(
    qid: object,
    name: object,
    arrival: object,
    size: object,
    sender: object,
    attempts: object,
    priority: object,
    last: object,
    due: object,
    status: object,
    hold: object,
    error: object,
) -> bool:
    """Every field has its usual type (``bool`` is not a number here, ``null`` is allowed
    where the server sends it)."""
    return (
        type(qid) is str
        and type(name) is str
        and type(arrival) is int
        and type(size) is int
        and type(sender) is str
        and type(attempts) is int
        and type(priority) is int
        and (last is None or type(last) is int)
        and (due is None or type(due) is int)
        and (status is None or type(status) is str)
        and (hold is None or type(hold) is str)
        and (error is None or type(error) is str)
    )


def _int(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


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
