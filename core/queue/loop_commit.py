"""Group commit for an asyncio loop: it writes, helper threads wait on the disk.

:class:`LoopCommitter` is what an SMTP session worker uses.  A session that
has received a message calls :meth:`~LoopCommitter.submit_async` and awaits
the future; the loop goes on serving the other sessions while the disk works:

1. at the next turn of the loop, every message submitted until then forms
   one batch; its qf texts are formatted on the loop's thread (pure Python);
2. the batch is dealt out to a few helper threads
   (:class:`.syncpool.SyncThreads`, at most :data:`SPLIT` per batch): each
   creates and writes the df and tf of its share of the messages and
   fdatasyncs them -- file creation and syncs, the slow part on a shared
   disk, wait there together, for several batches at once;
3. the helper that finishes the batch's last share renames each message's tf
   to its qf and does one directory fsync for the batch; the messages are then
   durable (:func:`.commit.finish_durable`);
4. it hands the batch back to the loop, which resolves the futures.

Only system calls are on other threads; a helper does almost no Python
between them, so the interpreter lock is hardly contended, and each batch
costs a handful of thread hand-overs however many messages it holds (waking
a thread is not free).  Reports come back through one list and wake the loop
at most once per burst.  :meth:`~LoopCommitter.close` (on the loop's thread)
waits for everything in flight and settles it before returning.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from .commit import (
    PendingCommit,
    Spool,
    check_spool,
    directory_synced,
    publish_all,
    settle,
    spool_settings,
    sync_files,
)
from .durable import DirectorySync
from .errors import QueueError
from .qfformat import format_qf
from .qfmodel import QueueFile
from .syncpool import SYNC_THREADS, SyncThreads
from .writer import MessageWriter

SPLIT = 4  # helper threads that share one batch's file syncs


@dataclass(eq=False)
class _LoopCommit(PendingCommit):
    waiter: asyncio.Future[None] | None = None
    text: bytes = b""  # the formatted qf


@dataclass(eq=False)
class _Batch:
    items: list[_LoopCommit]
    shares_left: int = 0  # under the committer's lock


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
        formatted: list[_LoopCommit] = []
        for item in live:
            try:
                item.text = format_qf(item.qf)
            except ValueError as exc:
                item.writer.abort()
                settle(item.waiter, exc)
                continue
            formatted.append(item)
        if not formatted:
            return
        work = _Batch(formatted, shares_left=min(SPLIT, len(formatted)))
        self._directory.open()  # before the helpers share it
        self._in_flight += 1
        for share in range(work.shares_left):
            self._threads.submit(functools.partial(self._write_share, work, share))

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
    def _write_share(self, work: _Batch, share: int) -> None:
        """Create, write and sync the files of every ``SPLIT``-th message of the batch."""
        for item in work.items[share :: min(SPLIT, len(work.items))]:
            try:
                item.writer.stage_text(item.text)
            except Exception as exc:  # the writer has cleaned up
                item.error = exc
                continue
            sync_files(item)
        with self._cond:
            work.shares_left -= 1
            last = work.shares_left == 0
        if last:
            self._finish(work)

    def _finish(self, work: _Batch) -> None:
        """The batch's files are synced: rename, one directory fsync, and report."""
        synced = [item for item in work.items if item.error is None]
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
