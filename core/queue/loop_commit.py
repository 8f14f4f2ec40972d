"""Group commit for an asyncio loop: the loop writes and renames, the kernel syncs.

:class:`LoopCommitter` is what an SMTP session worker uses.  A session that
has received a message calls :meth:`~LoopCommitter.submit_async` and awaits
the future; the loop goes on serving the other sessions while the disk works:

1. at the next turn of the loop, every message submitted until then forms
   one batch; each message's qf is formatted, its df and tf are created and
   written, and their write-back is started (:mod:`.writeback`);
2. the fdatasyncs of all their files start in the background
   (:mod:`.background_sync`: kernel AIO, else a helper thread);
3. when they are back, the loop renames each synced tf to its qf and starts
   one fsync of the directory in the background;
4. when that is back, the messages are durable
   (:func:`.commit.finish_durable`): the loop resolves the futures, and at
   its next turn stages the next batch: everything submitted meanwhile.

At most one batch is on the disk at a time, so a batch grows with the load
(the messages that finish DATA while one syncs go together in the next) and
costs one directory fsync however many messages it holds.  The loop creates
files only while no batch is being synced (creating one while the
directory's fsync writes it waits for that write).  With kernel AIO no
thread of ours waits on the disk, so the loop never hands the interpreter
lock to a helper and back (docs/benchmarks.md, "Syncs through kernel AIO").
:meth:`~LoopCommitter.close` (on the loop's thread) waits for the batch on the
disk, commits what is still pending, and refuses more.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from .background_sync import BackgroundSync, SyncDone, SyncRequest, background_sync
from .commit import (
    PendingCommit,
    Spool,
    check_spool,
    directory_outcome,
    publish_all,
    record_file_syncs,
    settle,
    spool_settings,
    start_writeback_of,
)
from .durable import DirectorySync
from .errors import QueueError
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
        self._on_disk: list[_LoopCommit] | None = None  # the batch being synced
        self._directory = DirectorySync(self.queue_dir)
        self._sync: BackgroundSync | None = None  # made on the loop's first batch
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit_async(self, writer: MessageWriter, qf: QueueFile) -> asyncio.Future[None]:
        """Queue ``writer``'s commit; await the future (None once the message is durable)."""
        check_spool(writer, self.queue_dir)
        if self._closed:
            raise QueueError("committer is closed")
        loop = asyncio.get_running_loop()
        if self._sync is None:
            self._loop = loop
            self._sync = background_sync(loop)
        waiter: asyncio.Future[None] = loop.create_future()
        self._pending.append(_LoopCommit(writer, qf, waiter=waiter))
        if not self._scheduled and self._on_disk is None:
            self._scheduled = True
            loop.call_soon(self.flush)
        return waiter

    def flush(self) -> None:
        """Stage what is pending and start its syncs, unless a batch is on the disk."""
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
        self._on_disk = batch
        requests: list[SyncRequest] = [
            (fd, True) for item in batch for fd, _path in item.writer.sync_fds()
        ]
        self._start_sync(
            batch, requests, lambda errors: self._files_synced(batch, requests, errors)
        )

    def _start_sync(
        self, batch: list[_LoopCommit], requests: list[SyncRequest], step: SyncDone
    ) -> None:
        """Start ``requests`` in the background; ``step`` takes their errors on the loop."""

        def done(errors: list[int]) -> None:
            try:
                step(errors)
            except Exception as exc:  # a bug fails the batch; its sessions must not wait forever
                self._fail(batch, exc)

        if not requests:
            done([])
            return
        assert self._sync is not None
        self._sync.start(requests, done)

    def _files_synced(
        self, batch: list[_LoopCommit], requests: list[SyncRequest], errors: list[int]
    ) -> None:
        """The df and tf syncs are back: record them, rename the synced messages."""
        outcome = {fd: _os_error(error) for (fd, _), error in zip(requests, errors, strict=True)}
        for item in batch:
            record_file_syncs(item, lambda fd: outcome[fd])
        published = publish_all([item for item in batch if item.error is None])
        if not published or not self._fsync:
            self._directory_synced(batch, published, None)
            return
        try:
            directory = self._directory.descriptor()
        except OSError as exc:
            directory_outcome(published, exc, self.queue_dir, "opening directory")
            self._batch_done(batch)
            return
        self._start_sync(
            batch,
            [(directory, False)],
            lambda errors: self._directory_synced(batch, published, _os_error(errors[0])),
        )

    def _directory_synced(
        self, batch: list[_LoopCommit], published: list[_LoopCommit], error: OSError | None
    ) -> None:
        """The directory fsync is back: the published messages are durable, or all failed."""
        self.committed += len(directory_outcome(published, error, self.queue_dir))
        self._batch_done(batch)

    def _fail(self, batch: list[_LoopCommit], exc: BaseException) -> None:
        for item in batch:
            if not item.writer.committed:
                item.writer.abort()
                item.error = exc
        self._batch_done(batch)

    def _batch_done(self, batch: list[_LoopCommit]) -> None:
        """Resolve the batch's futures; what is pending is staged at the loop's next turn."""
        self.batches += 1
        self._on_disk = None
        for item in batch:
            settle(item.waiter, item.error)
        if self._pending and not self._scheduled and self._loop is not None:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def close(self) -> None:
        """Commit what is pending, wait for the batch on the disk, settle all, refuse more."""
        self._closed = True
        while True:
            if self._on_disk is None:
                self.flush()  # what is pending, if anything
                if self._on_disk is None:
                    break
            assert self._sync is not None
            self._sync.wait()
        if self._sync is not None:
            self._sync.close()
        self._directory.close()


def _os_error(number: int) -> OSError | None:
    """The OSError an errno from :mod:`.background_sync` stands for (None for 0)."""
    return OSError(number, os.strerror(number)) if number else None
