"""``events.subscribe``/``events.unsubscribe``: ``queue.changed`` by a cheap poll.

A watcher thread stats the queue folder every ``interval`` seconds (1 by default); a
change of its mtime, size or inode means a job arrived, left or was rewritten, and
only then does it count the jobs (one ``scandir``) and send
``{"event": "queue.changed", "data": {"queued": n, "held": n, "lost": n, "time": t}}``.
An unchanged folder costs one ``stat`` a poll; counting 100,000 jobs takes a good part
of a second, so after a count the next poll waits at least :data:`COUNT_SHARE` times
as long as the count took (on a busy big queue the events come a little less often
instead of the count taking a CPU away from a listing).
The request loop keeps answering meanwhile: events are whole lines written between
other lines.  ``stats.tick`` sends the time series' previous and current minute
(counters and gauges; one event each, the current one last) whenever either
changes, so live graphs move without polling ``stats.series``.
Subscribing again replaces the watcher (new interval).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..stats import StatsError, TimeSeries
from .context import Context, Stream, file_signature
from .params import Params

EVENTS = ("queue.changed", "stats.tick")
COUNT_SHARE = 10
"""After counting the jobs, wait at least this many times as long as the count took."""


def count_jobs(queue_dir: Path) -> dict[str, int]:
    counts = {"queued": 0, "held": 0, "lost": 0}
    keys = {"qf": "queued", "hf": "held", "Qf": "lost"}
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            key = keys.get(entry.name[:2])
            if key is not None:
                counts[key] += 1
    return counts


class QueueWatcher:
    """Polls one queue folder and calls ``emit`` when it changes."""

    def __init__(
        self,
        queue_dir: Path,
        interval: float,
        emit: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.queue_dir = queue_dir
        self.interval = interval
        self.emit = emit
        self._stop = threading.Event()
        self._last = file_signature(queue_dir)
        self._thread = threading.Thread(target=self._run, name="queue-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        wait = self.interval
        while not self._stop.wait(wait):
            wait = self.interval
            signature = file_signature(self.queue_dir)
            if signature == self._last:
                continue
            self._last = signature
            started = time.monotonic()
            try:
                data: dict[str, Any] = dict(count_jobs(self.queue_dir))
            except OSError as exc:
                data = {"error": f"{self.queue_dir}: {exc.strerror}"}
            wait = max(wait, COUNT_SHARE * (time.monotonic() - started))
            data["time"] = time.time()
            try:
                self.emit("queue.changed", data)
            except OSError:
                return  # the client went away; the request loop ends the session

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def _at(values: Sequence[Any], index: int, missing: Any) -> Any:
    return values[index] if index < len(values) else missing


def _gauge(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class StatsTicker:
    """Reads the current minute of the time series and emits ``stats.tick`` on change."""

    def __init__(
        self, series: Path, interval: float, emit: Callable[[str, dict[str, Any]], None]
    ) -> None:
        self.series = series
        self.interval = interval
        self.emit = emit
        self._stop = threading.Event()
        self._last: list[dict[str, Any]] | None = None
        self._thread = threading.Thread(target=self._run, name="stats-ticker", daemon=True)
        self._thread.start()

    def sample(self) -> list[dict[str, Any]]:
        """The previous and the current minute, oldest first.

        The previous one too: a session worker flushes its counters once a second, so
        a message received in the last second of a minute lands in it after the minute
        has ended -- a tick of the current minute alone would never show it.
        """
        now = time.time()
        with TimeSeries(self.series) as ring:
            data = ring.read(now - 120, now, resolution="minute", now=now)
        if not data.timestamps:
            return [{"minute": int(now // 60 * 60), "counters": {}, "gauges": {}}]
        ticks = []
        for i in range(max(0, len(data.timestamps) - 2), len(data.timestamps)):
            counters = {name: _at(values, i, 0) for name, values in data.counters.items()}
            gauges = {name: _gauge(_at(values, i, None)) for name, values in data.gauges.items()}
            ticks.append({"minute": data.timestamps[i], "counters": counters, "gauges": gauges})
        return ticks

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                ticks = self.sample()
            except (OSError, StatsError):
                continue
            if ticks == self._last:
                continue
            self._last = ticks
            try:
                for tick in ticks:  # the current minute last: it is the one a screen shows
                    self.emit("stats.tick", {**tick, "time": time.time()})
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def events_subscribe(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    names = params.strings("events", max_items=len(EVENTS), choices=EVENTS) or list(EVENTS)
    interval = params.number("interval", 1.0, low=0.05, high=3600.0)
    subscribed: list[str] = []
    unavailable: dict[str, str] = {}
    for name in dict.fromkeys(names):
        config = ctx.config()
        if name == "stats.tick" and config.time_series_file is None:
            unavailable[name] = "TimeSeriesFile is not set in the configuration"
            continue
        ctx.require_queue_view(config)
        old = ctx.watchers.pop(name, None)
        if old is not None:
            old.close()
        if name == "stats.tick":
            assert config.time_series_file is not None
            ctx.watchers[name] = StatsTicker(config.time_series_file, interval, out.event)
        else:
            ctx.watchers[name] = QueueWatcher(Path(config.queue_directory), interval, out.event)
        subscribed.append(name)
    result: dict[str, Any] = {"subscribed": subscribed, "unavailable": unavailable}
    if "queue.changed" in subscribed:
        result["queue"] = count_jobs(Path(ctx.config().queue_directory))
    return result


def events_unsubscribe(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    names = params.strings("events", max_items=len(EVENTS), choices=EVENTS) or list(EVENTS)
    stopped = []
    for name in names:
        watcher = ctx.watchers.pop(name, None)
        if watcher is not None:
            watcher.close()
            stopped.append(name)
    return {"unsubscribed": stopped}
