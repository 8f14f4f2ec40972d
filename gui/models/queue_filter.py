"""The queue browser's filter: parsing the filter bar, splitting work with the server.

A :class:`QueueFilter` holds one optional term per field: ``queue_id``, ``sender``,
``recipient``, ``domain``, ``status`` (substrings, case-insensitive like the server's)
and ``age``, ``size`` (comparisons such as ``>1h``, ``<30m``, ``>10k <1M``).  A term
written with a leading ``!`` is negated.  :meth:`QueueFilter.server_params` gives the
``queue.list`` params for what the server can filter (positive substrings and a
minimum age); :meth:`QueueFilter.local_test` returns a test for the rest (negations,
maximum age, size), applied to each row as it arrives.  Matching mirrors the server's
``queue_select`` so a negated term selects exactly the rows the positive one drops.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .queue_rows import ARRIVAL, ERROR, HOLD, QID, RECIPIENTS, SENDER, SIZE, STATUS, Fields

TEXT_FIELDS = ("queue_id", "sender", "recipient", "domain", "status")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZES = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_BOUND = re.compile(r"^([<>]=?)?\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$")


class FilterError(ValueError):
    """A filter field that cannot be read; ``field`` names it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.field = name


@dataclass(frozen=True)
class Range:
    """``low <= value < high`` (either side open), possibly negated."""

    low: float | None = None
    high: float | None = None
    negate: bool = False

    def test(self, value: float) -> bool:
        inside = (self.low is None or value >= self.low) and (
            self.high is None or value < self.high
        )
        return inside != self.negate


@dataclass(frozen=True)
class Text:
    value: str
    negate: bool = False


@dataclass(frozen=True)
class QueueFilter:
    texts: dict[str, Text] = field(default_factory=dict)
    age: Range | None = None
    size: Range | None = None

    @property
    def empty(self) -> bool:
        return not self.texts and self.age is None and self.size is None

    def server_params(self) -> dict[str, object]:
        params: dict[str, object] = {}
        for name, term in self.texts.items():
            if not term.negate:
                params[name] = term.value
        if self.age is not None and not self.age.negate and self.age.low:
            params["min_age"] = int(self.age.low)
        return params

    def local_test(self, now: float) -> Callable[[Fields], bool] | None:
        tests: list[Callable[[Fields], bool]] = []
        for name, term in self.texts.items():
            if term.negate:
                value = term.value if name == "queue_id" else term.value.lower()
                tests.append(_negated(_MATCHERS[name], value))
        age = self.age
        if age is not None and (age.negate or age.high is not None):
            tests.append(lambda r: age.test(now - r[ARRIVAL]))
        size = self.size
        if size is not None:
            tests.append(lambda r: size.test(r[SIZE]))
        if not tests:
            return None
        return lambda r: all(t(r) for t in tests)


def _negated(match: Callable[[Fields, str], bool], value: str) -> Callable[[Fields], bool]:
    return lambda row: not match(row, value)


def _rcpt(row: Fields, value: str) -> bool:
    return any(value in a.lower() for a in row[RECIPIENTS])


def _domain(row: Fields, value: str) -> bool:
    return any(value in a.rpartition("@")[2].lower() for a in row[RECIPIENTS])


def _status(row: Fields, value: str) -> bool:
    return value in "\n".join((row[STATUS], row[HOLD], row[ERROR])).lower()


_MATCHERS: dict[str, Callable[[Fields, str], bool]] = {
    "queue_id": lambda r, v: v in r[QID],
    "sender": lambda r, v: v in r[SENDER].lower(),
    "recipient": _rcpt,
    "domain": _domain,
    "status": _status,
}


def _split_negation(text: str) -> tuple[str, bool]:
    text = text.strip()
    if text.startswith("!"):
        return text[1:].strip(), True
    return text, False


def parse_range(name: str, text: str, units: dict[str, int], default_unit: str) -> Range | None:
    """``>1h``, ``<30m``, ``>5m <10m``, ``2h`` (= ``>2h``); ``!`` in front negates."""
    body, negate = _split_negation(text)
    if not body:
        return None
    low: float | None = None
    high: float | None = None
    spaced = re.sub(r"([<>]=?)\s*", r" \1", body)  # ">5m<10m", "> 5m" -> " >5m <10m"
    for part in spaced.split():
        match = _BOUND.match(part)
        if match is None:
            raise FilterError(name, f"{name}: cannot read {part!r} (try >1h or <10k)")
        op, number, unit = match.groups()
        scale = units.get((unit or default_unit).lower())
        if scale is None:
            raise FilterError(name, f"{name}: unknown unit {unit!r}")
        value = float(number) * scale
        if op and op.startswith("<"):
            high = value
        else:
            low = value
    return Range(low, high, negate)


def parse_filter(fields: dict[str, str]) -> QueueFilter:
    """The filter for the bar's fields (name -> text); raises :class:`FilterError`."""
    texts: dict[str, Text] = {}
    for name in TEXT_FIELDS:
        value, negate = _split_negation(fields.get(name, ""))
        if value:
            texts[name] = Text(value, negate)
    age = parse_range("age", fields.get("age", ""), _UNITS, "s")
    size = parse_range("size", fields.get("size", ""), _SIZES, "")
    return QueueFilter(texts, age, size)
