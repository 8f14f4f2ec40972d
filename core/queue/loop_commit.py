"""Group commit for an asyncio loop: the loop writes, one helper thread waits on the disk.

:class:`LoopCommitter` is what an SMTP session worker uses.  A session that
has received a message calls :meth:`~LoopCommitter.submit_async` and awaits
the future; the loop goes on serving the other sessions while the disk works:

1. at the next turn of the loop, every message submitted until then forms
   one batch; on the loop's thread each message's qf is formatted, its df
   and tf are created and written, and their write-back is started
   (:mod:`.writeback`) -- quick system calls, made where the interpreter
   lock already is;
2. the batch goes to the committer's one helper thread, which fdatasyncs
   each file, renames each tf to its qf and fsyncs the directory once; the
   messages are then durable (:func:`.commit.finish_durable`);
3. the helper hands the batch back to the loop, which resolves the futures
   and at once stages and sends the next batch: everything submitted
   meanwhile.

At most one batch is on the disk at a time, so a batch grows with the load
(the messages that finish DATA while one syncs go together in the next) and
costs one directory fsync and two thread hand-overs however many messages it
holds.  The loop creates files only while no batch is being synced (creating
one while the helper's fdatasync writes the directory waits for that write).
The helper makes a few system calls per message and almost no Python, so it
seldom waits for the interpreter lock the loop holds.  (A pool of
helpers that each created, wrote and synced a share of every batch made the
lock change hands at each of their system calls: about 35 context switches
per message, and a third fewer messages per second; see docs/benchmarks.md.)
:meth:`~LoopCommitter.close` (on the loop's thread) waits for the batch on the
disk, commits what is still pending, and refuses more.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
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
    start_writeback_of,
    sync_files,
)
from .durable import DirectorySync
from .errors import QueueError, write_error
from .qfmodel import QueueFile
from .writer import MessageWriter


@dataclass(eq=False)
class _LoopCommit(PendingCommit):
    waiter: asyncio.Future[None] | None = None


class LoopCommitter:
    """Commits messages of one queue directory in batches, for one event loop."""

    def __init__(self, spool: Path | Spool, *, fsync: bool | None = None) -> None:
        self.queue_dir, self._fsync = spool_settings(spool, fsync)
        self.batches = 0  # batches made durable (one directory fsync each)
        self.committed = 0
        self._pending: list[_LoopCommit] = []
        self._scheduled = False
        self._closed = False
        self._on_disk: list[_LoopCommit] | None = None  # the batch the helper has
        self._directory = DirectorySync(self.queue_dir)
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queue-sync")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cond = threading.Condition()
        self._returned: list[_LoopCommit] | None = None  # back from the helper, under _cond

    def submit_async(self, writer: MessageWriter, qf: QueueFile) -> asyncio.Future[None]:
        """Queue ``writer``'s commit; await the future (None once the message is durable)."""
        check_spool(writer, self.queue_dir)
        if self._closed:
            raise QueueError("committer is closed")
        loop = asyncio.get_running_loop()
        self._loop = loop
        waiter: asyncio.Future[None] = loop.create_future()
        self._pending.append(_LoopCommit(writer, qf, waiter=waiter))
        if not self._scheduled and self._on_disk is None:
            self._scheduled = True
            loop.call_soon(self.flush)
        return waiter

    # -- on the loop's thread ------------------------------------------------
    def flush(self) -> None:
        """Stage what is pending and hand it to the helper, unless a batch is on the disk."""
        self._scheduled = False
        if self._on_disk is not None or not self._pending:
            return
        pending, self._pending = self._pending, []
        batch: list[_LoopCommit] = []
        for item in pending:
            if item.waiter is not None and item.waiter.cancelled():
                item.writer.abort()
                continue
            try:
                item.writer.stage(item.qf)
            except Exception as exc:  # the writer has cleaned up
                settle(item.waiter, exc)
                continue
            start_writeback_of(item)
            batch.append(item)
        if not batch:
            return
        try:
            self._directory.open()  # before the helper uses it
        except OSError as exc:
            error = write_error(exc, str(self.queue_dir), "opening directory")
            for item in batch:
                item.writer.abort()
                settle(item.waiter, error)
            return
        self._on_disk = batch
        self._helper.submit(self._sync_batch, batch)

    def _drain(self) -> None:
        """Resolve the futures of the batch back from the helper; send the next one."""
        with self._cond:
            batch, self._returned = self._returned, None
        if batch is None:
            return
        self._on_disk = None
        for item in batch:
            settle(item.waiter, item.error)
        self.flush()

    # -- on the helper thread ------------------------------------------------
    def _sync_batch(self, batch: list[_LoopCommit]) -> None:
        """fdatasync every file of the batch, rename each tf, one directory fsync, report."""
        try:
            for item in batch:
                sync_files(item)
            synced = [item for item in batch if item.error is None]
            durable = directory_synced(publish_all(synced), self._directory, fsync=self._fsync)
        except Exception as exc:  # a bug fails the batch; its sessions must not wait forever
            durable = [item for item in batch if item.writer.committed]
            for item in batch:
                if not item.writer.committed:
                    item.writer.abort()
                    item.error = exc
        with self._cond:
            self.committed += len(durable)
            self.batches += 1
            self._returned = batch
            self._cond.notify_all()
        if not self._closed and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is closed; close() settles what is left
                pass

    # -- closing -------------------------------------------------------------
    def close(self) -> None:
        """Commit what is pending, wait for the batch on the disk, settle all, refuse more."""
        self._closed = True
        while True:
            if self._on_disk is None:
                self.flush()  # what is pending, if anything
                if self._on_disk is None:
                    break
            with self._cond:
                while self._returned is None:
                    self._cond.wait()
            self._drain()
        self._helper.shutdown(wait=True)
        self._directory.close()
