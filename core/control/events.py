"""``events.subscribe``/``events.unsubscribe``: ``queue.changed`` by a cheap poll.

A watcher thread stats the queue folder every ``interval`` seconds (1 by default); a
change of its mtime, size or inode means a job arrived, left or was rewritten, and
only then does it count the jobs (one ``scandir``) and send
``{"event": "queue.changed", "data": {"queued": n, "held": n, "lost": n, "time": t}}``.
The request loop keeps answering meanwhile: events are whole lines written between
other lines.  ``stats.tick`` is accepted by name and reported as not available until
the statistics part exists.  Subscribing again replaces the watcher (new interval).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .context import Context, Stream
from .params import Params

EVENTS = ("queue.changed", "stats.tick")
UNAVAILABLE = {"stats.tick": "arrives with the statistics (MTA core, part 4)"}


def count_jobs(queue_dir: Path) -> dict[str, int]:
    counts = {"queued": 0, "held": 0, "lost": 0}
    keys = {"qf": "queued", "hf": "held", "Qf": "lost"}
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            key = keys.get(entry.name[:2])
            if key is not None:
                counts[key] += 1
    return counts


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


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
        self._last = _signature(queue_dir)
        self._thread = threading.Thread(target=self._run, name="queue-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            signature = _signature(self.queue_dir)
            if signature == self._last:
                continue
            self._last = signature
            try:
                data: dict[str, Any] = dict(count_jobs(self.queue_dir))
            except OSError as exc:
                data = {"error": f"{self.queue_dir}: {exc.strerror}"}
            data["time"] = time.time()
            try:
                self.emit("queue.changed", data)
            except OSError:
                return  # the client went away; the request loop ends the session

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
        if name in UNAVAILABLE:
            unavailable[name] = UNAVAILABLE[name]
            continue
        config = ctx.config()
        ctx.require_queue_view(config)
        old = ctx.watchers.pop(name, None)
        if old is not None:
            old.close()
        queue_dir = Path(config.queue_directory)
        ctx.watchers[name] = QueueWatcher(queue_dir, interval, out.event)
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
