"""Group commit: many sessions share one directory fsync.

:class:`GroupCommitter` runs one background thread.  Each
:meth:`~GroupCommitter.submit` queues a ``(writer, qf)`` pair and returns a
``concurrent.futures.Future``.  The thread takes every pending commit at
once; for each it fsyncs the df and writes and fsyncs the tf
(:meth:`.writer.MessageWriter.prepare`), renames them all into place, does ONE
directory fsync for the batch, then completes the futures.  An error in one
commit (ENOSPC, EIO, ...) fails only that future, with the
``QueueWriteError`` naming the errno; a failed directory fsync fails the whole
batch and removes its qf files, since none of them is durable.  Nothing is
acknowledged before its future completes successfully.

In asyncio code, await ``asyncio.wrap_future(committer.submit(w, qf))``.
Build it from a :class:`.store.QueueStore` (``GroupCommitter(store)``, which
takes the store's folder and fsync setting) or from a folder path.
``close()`` drains what is pending and stops the thread.  ``start=False``
lets a test queue several commits before the thread runs, so they form one
batch deterministically.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Protocol

from .durable import fsync_dir
from .errors import QueueError, write_error
from .qfmodel import QueueFile
from .writer import MessageWriter

_Item = tuple[MessageWriter, QueueFile, "Future[None]"]


class Spool(Protocol):
    """What the committer needs from a :class:`.store.QueueStore`."""

    @property
    def queue_dir(self) -> Path: ...

    @property
    def fsync(self) -> bool: ...


class GroupCommitter:
    """Commits messages of one queue directory in batches."""

    def __init__(
        self, spool: Path | Spool, *, fsync: bool | None = None, start: bool = True
    ) -> None:
        if isinstance(spool, Path):
            self.queue_dir = spool
            self._fsync = True if fsync is None else fsync
        else:
            self.queue_dir = Path(spool.queue_dir)
            self._fsync = spool.fsync if fsync is None else fsync
        self.batches = 0
        self.committed = 0
        self._cond = threading.Condition()
        self._pending: list[_Item] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="queue-group-commit", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Start the committer thread (only needed with ``start=False``)."""
        self._thread.start()

    def submit(self, writer: MessageWriter, qf: QueueFile) -> Future[None]:
        """Queue ``writer``'s commit; the future's result is None once it is durable."""
        if writer.queue_dir != self.queue_dir:
            raise QueueError(f"{writer.qid} belongs to {writer.queue_dir}, not {self.queue_dir}")
        future: Future[None] = Future()
        with self._cond:
            if self._closing:
                raise QueueError("group committer is closed")
            self._pending.append((writer, qf, future))
            self._cond.notify()
        return future

    def close(self) -> None:
        """Finish every pending commit, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join()
        elif self._pending:
            self._commit_batch(self._take())

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _take(self) -> list[_Item]:
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
            self._commit_batch(self._take())

    def _commit_batch(self, batch: list[_Item]) -> None:
        published: list[tuple[MessageWriter, Future[None]]] = []
        for writer, qf, future in batch:
            if not future.set_running_or_notify_cancel():
                writer.abort()
                continue
            try:
                writer.prepare(qf)
                writer.publish()
            except Exception as exc:  # the writer has already cleaned up
                future.set_exception(exc)
                continue
            published.append((writer, future))
        if not published:
            return
        try:
            if self._fsync:
                fsync_dir(self.queue_dir)
        except OSError as exc:
            for writer, future in published:
                writer.abort()
                future.set_exception(write_error(exc, str(self.queue_dir), "syncing directory"))
        else:
            for writer, future in published:
                writer.finish()
                future.set_result(None)
            self.committed += len(published)
        self.batches += 1
