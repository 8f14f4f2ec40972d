"""Which rows ``queue.list`` returns and in what order: filters, sort keys, paging.

Filters are case-insensitive substrings, all of which must match: ``sender``;
``recipient`` (any recipient address); ``domain`` (the part after ``@`` of any
recipient); ``status`` (the envelope status, the hold reason, a recipient's delay
reason or a damaged file's error); ``queue_id``; and ``min_age`` in seconds since
arrival.  Sort keys: ``arrival`` (oldest first), ``size``, ``sender``, ``priority`` or
``none`` (directory order, which lets the first rows stream before the whole folder is
read); ``descending`` reverses.  The queue id breaks ties, so the order is stable.
``offset`` and ``limit`` page the result.  ``row_format`` says how each row is sent:
``"object"`` (the default) or ``"array"`` (:mod:`postroom.core.queue.listing_rowformat`);
it changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..queue.listing_rowformat import OBJECT
from .params import Params
from .protocol import QUEUE_ROW_FORMATS as ROW_FORMATS
from .queue_scan import KINDS

Row = dict[str, Any]
SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "arrival": lambda r: (r["arrival_time"], r["queue_id"]),
    "size": lambda r: (r["message_size"], r["queue_id"]),
    "sender": lambda r: (r["sender"].lower(), r["queue_id"]),
    "priority": lambda r: (r["priority"], r["queue_id"]),
}
_OFFSET = 2**62


def _number(value: int) -> bytes:
    return b"%020d" % (value + _OFFSET)


def _text(value: str) -> bytes:
    return (
        value.lower().encode("utf-8", "surrogateescape").replace(b"\t", b" ").replace(b"\n", b" ")
    )


BYTE_KEYS: dict[str, Callable[[Row], bytes]] = {
    "arrival": lambda r: _number(r["arrival_time"]) + b"\0" + r["queue_id"].encode(),
    "size": lambda r: _number(r["message_size"]) + b"\0" + r["queue_id"].encode(),
    "sender": lambda r: _text(r["sender"]) + b"\0" + r["queue_id"].encode(),
    "priority": lambda r: _number(r["priority"]) + b"\0" + r["queue_id"].encode(),
}
"""The same orders as ``SORT_KEYS``, as bytes that compare the same way (for workers)."""
QUEUE_PARTS = {name: prefix for prefix, name in KINDS.items()}  # "queue" -> "qf" ...
DEFAULT_PARTS = ("queue", "hold")


@dataclass(frozen=True)
class Selection:
    """The parsed filter, sort and paging params of one ``queue.list``."""

    prefixes: tuple[str, ...]
    sender: str | None = None
    recipient: str | None = None
    domain: str | None = None
    status: str | None = None
    queue_id: str | None = None
    min_age: int = 0
    sort: str = "arrival"
    descending: bool = False
    offset: int = 0
    limit: int | None = None
    row_format: str = OBJECT
    """How rows are encoded (one of :data:`~postroom.core.queue.listing_rowformat.ROW_FORMATS`)."""

    def matcher(self, now: float) -> Callable[[Row], bool] | None:
        """A test for one row, or None when every row passes."""
        tests: list[Callable[[Row], bool]] = []
        if self.sender:
            sender = self.sender.lower()
            tests.append(lambda r: sender in r["sender"].lower())
        if self.recipient:
            rcpt = self.recipient.lower()
            tests.append(lambda r: any(rcpt in x["address"].lower() for x in r["recipients"]))
        if self.domain:
            domain = self.domain.lower()
            tests.append(
                lambda r: any(
                    domain in x["address"].rpartition("@")[2].lower() for x in r["recipients"]
                )
            )
        if self.status:
            status = self.status.lower()
            tests.append(lambda r: status in _status_text(r))
        if self.queue_id:
            qid = self.queue_id
            tests.append(lambda r: qid in r["queue_id"])
        if self.min_age:
            newest = now - self.min_age
            tests.append(lambda r: r["arrival_time"] <= newest)
        if not tests:
            return None
        if len(tests) == 1:
            return tests[0]
        return lambda r: all(test(r) for test in tests)


def _status_text(row: Row) -> str:
    parts = [row["status"] or "", row["quarantine"] or "", row["error"] or ""]
    parts.extend(x["delay_reason"] for x in row["recipients"])
    return "\n".join(parts).lower()


def parts_param(params: Params, default: tuple[str, ...] = DEFAULT_PARTS) -> tuple[str, ...]:
    """The ``queues`` param: which parts of the spool (queue, hold, lost) as prefixes."""
    parts = params.strings("queues", max_items=3, choices=QUEUE_PARTS) or list(default)
    return tuple(QUEUE_PARTS[p] for p in dict.fromkeys(parts))


def selection(params: Params) -> Selection:
    return Selection(
        prefixes=parts_param(params),
        sender=params.text("sender", max_length=512),
        recipient=params.text("recipient", max_length=512),
        domain=params.text("domain", max_length=255),
        status=params.text("status", max_length=512),
        queue_id=params.text("queue_id", max_length=32),
        min_age=params.integer("min_age", 0, low=0, high=100 * 365 * 86400) or 0,
        sort=params.choice("sort", (*SORT_KEYS, "none"), "arrival"),
        descending=params.boolean("descending"),
        offset=params.integer("offset", 0, low=0, high=10**9) or 0,
        limit=params.integer("limit", None, low=0, high=10**9),
        row_format=params.choice("row_format", ROW_FORMATS, OBJECT),
    )
