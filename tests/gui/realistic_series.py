"""Ninety days of realistic traffic for the Dashboard screenshot, through the core's writers.

``build_statistics(folder)`` writes ``timeseries`` with the core's own
:class:`~postroom.core.stats.TimeSeries` (48 hours of minute buckets, 90 days of hour
buckets) and ``statistics`` with :class:`~postroom.core.stats.StatusFile`, and returns
the config lines that name them.  The traffic has an office-hours rhythm with quiet
weekends, a partner's server down for three and a half hours ending six hours ago
(deferrals pile up in the queue, then drain), a spam run (rejections) the night before,
a few bounces, and an old message
whose age climbs until it is returned after five days.  Seeded, so every run draws
the same picture relative to now.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

from postroom.core.stats import StatusFile, TimeSeries
from postroom.core.stats.statusfile import StatCounters, kbytes

DAYS = 90
MINUTE_HOURS = 48
LOCAL, ESMTP, PROG = 3, 5, 0


def _rate(stamp: float) -> float:
    """Messages per minute at ``stamp``: two office peaks, a quiet weekend."""
    t = time.localtime(stamp)
    hour = t.tm_hour + t.tm_min / 60
    rate = (
        4
        + 26 * math.exp(-(((hour - 10.5) / 2.4) ** 2))
        + 16 * math.exp(-(((hour - 15.0) / 2.2) ** 2))
    )
    return rate * (0.35 if t.tm_wday >= 5 else 1.0)


class _Traffic:
    def __init__(self, now: float) -> None:
        self.rng = random.Random(7)
        day = 86_400
        self.outage = (now - 9.5 * 3600, now - 6 * 3600)
        self.spam = (now - 16.2 * 3600, now - 15.5 * 3600)
        self.oldest_born = now - (1 * day + 7 * 3600)
        self.totals = StatCounters()

    def minute(self, stamp: float, width: int = 60) -> tuple[dict[str, int], dict[str, float]]:
        """Counts for a bucket of ``width`` seconds starting at ``stamp``, and gauges."""
        rng = self.rng
        mean = _rate(stamp) * width / 60
        received = max(0, round(rng.gauss(mean, math.sqrt(mean + 1))))
        down = self.outage[0] <= stamp < self.outage[1]
        deferred = round(received * (0.35 if down else 0.02) + rng.random())
        bounced = 1 if rng.random() < 0.02 * width / 60 else 0
        rejected = round(received * 0.08 + rng.random() * 1.5)
        if self.spam[0] <= stamp < self.spam[1]:
            rejected += round(rng.gauss(45, 8) * width / 60)
        delivered = max(0, received - bounced - (deferred if down else 0))
        if self.outage[1] <= stamp < self.outage[1] + 2400:  # the backlog drains
            delivered += round(rng.gauss(9, 2))
        size = rng.gauss(41_000, 9000)
        counts = {
            "received": received,
            "delivered": delivered,
            "deferred": deferred,
            "bounced": bounced,
            "rejected": rejected,
            "bytes_in": int(received * size),
            "bytes_out": int(delivered * size * 1.04),
            "connections": received + rejected,
        }
        self._count(counts, size)
        return counts, {"queue_size": self._queue(stamp), "oldest_age": self._oldest(stamp)}

    def _queue(self, stamp: float) -> float:
        base = 22 + 6 * math.sin(stamp / 5400) + self.rng.random() * 3
        start, end = self.outage
        if start <= stamp < end:
            base += (stamp - start) / 60 * 1.6
        elif end <= stamp:
            base += (end - start) / 60 * 1.6 * math.exp(-(stamp - end) / 1500)
        return round(base)

    def _oldest(self, stamp: float) -> float:
        return (stamp - self.oldest_born) % (5 * 86_400) + 3600

    def _count(self, counts: dict[str, int], size: float) -> None:
        totals = self.totals
        k = kbytes(int(size))
        local_in = counts["received"] // 9
        totals.nf[ESMTP] += counts["received"] - local_in
        totals.nf[LOCAL] += local_in
        totals.bf[ESMTP] += (counts["received"] - local_in) * k
        totals.bf[LOCAL] += local_in * k
        local_out = counts["delivered"] * 3 // 10
        prog = 1 if self.rng.random() < 0.01 else 0
        totals.nt[LOCAL] += local_out
        totals.nt[ESMTP] += counts["delivered"] - local_out - prog
        totals.nt[PROG] += prog
        totals.bt[LOCAL] += local_out * k
        totals.bt[ESMTP] += (counts["delivered"] - local_out) * k
        totals.nr[ESMTP] += counts["rejected"]
        totals.cr += counts["rejected"]
        totals.cf += counts["connections"]
        totals.ct += counts["delivered"] - local_out


def build_statistics(folder: Path, now: float | None = None) -> str:
    """Write ``timeseries`` and ``statistics`` in ``folder``; the config lines for them."""
    end = time.time() if now is None else now
    traffic = _Traffic(end)
    first_minute = (int(end) // 60 - MINUTE_HOURS * 60) * 60
    first_hour = (int(end) // 3600 - DAYS * 24) * 3600
    with TimeSeries(folder / "timeseries") as ring:
        for hour in range(first_hour, first_minute - first_minute % 3600, 3600):
            counts, gauges = traffic.minute(hour, width=3600)
            ring.add(counts, now=hour + 1800)
            ring.set_gauges(gauges, now=hour + 1800)
        for minute in range(first_minute - first_minute % 3600, int(end) // 60 * 60, 60):
            counts, gauges = traffic.minute(minute)
            ring.add(counts, now=minute + 30)
            ring.set_gauges(gauges, now=minute + 30)
    stats = folder / "statistics"
    stats.touch()
    StatusFile(stats).merge(traffic.totals, now=first_hour)
    return 'TimeSeriesFile = "timeseries"\nStatusFile = "statistics"\n'
