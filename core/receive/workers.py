"""The daemon's session worker processes: forking them, retiring them, stopping them.

Python runs one thread of Python code per process, so the daemon serves SMTP
in several worker processes (``DaemonProcesses``, by default one per CPU)
while it keeps reloads, queue runs, statistics of its own and state dumps.
:class:`WorkerPool` forks the workers after the configuration is loaded and
the listeners are bound, so a worker starts in milliseconds with everything
imported; every worker inherits the listening sockets (:mod:`.server`) and
accepts from them itself (:mod:`.acceptor`) -- no connection passes through
the daemon, and a worker that dies is replaced while its generation is short of one.  Each
worker gets a slot in the shared session counts (:mod:`.limits`) for the
connection limits; the slot is cleared when the worker has exited.  The
pool forwards the workers' ETRN requests and collects their session lines
for a state dump.

A reload forks a new generation with the new configuration and retires the
old one: old workers stop accepting at once, give the listening sockets back
(the daemon waits for that before it rebinds changed listeners) and exit
when their last session ends, so a reload never cuts a conversation.  A
worker that dies unexpectedly is logged and replaced.  :meth:`WorkerPool.stop`
has every worker answer 421 to its sessions, finish its commits, flush its
statistics and exit, and waits for them (SIGKILL after ``timeout``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..logging.maillog import MailLog
from .channel import (
    DUMP,
    DUMP_DONE,
    DUMP_LINE,
    ETRN,
    FAILED,
    READY,
    RETIRE,
    RETIRED,
    STOP,
    Channel,
    ChannelClosed,
    Message,
    channel_pair,
)
from .context import Listeners, ReceiverContext
from .limits import SessionCounts
from .worker import run_worker

RESPAWN_DELAY = 0.1  # seconds before replacing a worker that died
YOUNG = 2.0  # a worker dying younger than this is replaced only after YOUNG seconds
REAP_POLL = 0.05


class WorkerError(Exception):
    """A worker process could not be started; the message says why."""


def default_count(configured: int) -> int:
    """``DaemonProcesses``: the configured number, or one per CPU for 0."""
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


@dataclass(eq=False)
class Worker:
    """The daemon's record of one worker process."""

    pid: int
    channel: Channel
    generation: int
    slot: int
    started: float
    ready: bool = False
    retiring: bool = False
    released: bool = False  # retired and its listening sockets are closed
    gone: bool = False
    failure: str | None = None


