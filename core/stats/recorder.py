"""One process's traffic counts, kept in memory and flushed to both statistics files.

The receiver and the queue runner count events here (cheap: a few integer
additions); :meth:`StatsRecorder.flush` merges them into Sendmail's
StatusFile (under its lock, as Sendmail does when a process exits) and adds
them to the time-series ring. The daemon flushes once a second and at exit;
one-shot commands flush before they exit.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from .errors import StatsError
from .statusfile import StatCounters, StatusFile
from .timeseries import TimeSeries

LOCAL = 3  # Sendmail's mailer numbers (SENDMAIL.md §3)
ESMTP = 5


class StatsRecorder:
    """Counts for StatusFile (``mailstats``) and the graphs' time series."""

    def __init__(
        self,
        status_file: Path | None,
        series_file: Path | None,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.counters = StatCounters()
        self.series: Counter[str] = Counter()
        self._status = StatusFile(status_file) if status_file is not None else None
        self._series_path = series_file
        self._ring: TimeSeries | None = None
        self._log = log or (lambda text: None)

    # -- events -----------------------------------------------------------
    def connection_in(self) -> None:
        self.counters.connection_in()
        self.series["connections"] += 1

    def received(self, mailer: int, size: int) -> None:
        self.counters.received(mailer, size)
        self.series["received"] += 1
        self.series["bytes_in"] += size

    def rejected(self, mailer: int) -> None:
        self.counters.rejected(mailer)
        self.series["rejected"] += 1

    def discarded(self, mailer: int) -> None:
        self.counters.discarded(mailer)
        self.series["discarded"] += 1

    def connection_out(self) -> None:
        self.counters.connection_out()

    def delivered(self, mailer: int, size: int) -> None:
        self.counters.delivered(mailer, size)
        self.series["delivered"] += 1
        self.series["bytes_out"] += size

    def deferred(self) -> None:
        self.series["deferred"] += 1

    def bounced(self) -> None:
        self.series["bounced"] += 1

    # -- persistence ------------------------------------------------------
    def _series(self) -> TimeSeries | None:
        if self._ring is None and self._series_path is not None:
            self._ring = TimeSeries(self._series_path)
        return self._ring

    def flush(self, now: float | None = None) -> None:
        """Write what was counted; a failing file is logged, never raised."""
        stamp = time.time() if now is None else now
        if self._status is not None and not self.counters.empty():
            self._status.merge(self.counters, now=stamp)
        self.counters.clear()
        if self.series:
            counts = dict(self.series)
            self.series.clear()
            try:
                ring = self._series()
                if ring is not None:
                    ring.add(counts, now=stamp)
            except (OSError, StatsError) as exc:
                self._log(f"time series {self._series_path}: {exc}")

    def set_queue_gauges(self, size: int, oldest_age: float, now: float | None = None) -> None:
        try:
            ring = self._series()
            if ring is not None:
                ring.set_gauges({"queue_size": size, "oldest_age": oldest_age}, now=now)
        except (OSError, StatsError) as exc:
            self._log(f"time series {self._series_path}: {exc}")

    def close(self) -> None:
        self.flush()
        if self._ring is not None:
            self._ring.close()
