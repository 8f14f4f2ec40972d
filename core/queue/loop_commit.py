"""Group commit for an asyncio loop: the loop batches, commit processes do the file work.

:class:`LoopCommitter` is what an SMTP session worker uses.  A session that
has received a message calls :meth:`~LoopCommitter.submit_async` and awaits
the future; the loop goes on serving the other sessions while the disk works:

1. at the next turn of the loop, the messages submitted until then (at most
   :data:`BATCH_MAX`) form one batch, which goes to a free commit process
   (:mod:`.commit_process`): each message's qf formatted, and its writer's
   buffered body or the descriptor of the df it spilled to
   (:meth:`.writer.MessageWriter.hand_over`);
2. the commit process creates, writes and fdatasyncs every df and tf of the
   batch, renames each tf to its qf, fsyncs the directory once, and answers
   one packet: per message durable, or the error that failed it;
3. the loop (a reader on that process's socket) resolves the futures and at
   once sends the next batch: everything submitted meanwhile.

There are :data:`COMMIT_PROCESSES` commit processes, so while one waits for
its syncs the next batch is already being written by another; a batch grows
with the load (the messages that finish DATA while the processes are busy go
together in the next) and costs one directory fsync however many messages it
holds.  The loop makes no file-system call for a commit and never waits for
the disk or for another thread's interpreter lock -- the reasons the previous
design (the loop wrote the files, one helper thread synced them) left the CPU
idle for a tenth of the time at 10 sessions (docs/benchmarks.md).

A commit process that dies (killed, or a bug) is replaced at once.  The
batch it had goes to the replacement, what the dead one left under the
batch's ids removed first; if that one dies too, the batch fails -- none
of its messages is acknowledged, and nothing of them is left behind.
:meth:`~LoopCommitter.close` (on the loop's thread) waits for the batches
on the disk, commits what is still pending, refuses more, and ends the
processes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from .commit import (
    PendingCommit,
    Spool,
    check_spool,
    settle,
    spool_settings,
)
from .commit_process import Batch, CommitProcess, CommitProcessGone, Message, gone_error
from .errors import QueueError, write_error
from .qfformat import format_qf
from .qfmodel import QueueFile
from .writer import MessageWriter

COMMIT_PROCESSES = 2  # one more brought no more messages per second (docs/benchmarks.md)
BATCH_MAX = 20  # messages per batch; a batch's descriptors must fit one packet
ATTEMPTS = 2  # a batch whose commit process dies goes to its replacement once


class _LoopCommit(PendingCommit):
    def __init__(self, writer: MessageWriter, qf: QueueFile, waiter: asyncio.Future[None]):
        super().__init__(writer, qf)
        self.waiter = waiter


@dataclass(eq=False)
class _InFlight:
    """A batch handed to a commit process, kept until it answers (to resend it if it dies)."""

    batch: list[_LoopCommit]
    request: Batch
    descriptors: list[int]
    attempts: int = 1


class LoopCommitter:
    """Commits messages of one queue directory in batches, for one event loop."""

    def __init__(
        self, spool: Path | Spool, *, fsync: bool | None = None, processes: int = COMMIT_PROCESSES
    ) -> None:
        self.queue_dir, self._fsync = spool_settings(spool, fsync)
        self.batches = 0  # batches answered (one directory fsync each)
        self.committed = 0
        self.replaced = 0  # commit processes that died and were replaced
        self._pending: list[_LoopCommit] = []
        self._scheduled = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._processes = [CommitProcess(self.queue_dir) for _ in range(processes)]
        self._free = list(self._processes)
        self._in_flight: dict[CommitProcess, _InFlight] = {}  # what each busy one has
        self._fork_error: OSError | None = None  # why the last replacement could not start

    @property
    def pids(self) -> list[int]:
        """The commit processes' ids."""
        return [process.pid for process in self._processes]

    def submit_async(self, writer: MessageWriter, qf: QueueFile) -> asyncio.Future[None]:
        """Queue ``writer``'s commit; await the future (None once the message is durable)."""
        check_spool(writer, self.queue_dir)
        if self._closed:
            raise QueueError("committer is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._watch(loop)
        waiter: asyncio.Future[None] = loop.create_future()
        self._pending.append(_LoopCommit(writer, qf, waiter))
        if not self._scheduled and (self._free or not self._processes):
            self._scheduled = True
            loop.call_soon(self.flush)
        return waiter

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Listen for the processes' answers on ``loop`` (the one submitting now)."""
        self._unwatch()
        self._loop = loop
        for process in self._processes:
            loop.add_reader(process.fileno(), self._answered, process)

    def _unwatch(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            for process in self._processes:
                self._loop.remove_reader(process.fileno())
        self._loop = None

    # -- on the loop's thread ------------------------------------------------
    def flush(self) -> None:
        """Hand what is pending to the free commit processes, a batch each."""
        self._scheduled = False
        if not self._processes and self._pending and self._start() is None:
            self._fail_pending()
        while self._free and self._pending:
            batch, messages, descriptors = self._take_batch()
            if batch:
                request: Batch = (self._fsync, messages)
                self._send(self._free.pop(), _InFlight(batch, request, descriptors))

    def _fail_pending(self) -> None:
        """No commit process could be started: nothing pending can be committed now."""
        assert self._fork_error is not None
        error = write_error(self._fork_error, str(self.queue_dir), "starting a commit process")
        pending, self._pending = self._pending, []
        for item in pending:
            item.writer.abort()
            settle(item.waiter, error)

    def _take_batch(self) -> tuple[list[_LoopCommit], list[Message], list[int]]:
        """Up to :data:`BATCH_MAX` pending commits, handed over; cancelled ones aborted."""
        taken, self._pending = self._pending[:BATCH_MAX], self._pending[BATCH_MAX:]
        batch: list[_LoopCommit] = []
        messages: list[Message] = []
        descriptors: list[int] = []
        for item in taken:
            if item.waiter.cancelled():
                item.writer.abort()
                continue
            try:
                text = item.qf if isinstance(item.qf, bytes) else format_qf(item.qf)
                body, df_fd = item.writer.hand_over()
            except (ValueError, QueueError) as exc:  # a bad qf; a writer aborted meanwhile
                item.writer.abort()
                settle(item.waiter, exc)
                continue
            if df_fd is not None:
                descriptors.append(df_fd)
            messages.append((item.writer.qid, text, body))
            batch.append(item)
        return batch, messages, descriptors

    def _send(self, process: CommitProcess, flight: _InFlight) -> None:
        self._in_flight[process] = flight
        try:
            process.send(flight.request, flight.descriptors)
        except CommitProcessGone as gone:
            self._lost(process, str(gone))

    def _answered(self, process: CommitProcess) -> None:
        """A commit process answered its batch, or ended."""
        try:
            results = process.answer()
        except CommitProcessGone as gone:
            self._lost(process, str(gone))
            self.flush()
            return
        flight = self._in_flight.pop(process, None)
        if flight is None:
            return  # not an answer to anything: ignored
        batch = flight.batch
        if len(results) != len(batch):  # one error for a request it could not read
            error = results[0] if results else QueueError("empty answer from a commit process")
            results = [error] * len(batch)
        for item, error in zip(batch, results, strict=True):
            if error is None:
                item.writer.committed_elsewhere()
                self.committed += 1
            else:
                item.writer.failed_elsewhere()
            settle(item.waiter, error)
        self.batches += 1
        self._free.append(process)
        self.flush()

    def _lost(self, process: CommitProcess, reason: str) -> None:
        """``process`` has gone: replace it; its batch, if any, goes to the new one (its
        leftovers removed first) or, after :data:`ATTEMPTS` tries, fails."""
        flight = self._in_flight.pop(process, None)
        status = self._replace(process)
        if flight is None:
            return
        if flight.attempts >= ATTEMPTS or not self._free:
            why = f"{reason}; exit status {status}"
            for item in flight.batch:
                item.writer.abort()  # removes what the process left under this id
                settle(item.waiter, gone_error(item.writer.qid, self.queue_dir, why))
            return
        for item in flight.batch:
            item.writer.remove_leftovers()
        flight.attempts += 1
        self._send(self._free.pop(), flight)

    def _replace(self, process: CommitProcess) -> int | None:
        """Reap ``process`` and start a free one in its place; the old one's exit status."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(process.fileno())
        status = process.close()
        self._processes.remove(process)
        if process in self._free:
            self._free.remove(process)
        self.replaced += 1
        self._start()
        return status

    def _start(self) -> CommitProcess | None:
        """A new free commit process, watched; None when it cannot be forked."""
        try:
            process = CommitProcess(self.queue_dir)
        except OSError as exc:  # out of processes or memory: tried again at the next flush
            self._fork_error = exc
            return None
        self._processes.append(process)
        self._free.append(process)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.add_reader(process.fileno(), self._answered, process)
        return process

    # -- closing -------------------------------------------------------------
    def close(self) -> None:
        """Commit what is pending, wait for the batches on the disk, settle all, refuse more."""
        self._closed = True
        self.flush()
        while self._in_flight:
            process = next(iter(self._in_flight))
            self._answered(process)  # blocks until it answers (or ends)
        self._unwatch()
        for process in self._processes:
            process.close()
        self._free = []
