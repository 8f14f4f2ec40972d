"""Syncs an event loop does not wait for: start them, get called back on the loop.

A :class:`BackgroundSync` runs one group of fsyncs at a time for an asyncio
loop.  :meth:`~BackgroundSync.start` takes ``(fd, datasync)`` requests and a
callback, returns at once, and the callback later runs on the loop with one
errno per request (0: synced).  :meth:`~BackgroundSync.wait` blocks until the
group in flight is done and runs its callback there and then (for closing).

:func:`background_sync` picks the engine:

* :class:`KernelSync` -- Linux kernel AIO (:mod:`.kernel_aio`): one
  ``io_submit`` for the whole group, the kernel's workers sync the files side
  by side, and the loop reads the completions from an eventfd it watches.  No
  thread of ours waits, so nothing hands the interpreter lock back and forth.
* :class:`ThreadSync` -- one helper thread makes the calls one after the
  other and hands the result back with ``call_soon_threadsafe``; where kernel
  AIO is missing.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from .kernel_aio import SyncRing, open_sync_ring

SyncRequest = tuple[int, bool]  # (descriptor, fdatasync rather than fsync)
SyncDone = Callable[[list[int]], None]  # one errno per request, 0 when it synced


class BackgroundSync(Protocol):
    """One group of fsyncs at a time, its result delivered on the loop."""

    def start(self, requests: Sequence[SyncRequest], done: SyncDone) -> None:
        """Start the syncs; ``done(errors)`` runs later on the loop (never inside start)."""

    def wait(self) -> None:
        """Block until the group in flight (if any) is done, and run its ``done`` now."""

    def close(self) -> None:
        """Wait for the group in flight; free the engine's thread or kernel context."""


def sync_now(requests: Sequence[SyncRequest]) -> list[int]:
    """Make the calls here, one after the other; one errno per request."""
    errors: list[int] = []
    for fd, datasync in requests:
        try:
            (os.fdatasync if datasync else os.fsync)(fd)
        except OSError as exc:
            errors.append(exc.errno or 0)
        else:
            errors.append(0)
    return errors


class _Group:
    """The group in flight: its requests' errors as they come, and who to tell."""

    def __init__(self, count: int, done: SyncDone) -> None:
        self.errors = [0] * count
        self.left = count
        self.done = done


class KernelSync(BackgroundSync):
    """Kernel AIO: the loop submits and later reaps; nobody blocks."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ring: SyncRing) -> None:
        self._loop = loop
        self._ring = ring
        self._group: _Group | None = None
        loop.add_reader(ring.eventfd, self._reap)

    def start(self, requests: Sequence[SyncRequest], done: SyncDone) -> None:
        assert self._group is None, "one group at a time"
        group = _Group(len(requests), done)
        try:
            taken = self._ring.submit([(fd, i, ds) for i, (fd, ds) in enumerate(requests)])
        except OSError:
            taken = 0
        # What the kernel would not take (a descriptor it cannot sync, no room) is
        # synced here, the plain way, and reported the same.
        group.errors[taken:] = sync_now(requests[taken:])
        group.left = taken
        self._group = group
        if taken == 0:
            self._loop.call_soon(self._deliver)

    def _reap(self) -> None:
        group = self._group
        try:
            finished = self._ring.reap()
        except OSError as exc:  # the context itself failed: nothing more can be known
            if group is not None:
                unknown = exc.errno or errno.EIO
                group.errors = [e or unknown for e in group.errors]  # none counts as synced
                group.left = 0
                self._deliver()
            return
        for token, error in finished:
            if group is not None:
                group.errors[token] = error
                group.left -= 1
        if group is not None and group.left == 0:
            self._deliver()

    def _deliver(self) -> None:
        group, self._group = self._group, None
        if group is not None:
            group.done(group.errors)

    def wait(self) -> None:
        while self._group is not None and self._group.left:
            select.select([self._ring.eventfd], [], [])
            self._reap()
        self._deliver()

    def close(self) -> None:
        self.wait()
        if not self._loop.is_closed():
            self._loop.remove_reader(self._ring.eventfd)
        self._ring.close()


class ThreadSync(BackgroundSync):
    """One helper thread makes the calls; the loop hears back through call_soon_threadsafe."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queue-sync")
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._done: SyncDone | None = None
        self._errors: list[int] | None = None  # back from the helper, under _lock

    def start(self, requests: Sequence[SyncRequest], done: SyncDone) -> None:
        assert self._done is None, "one group at a time"
        self._done = done
        self._finished.clear()
        self._helper.submit(self._run, list(requests))

    def _run(self, requests: list[SyncRequest]) -> None:
        errors = sync_now(requests)
        with self._lock:
            self._errors = errors
        self._finished.set()
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed; wait() delivers
            pass

    def _deliver(self) -> None:
        with self._lock:
            errors, self._errors = self._errors, None
        if errors is None:  # wait() has delivered it already
            return
        done, self._done = self._done, None
        assert done is not None
        done(errors)

    def wait(self) -> None:
        if self._done is not None:
            self._finished.wait()
            self._deliver()

    def close(self) -> None:
        self.wait()
        self._helper.shutdown(wait=True)


def background_sync(loop: asyncio.AbstractEventLoop) -> BackgroundSync:
    """Kernel AIO where it can fsync, else a helper thread."""
    ring = open_sync_ring()
    return ThreadSync(loop) if ring is None else KernelSync(loop, ring)
