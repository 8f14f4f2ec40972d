"""Group commit: the messages that finish DATA together share one directory fsync.

:func:`commit_batch` is the durability step for a batch of messages: it
stages each (df and tf written), starts the write-back of all their files
(:mod:`.writeback`) and then fdatasyncs each, renames them into
place, does ONE directory fsync for the batch, and releases them
(:func:`finish_durable`, the one place every committer passes once messages
are durable).  Its steps are separate functions so a committer can run the
slow ones (the syncs) elsewhere.  An error in one
commit (ENOSPC, EIO, ...) fails only that one, with the ``QueueWriteError``
naming the errno; a failed directory fsync fails the whole batch and removes
its qf files, since none of them is durable.  Nothing may be acknowledged
before its commit has come back without an error.

Two committers use it: :class:`.loop_commit.LoopCommitter` (the SMTP
session workers) writes and renames on its asyncio loop's thread and has the
syncs done in the background (:mod:`.background_sync`), and
:class:`GroupCommitter` here runs them on one background thread, started by
the first commit handed to it (or by :meth:`~GroupCommitter.start`), for
callers without a loop to spare (``-bs``, the tests).
:meth:`~GroupCommitter.submit` returns a ``concurrent.futures.Future``;
:meth:`~GroupCommitter.submit_async` (from a running asyncio loop) returns an
``asyncio.Future`` of that loop, and the committer wakes each loop once per
batch.  Build it from a :class:`.store.QueueStore` (``GroupCommitter(store)``,
which takes the store's folder and fsync setting) or from a folder path.
``close()`` drains what is pending and stops the thread.  ``start=False``
lets a test queue several commits before the thread runs, so they form one
batch deterministically.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeVar

from .durable import DirectorySync, fdatasync_quietly
from .errors import QueueError, write_error
from .qfmodel import QueueFile
from .writeback import start_writeback
from .writer import MessageWriter


class Spool(Protocol):
    """What a committer needs from a :class:`.store.QueueStore`."""

    @property
    def queue_dir(self) -> Path: ...

    @property
    def fsync(self) -> bool: ...


class Committer(Protocol):
    """What a receiver needs from a committer (:class:`GroupCommitter` or a loop's)."""

    def submit_async(self, writer: MessageWriter, qf: QueueFile) -> asyncio.Future[None]: ...

    def close(self) -> None: ...


def spool_settings(spool: Path | Spool, fsync: bool | None) -> tuple[Path, bool]:
    """(queue folder, whether to sync) from a folder or a store, ``fsync`` overriding."""
    if isinstance(spool, Path):
        return spool, True if fsync is None else fsync
    return Path(spool.queue_dir), spool.fsync if fsync is None else fsync


@dataclass(eq=False)
class PendingCommit:
    """One message handed to a committer; ``error`` is set when its commit failed."""

    writer: MessageWriter
    qf: QueueFile
    error: BaseException | None = None


def commit_batch(
    batch: Sequence[PendingCommit], directory: DirectorySync, *, fsync: bool
) -> list[PendingCommit]:
    """Make every message of ``batch`` durable; returns those that are (the rest have ``error``)."""
    staged = stage_all(batch)
    sync_staged(staged)
    return directory_synced(publish_all(staged), directory, fsync=fsync)


Commit = TypeVar("Commit", bound=PendingCommit)


def stage_all(batch: Sequence[Commit]) -> list[Commit]:
    """Write each message's df and tf (no sync yet); those that could be written."""
    staged: list[Commit] = []
    for item in batch:
        try:
            item.writer.stage(item.qf)
        except Exception as exc:  # the writer has already cleaned up
            item.error = exc
            continue
        staged.append(item)
    return staged


def sync_staged(items: Sequence[PendingCommit]) -> None:
    """fdatasync the files of staged messages, all their write-backs started first."""
    for item in items:
        if item.error is None:
            start_writeback_of(item)
    for item in items:
        if item.error is None:
            sync_files(item)


def start_writeback_of(item: PendingCommit) -> None:
    """Start the disk writes of a staged message's files (see :mod:`.writeback`)."""
    for fd, _path in item.writer.sync_fds():
        start_writeback(fd)


def sync_files(item: PendingCommit) -> None:
    """fdatasync a staged message's files; on failure it is aborted and ``error`` is set."""
    record_file_syncs(item, fdatasync_quietly)


def record_file_syncs(item: PendingCommit, sync: Callable[[int], OSError | None]) -> None:
    """Take each of a staged message's files through ``sync`` (its error, or None), in
    order; the first failure aborts the message and sets ``error``, else it is synced."""
    try:
        for fd, path in item.writer.sync_fds():
            error = sync(fd)
            if error is not None:
                item.writer.sync_failed(error, path)
        item.writer.synced()
    except Exception as exc:  # aborted; the mapped QueueWriteError
        item.error = exc


def publish_all(items: Sequence[Commit]) -> list[Commit]:
    """Rename each synced message's tf to its qf; those that are in place."""
    published: list[Commit] = []
    for item in items:
        if item.error is not None:
            continue
        try:
            item.writer.publish()
        except Exception as exc:
            item.error = exc
            continue
        published.append(item)
    return published


def directory_synced(
    published: Sequence[Commit], directory: DirectorySync, *, fsync: bool
) -> list[Commit]:
    """One directory fsync for the published messages; durable ones are finished."""
    if not published:
        return []
    error: OSError | None = None
    try:
        if fsync:
            directory.sync()
    except OSError as exc:
        error = exc
    return directory_outcome(published, error, directory.directory)


def directory_outcome(
    published: Sequence[Commit],
    error: OSError | None,
    directory: Path,
    action: str = "syncing directory",
) -> list[Commit]:
    """After the directory's fsync (``error``: how it failed, if it did): the published
    messages are finished and returned, or all aborted with the mapped error."""
    if error is not None:
        for item in published:
            item.writer.abort()
            item.error = write_error(error, str(directory), action)
        return []
    finish_durable(published)
    return list(published)


def finish_durable(items: Sequence[PendingCommit]) -> None:
    """The messages are durable (files synced, names in the synced directory): release them."""
    for item in items:
        item.writer.finish()


def check_spool(writer: MessageWriter, queue_dir: Path) -> None:
    """A committer only takes writers of its own folder."""
    if writer.queue_dir != queue_dir:
        raise QueueError(f"{writer.qid} belongs to {writer.queue_dir}, not {queue_dir}")


@dataclass(eq=False)
class _ThreadCommit(PendingCommit):
    """A commit waited for by a thread's future or by a loop's future."""

    future: Future[None] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[None] | None = None

    def claim(self) -> bool:
        """False when the waiter gave up (cancelled) before the commit started."""
        if self.future is not None:
            return self.future.set_running_or_notify_cancel()
        return self.waiter is None or not self.waiter.cancelled()


class GroupCommitter:
    """Commits messages of one queue directory in batches, on a thread of its own."""

    def __init__(self, spool: Path | Spool, *, fsync: bool | None = None, start: bool = True):
        self.queue_dir, self._fsync = spool_settings(spool, fsync)
        self.batches = 0
        self.committed = 0
        self._cond = threading.Condition()
        self._pending: list[_ThreadCommit] = []
        self._closing = False
        self._auto_start = start
        self._directory = DirectorySync(self.queue_dir)
        self._thread = threading.Thread(target=self._run, name="queue-group-commit", daemon=True)

    def start(self) -> None:
        """Start the committer thread (the first commit does it unless ``start=False``)."""
        with self._cond:
            if self._thread.ident is None:
                self._thread.start()

    def submit(self, writer: MessageWriter, qf: QueueFile) -> Future[None]:
        """Queue ``writer``'s commit; the future's result is None once it is durable."""
        future: Future[None] = Future()
        self._queue(_ThreadCommit(writer, qf, future=future))
        return future

    def submit_async(self, writer: MessageWriter, qf: QueueFile) -> asyncio.Future[None]:
        """As :meth:`submit`, for a coroutine: await the returned future of the running loop."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._queue(_ThreadCommit(writer, qf, loop=loop, waiter=waiter))
        return waiter

    def _queue(self, item: _ThreadCommit) -> None:
        check_spool(item.writer, self.queue_dir)
        with self._cond:
            if self._closing:
                raise QueueError("group committer is closed")
            self._pending.append(item)
            self._cond.notify()
            if self._auto_start and self._thread.ident is None:
                self._thread.start()

    def close(self) -> None:
        """Finish every pending commit, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.ident is not None:
            self._thread.join()
        elif self._pending:
            self._commit(self._take())
        self._directory.close()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _take(self) -> list[_ThreadCommit]:
        with self._cond:
            batch, self._pending = self._pending, []
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending and self._closing:
                    return
            self._commit(self._take())

    def _commit(self, batch: list[_ThreadCommit]) -> None:
        live: list[_ThreadCommit] = []
        for item in batch:
            if item.claim():
                live.append(item)
            else:
                item.writer.abort()
        if live:
            durable = commit_batch(live, self._directory, fsync=self._fsync)
            self.committed += len(durable)
            self.batches += 1
        _complete(batch)


def _complete(batch: list[_ThreadCommit]) -> None:
    """Settle every commit of the batch: thread futures now, each loop's with one wake-up."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_ThreadCommit]] = {}
    for item in batch:
        if item.future is not None:
            if not item.future.done():
                if item.error is not None:
                    item.future.set_exception(item.error)
                else:
                    item.future.set_result(None)
        elif item.loop is not None:
            by_loop.setdefault(item.loop, []).append(item)
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # the loop is closed: nobody waits any more
            continue


def _settle(items: list[_ThreadCommit]) -> None:
    """On the waiting loop: resolve each commit's asyncio future."""
    for item in items:
        settle(item.waiter, item.error)


def settle(waiter: asyncio.Future[None] | None, error: BaseException | None) -> None:
    """Resolve a commit's asyncio future unless its waiter has gone."""
    if waiter is None or waiter.done():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(None)
