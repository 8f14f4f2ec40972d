"""Threads that wait on the disk so an event loop does not have to.

An fdatasync or a directory fsync takes milliseconds of waiting and almost
no CPU; a file system folds syncs that wait at the same moment into one
journal commit, where one after the other each waits for a commit of its
own.  :class:`SyncThreads` runs such jobs on a few threads: :meth:`submit`
hands one over and returns at once; the job itself reports back (see
:mod:`.loop_commit`).  A job does little Python between its system calls,
so it rarely waits for the interpreter lock.  The threads start on first
use, so a process that never syncs (or forks first) has none.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

SYNC_THREADS = 16


def fdatasync_quietly(fd: int) -> OSError | None:
    """fdatasync ``fd``; the error instead of raising it."""
    try:
        os.fdatasync(fd)
    except OSError as exc:
        return exc
    return None


class SyncThreads:
    """Up to ``threads`` threads running submitted jobs, each job on one thread."""

    def __init__(self, threads: int = SYNC_THREADS) -> None:
        self._size = max(1, threads)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on a helper thread (a new one while all are busy, up to the limit)."""
        with self._lock:
            start = self._idle == 0 and len(self._threads) < self._size
            if start:
                thread = threading.Thread(target=self._work, name="queue-sync", daemon=True)
                self._threads.append(thread)
            else:
                self._idle -= 1 if self._idle > 0 else 0
        self._jobs.put(job)
        if start:
            thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            finally:
                with self._lock:
                    self._idle += 1

    def close(self) -> None:
        """Stop the threads once the jobs already submitted are done."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join()