@dataclass
class _Dump:
    lines: list[str] = field(default_factory=list)
    pending: set[Worker] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class WorkerPool:
    """The workers of one daemon."""

    def __init__(self, *, log: MailLog, on_etrn: Callable[[str], None]) -> None:
        self.log = log
        self.workers: list[Worker] = []
        self.generation = 0
        self.stopping = False
        self.counts = SessionCounts()
        self._on_etrn = on_etrn
        self._context: ReceiverContext | None = None
        self._listeners: Listeners = []
        self._count = 0
        self._next_dump = 0
        self._dumps: dict[str, _Dump] = {}
        self._changed = asyncio.Event()

    # -- starting and retiring ----------------------------------------------
    def spawn(self, context: ReceiverContext, listeners: Listeners, count: int) -> None:
        """Start a new generation of ``count`` workers accepting from ``listeners``.

        The current generation retires.
        """
        self.retire()
        self.generation += 1
        self._context, self._listeners, self._count = context, listeners, count
        for _ in range(count):
            self._fork()

    def retire(self) -> None:
        """The current workers stop accepting and leave when their sessions end."""
        for worker in self.workers:
            if not worker.retiring:
                worker.retiring = True
                if not self._send(worker, RETIRE):
                    worker.released = True

    async def released(self, timeout: float) -> None:
        """Until every retiring worker has closed its listening sockets (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while any(w.retiring and not w.released and not w.gone for w in self.workers):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def _fork(self) -> None:
        assert self._context is not None
        parent, child = channel_pair()
        slot = self.counts.take_slot()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the new worker: never returns into the daemon's code
            status = 70  # EX_SOFTWARE
            try:
                parent.close()
                for other in self.workers:
                    other.channel.close()
                status = run_worker(child, self._context, self._listeners, self.counts, slot)
            except BaseException as exc:
                try:
                    self.log.log(1, f"session worker {os.getpid()} failed: {exc!r}")
                finally:
                    os._exit(status)
            os._exit(status)
        child.close()
        worker = Worker(pid, Channel(parent), self.generation, slot, time.monotonic())
        self.workers.append(worker)
        asyncio.get_running_loop().add_reader(worker.channel.fileno(), self._receive, worker)

    async def wait_ready(self, timeout: float) -> None:
        """Until every worker of the current generation is ready; ``WorkerError`` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            current = [w for w in self.workers if w.generation == self.generation]
            for worker in current:
                if worker.failure is not None:
                    raise WorkerError(f"session worker {worker.pid}: {worker.failure}")
                if worker.gone and not worker.ready:
                    raise WorkerError(f"session worker {worker.pid} exited while starting")
            if len(current) == self._count and all(w.ready for w in current):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerError(f"session workers not ready within {timeout:.0f}s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    # -- messages from workers ----------------------------------------------
    def _receive(self, worker: Worker) -> None:
        while True:
            try:
                message = worker.channel.receive()
            except ChannelClosed:
                self._lost(worker)
                return
            if message is None:
                return
            self._handle(worker, message)

    def _handle(self, worker: Worker, message: Message) -> None:
        kind, text = message.kind, message.text
        if message.fd is not None:
            os.close(message.fd)  # workers never send descriptors
        if kind == ETRN:
            self._on_etrn(text)
        elif kind == DUMP_LINE:
            request, _, line = text.partition(" ")
            if request in self._dumps:
                self._dumps[request].lines.append(line)
        elif kind == DUMP_DONE:
            self._dump_answered(text, worker)
        elif kind == RETIRED:
            worker.released = True
            self._changed.set()
        elif kind == READY:
            worker.ready = True
            self._changed.set()
        elif kind == FAILED:
            worker.failure = text
            self._changed.set()

    def _lost(self, worker: Worker) -> None:
        """The worker's end of the channel closed: it exited (or is about to)."""
        asyncio.get_running_loop().remove_reader(worker.channel.fileno())
        worker.channel.close()
        worker.gone = True
        self._changed.set()
        for request in list(self._dumps):
            self._dump_answered(request, worker)
        self._reap(worker)

    def _reap(self, worker: Worker) -> None:
        try:
            pid, status = os.waitpid(worker.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = worker.pid, 0
        if pid == 0:
            asyncio.get_running_loop().call_later(REAP_POLL, self._reap, worker)
            return
        if worker not in self.workers:
            return
        self.workers.remove(worker)
        self.counts.free_slot(worker.slot)
        self._changed.set()
        if self.stopping or worker.retiring or worker.generation != self.generation:
            return
        code = os.waitstatus_to_exitcode(status)
        how = f"signal {-code}" if code < 0 else f"status {code}"
        self.log.log(
            1, f"session worker {worker.pid} exited unexpectedly ({how}); starting another"
        )
        delay = YOUNG if time.monotonic() - worker.started < YOUNG else RESPAWN_DELAY
        asyncio.get_running_loop().call_later(delay, self._respawn, worker.generation)

    def _respawn(self, generation: int) -> None:
        if self.stopping or generation != self.generation:
            return
        alive = [w for w in self.workers if w.generation == generation and not w.gone]
        if len(alive) < self._count:
            self._fork()

    def _send(self, worker: Worker, kind: bytes, text: str = "") -> bool:
        if worker.gone:
            return False
        try:
            worker.channel.send(kind, text)
        except OSError:
            return False
        return True

    # -- state dump -----------------------------------------------------------
    async def session_lines(self, timeout: float = 2.0) -> list[str]:
        """Every worker's lines for its open sessions (those that answer within ``timeout``)."""
        self._next_dump += 1
        request = str(self._next_dump)
        dump = _Dump()
        self._dumps[request] = dump
        for worker in self.workers:
            if self._send(worker, DUMP, request):
                dump.pending.add(worker)
        try:
            if dump.pending:
                await asyncio.wait_for(dump.done.wait(), timeout)
        except TimeoutError:
            dump.lines.append(f"({len(dump.pending)} session worker(s) did not answer)")
        finally:
            del self._dumps[request]
        return dump.lines

    def _dump_answered(self, request: str, worker: Worker) -> None:
        dump = self._dumps.get(request)
        if dump is not None:
            dump.pending.discard(worker)
            if not dump.pending:
                dump.done.set()

    # -- stopping -------------------------------------------------------------
    async def stop(self, timeout: float = 30.0) -> None:
        """Stop every worker (421 to its sessions) and wait for all to exit."""
        self.stopping = True
        for worker in list(self.workers):
            self._send(worker, STOP)
        deadline = time.monotonic() + timeout
        while self.workers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                break
        for worker in list(self.workers):
            self.log.log(1, f"session worker {worker.pid} did not stop; killing it")
            try:
                os.kill(worker.pid, signal.SIGKILL)
                os.waitpid(worker.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            if not worker.gone:
                self._lost(worker)
            elif worker in self.workers:
                self.workers.remove(worker)
                self.counts.free_slot(worker.slot)
