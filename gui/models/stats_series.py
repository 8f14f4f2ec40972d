"""The Dashboard's data: one range of the server's time series, kept current by ticks.

:class:`SeriesBuffer` holds what ``stats.series`` answered for the range on show --
bucket start times and one array per metric (counters as counts per bucket, gauges
with NaN where nothing was recorded) -- and :meth:`SeriesBuffer.apply_tick` folds a
``stats.tick`` event (the current minute's counters and gauges) into it while the
buckets are minutes: the last bucket is replaced, a new minute appends buckets and
drops those that fell out of the range, so the arrays stay bounded.  Hour buckets
cannot be rebuilt from one minute; for them the Dashboard asks the series again.
The arrays are what the plots' curves get through ``setData``; :meth:`rows` is what the
CSV export writes.  No Qt here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

MESSAGE_SERIES = ("received", "delivered", "deferred", "bounced", "rejected")
BYTE_SERIES = ("bytes_in", "bytes_out")
GAUGE_SERIES = ("queue_size", "oldest_age")
PLOTTED = MESSAGE_SERIES + BYTE_SERIES + GAUGE_SERIES
MINUTE = 60
MAX_BUCKETS = 100_000

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TimeRange:
    """A range the Dashboard offers: its button label and its length in seconds."""

    label: str
    seconds: int


RANGES = (
    TimeRange("1 h", 3600),
    TimeRange("24 h", 86_400),
    TimeRange("7 d", 7 * 86_400),
    TimeRange("90 d", 90 * 86_400),
)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


class SeriesBuffer:
    """Bucket times and per-metric values of one range, as float arrays."""

    def __init__(self) -> None:
        self.span = RANGES[0].seconds
        self.resolution = MINUTE
        self.times: Array = np.zeros(0)
        self.values: dict[str, Array] = {name: np.zeros(0) for name in PLOTTED}
        self.gauges: frozenset[str] = frozenset(GAUGE_SERIES)

    def __len__(self) -> int:
        return len(self.times)

    def load(self, result: Mapping[str, Any], span: int) -> None:
        """Take a ``stats.series`` answer for a range of ``span`` seconds."""
        stamps = result.get("timestamps")
        counters = result.get("counters")
        gauges = result.get("gauges")
        if not isinstance(stamps, list) or not isinstance(counters, dict):
            raise ValueError("stats.series answered without timestamps or counters")
        gauges = gauges if isinstance(gauges, dict) else {}
        count = min(len(stamps), MAX_BUCKETS)
        self.span = span
        self.resolution = int(_number(result.get("resolution")) or MINUTE)
        self.times = np.array([_number(t) for t in stamps[-count:]], dtype=np.float64)
        self.gauges = frozenset(name for name in PLOTTED if name in gauges)
        for name in PLOTTED:
            raw = gauges.get(name) if name in gauges else counters.get(name)
            column = [_number(v) for v in raw[-count:]] if isinstance(raw, list) else []
            column += [math.nan if name in self.gauges else 0.0] * (count - len(column))
            self.values[name] = np.array(column, dtype=np.float64)

    def apply_tick(self, tick: Mapping[str, Any]) -> bool:
        """Fold a ``stats.tick`` into minute buckets; False when it cannot apply."""
        minute = _number(tick.get("minute"))
        if self.resolution != MINUTE or not len(self.times) or math.isnan(minute):
            return False
        raw_counters, raw_gauges = tick.get("counters"), tick.get("gauges")
        counters: Mapping[str, Any] = raw_counters if isinstance(raw_counters, dict) else {}
        gauges: Mapping[str, Any] = raw_gauges if isinstance(raw_gauges, dict) else {}
        last = float(self.times[-1])
        if minute > last:
            added = int((minute - last) // MINUTE)
            if added > len(self.times):  # a long gap: the whole range is new
                added = len(self.times)
                last = minute - added * MINUTE
            new_times = last + MINUTE * np.arange(1, added + 1, dtype=np.float64)
            self.times = np.concatenate([self.times, new_times])
            for name in PLOTTED:
                fill = math.nan if name in self.gauges else 0.0
                self.values[name] = np.concatenate([self.values[name], np.full(added, fill)])
            keep = int(np.searchsorted(self.times, minute - self.span))
            self.times = self.times[keep:]
            for name in PLOTTED:
                self.values[name] = self.values[name][keep:]
        index = self.index_of(minute)
        if index is None:
            return False
        for name in PLOTTED:
            source = gauges if name in self.gauges else counters
            if name in source:
                value = _number(source[name])
                self.values[name][index] = value if name in self.gauges else (value or 0.0)
        return True

    def index_of(self, stamp: float) -> int | None:
        """The index of the bucket starting exactly at ``stamp``."""
        i = int(np.searchsorted(self.times, stamp))
        return i if i < len(self.times) and self.times[i] == stamp else None

    def index_at(self, t: float) -> int | None:
        """The bucket that holds time ``t`` (the nearest one at the edges)."""
        if not len(self.times):
            return None
        i = bisect.bisect_right(self.times.tolist(), t) - 1
        return min(max(i, 0), len(self.times) - 1)

    def row(self, index: int) -> dict[str, float | None]:
        return {
            name: None if math.isnan(v := float(self.values[name][index])) else v
            for name in PLOTTED
        }

    def rows(self, start: float, end: float) -> Iterator[tuple[int, dict[str, float | None]]]:
        """``(bucket start, values)`` for each bucket that starts within [start, end]."""
        first = int(np.searchsorted(self.times, start))
        last = int(np.searchsorted(self.times, end, side="right"))
        for i in range(first, last):
            yield int(self.times[i]), self.row(i)

    def total(self, name: str) -> int:
        column = self.values[name]
        return int(np.nansum(column)) if len(column) else 0

    def latest(self, name: str) -> float | None:
        """The last value recorded for ``name`` in the range (gauges skip empty buckets)."""
        column = self.values[name]
        known = column[~np.isnan(column)]
        return float(known[-1]) if len(known) else None
