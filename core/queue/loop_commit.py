"""Group commit for an asyncio loop: it writes, helper threads wait on the disk.

:class:`LoopCommitter` is what an SMTP session worker uses.  A session that
has received a message calls :meth:`~LoopCommitter.submit_async` and awaits
the future; the loop goes on serving the other sessions while the disk works:

1. at the next turn of the loop, every message submitted until then is
   staged as one batch on the loop's thread (df and tf created and written:
   quick);
2. the batch's files are dealt out to a few helper threads
   (:class:`.syncpool.SyncThreads`, at most :data:`SPLIT` per batch), each
   fdatasyncing its share -- a message's df and tf, and the shares of several
   batches, wait on the disk together;
3. the helper that finishes the batch's last share renames each message's tf
   to its qf and does one directory fsync for the batch; the messages are then
   durable (:func:`.commit.finish_durable`);
4. it hands the batch back to the loop, which resolves the futures.

Only the waiting is on other threads; a helper does almost no Python between
its system calls, so the interpreter lock is hardly contended, and each batch
costs a handful of thread hand-overs however many messages it holds (waking
a thread is not free).  Reports come back through one list and wake the loop
at most once per burst.  :meth:`~LoopCommitter.close` (on the loop's thread)
waits for everything in flight and settles it before returning.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .commit import (
    PendingCommit,
    Spool,
    check_spool,
    directory_synced,
    publish_all,
    settle,
    spool_settings,
    stage_all,
)
from .durable import DirectorySync
from .errors import QueueError
from .qfmodel import QueueFile
from .syncpool import SYNC_THREADS, SyncThreads, fdatasync_quietly
from .writer import MessageWriter

SPLIT = 4  # helper threads that share one batch's file syncs


@dataclass(eq=False)
class _LoopCommit(PendingCommit):
    waiter: asyncio.Future[None] | None = None
    sync_error: tuple[OSError, str] | None = None  # the first failed sync and its file


@dataclass(eq=False)
class _Batch:
    items: list[_LoopCommit]
    shares_left: int = 0  # under the committer's lock
    files: list[tuple[_LoopCommit, int, str]] = field(default_factory=list)


class LoopCommitter:
    """Commits messages of one queue directory, pipelined, for one event loop."""

    def __init__(
        self, spool: Path | Spool, *, fsync: bool | None = None, sync_threads: int = SYNC_THREADS
    ) -> None:
        self.queue_dir, self._fsync = spool_settings(spool, fsync)
        self.batches = 0  # batches made durable (one directory fsync each)
        self.committed = 0
        self._pending: list[_LoopCommit] = []
        self._scheduled = False
        self._closed = False
        self._directory = DirectorySync(self.queue_dir)
        self._threads = SyncThreads(sync_threads)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cond = threading.Condition()
        self._done: list[_Batch] = []  # batches back from the helpers, under _cond
        self._woken = False
        self._in_flight = 0  # batches handed to the helpers and not yet back

    def submit_async(self, writer: MessageWriter, qf: QueueFile) -> asyncio.Future[None]:
        """Queue ``writer``'s commit; await the future (None once the message is durable)."""
        check_spool(writer, self.queue_dir)
        if self._closed:
            raise QueueError("committer is closed")
        loop = asyncio.get_running_loop()
        self._loop = loop
        waiter: asyncio.Future[None] = loop.create_future()
        self._pending.append(_LoopCommit(writer, qf, waiter=waiter))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)
        return waiter

    # -- on the loop's thread ------------------------------------------------
    def flush(self) -> None:
        """Stage what was submitted and hand the batch to the helpers."""
        self._scheduled = False
        batch, self._pending = self._pending, []
        live: list[_LoopCommit] = []
        for item in batch:
            if item.waiter is not None and item.waiter.cancelled():
                item.writer.abort()
            else:
                live.append(item)
        staged = stage_all(live)
        for item in live:
            if item.error is not None:
                settle(item.waiter, item.error)
        if not staged:
            return
        work = _Batch(staged)
        work.files = [(item, fd, path) for item in staged for fd, path in item.writer.sync_fds()]
        work.shares_left = max(1, min(SPLIT, len(work.files)))
        self._directory.open()  # before the helpers share it
        self._in_flight += 1
        for share in range(work.shares_left):
            self._threads.submit(functools.partial(self._sync_share, work, share))

    def _drain(self) -> None:
        """Resolve the futures of the batches the helpers have finished."""
        with self._cond:
            done, self._done = self._done, []
            self._woken = False
        for work in done:
            self._in_flight -= 1
            for item in work.items:
                settle(item.waiter, item.error)

    # -- on a helper thread --------------------------------------------------
    def _sync_share(self, work: _Batch, share: int) -> None:
        step = max(1, min(SPLIT, len(work.files)))
        for item, fd, path in work.files[share::step]:
            error = fdatasync_quietly(fd)
            if error is not None and item.sync_error is None:
                item.sync_error = (error, path)  # one share per file: no other writer
        with self._cond:
            work.shares_left -= 1
            last = work.shares_left == 0
        if last:
            self._finish(work)

    def _finish(self, work: _Batch) -> None:
        """The batch's files are synced: rename, one directory fsync, and report."""
        synced: list[_LoopCommit] = []
        for item in work.items:
            if item.sync_error is not None:
                error, path = item.sync_error
                try:
                    item.writer.sync_failed(error, path)
                except Exception as exc:  # aborted; the mapped QueueWriteError
                    item.error = exc
                continue
            item.writer.synced()
            synced.append(item)
        durable = directory_synced(publish_all(synced), self._directory, fsync=self._fsync)
        with self._cond:
            self.committed += len(durable)
            self.batches += 1
            self._done.append(work)
            wake = not self._woken
            self._woken = True
            self._cond.notify_all()
        if wake and not self._closed and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is closed; close() settles what is left
                pass

    # -- closing -------------------------------------------------------------
    def close(self) -> None:
        """Commit what is pending, wait for everything in flight, settle it, refuse more."""
        self._closed = True
        if self._pending:
            self.flush()
        while True:
            self._drain()
            if not self._in_flight:
                break
            with self._cond:
                while not self._done:
                    self._cond.wait()
        self._threads.close()
        self._directory.close()
