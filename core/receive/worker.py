"""A session worker process: accepts connections and runs their SMTP sessions.

The daemon forks its workers (:mod:`.workers`); each one starts a fresh event
loop here -- uvloop's (libuv, in C): a session's many small reads, replies,
futures and timers cost much less CPU than on asyncio's own loop -- accepts
from the daemon's listening sockets (:mod:`.acceptor`) and
owns each session from the accepted socket to the last reply, with its own
queue store, group committer (on its loop's thread, :mod:`..queue.loop_commit`)
and statistics counters (flushed into the shared StatusFile and time series
every second and at exit, under their locks, so no count is lost between
processes).  Reloads, queue runs, ETRN runs and state dumps stay with the
daemon, which talks to the worker over its :mod:`.channel`.

A worker stops (421 to every session, pending commits finished, counters
flushed) on the daemon's ``S``, on SIGTERM or SIGINT, or when the daemon
goes away; it retires on ``R``: it stops accepting, gives the listening
sockets back (answers ``A``), and exits when its last session ends.  SIGHUP
and SIGUSR1 are the daemon's business and ignored here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
from pathlib import Path

import uvloop

from ..deliver import etrn_selection
from ..queue.loop_commit import LoopCommitter
from ..queue.store import QueueStore
from .acceptor import Acceptor
from .channel import (
    DUMP,
    DUMP_DONE,
    DUMP_LINE,
    ETRN,
    READY,
    RETIRE,
    RETIRED,
    STOP,
    Channel,
    ChannelClosed,
    Message,
)
from .connection import SmtpConnection
from .context import ListenerInfo, Listeners, ReceiverContext
from .limits import SessionCounts
from .session import SmtpSession
from .setup import recorder_for

SESSION_GRACE = 10.0  # seconds open sessions get to end after a stop
STATS_INTERVAL = 1.0


class SessionWorker:
    """The sessions of one worker process and its conversation with the daemon."""

    def __init__(
        self,
        channel: Channel,
        context: ReceiverContext,
        listeners: Listeners,
        counts: SessionCounts,
        slot: int,
    ) -> None:
        self.channel = channel
        store = QueueStore(Path(context.config.queue_directory), fsync=context.config.super_safe)
        self.context = dataclasses.replace(
            context,
            store=store,
            committer=LoopCommitter(store),
            stats=recorder_for(context.config, context.log),
            etrn=self._etrn,
        )
        self.acceptor = Acceptor(
            self.context, listeners, counts, counts.slot(slot), self._start_session
        )
        self.sessions: dict[asyncio.Task[None], SmtpSession] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.retiring = False
        self._done = asyncio.Event()

    def _etrn(self, argument: str) -> None:
        """Pass ETRN to the daemon's queue runner; ``ValueError`` (the session answers
        501) for an argument the runner would refuse."""
        etrn_selection(argument)
        self._send(ETRN, argument)

    def _send(self, kind: bytes, text: str = "") -> None:
        try:
            self.channel.send(kind, text)
        except OSError:
            self._done.set()  # the daemon is gone

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._done.set)
        loop.add_reader(self.channel.fileno(), self._on_message)
        self.acceptor.start()
        self._send(READY)
        ticker = loop.create_task(self._flush_stats())
        await self._done.wait()
        loop.remove_reader(self.channel.fileno())
        ticker.cancel()
        await self._shutdown()
        return 0

    async def _flush_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            self.context.stats.flush()

    def _on_message(self) -> None:
        while True:
            try:
                message = self.channel.receive()
            except ChannelClosed:
                self._done.set()
                return
            if message is None:
                return
            self._handle(message)

    def _handle(self, message: Message) -> None:
        if message.fd is not None:
            socket.socket(fileno=message.fd).close()  # the daemon sends none
        kind = message.kind
        if kind == DUMP:
            for line in self.session_lines():
                self._send(DUMP_LINE, f"{message.text} {line}")
            self._send(DUMP_DONE, message.text)
        elif kind == RETIRE:
            self.retiring = True
            self.acceptor.close()
            self._send(RETIRED)
            if not self.tasks:
                self._done.set()
        elif kind == STOP:
            self._done.set()

    def _start_session(
        self, sock: socket.socket, client_ip: str, listener: ListenerInfo, key: bytes
    ) -> None:
        conn = SmtpConnection()
        session = SmtpSession(conn, self.context, listener, client_ip=client_ip)
        task = asyncio.get_running_loop().create_task(self._serve(sock, conn, session, key))
        self.tasks.add(task)
        self.sessions[task] = session
        task.add_done_callback(self._ended)

    async def _serve(
        self, sock: socket.socket, conn: SmtpConnection, session: SmtpSession, key: bytes
    ) -> None:
        try:
            try:
                await asyncio.get_running_loop().connect_accepted_socket(lambda: conn, sock)
            except OSError:
                sock.close()
                return
            if session.closing:  # stopped while connecting: the 421 is all it gets
                conn.close()
                return
            await session.run()
        finally:
            self.acceptor.session_ended(key)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.sessions.pop(task, None)
        if self.retiring and not self.tasks:
            self._done.set()

    def session_lines(self) -> list[str]:
        """One line per open session, for the daemon's SIGUSR1 state dump."""
        lines = []
        for session in list(self.sessions.values()):
            writer = session.writer
            state = "DATA" if writer is not None else ("MAIL" if session.tx else "idle")
            qid = f" qid={writer.qid}" if writer is not None else ""
            lines.append(
                f"session {session.client_name} helo={session.helo or '-'} "
                f"tls={'yes' if session.conn.tls_active else 'no'} "
                f"auth={session.authenticated or '-'} state={state}{qid} worker={os.getpid()}"
            )
        return lines

    async def _shutdown(self) -> None:
        if not self.retiring:
            self.acceptor.close()
        for session in list(self.sessions.values()):
            session.shutdown()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=SESSION_GRACE)
        self.context.committer.close()
        self.context.stats.close()


def run_worker(
    sock: socket.socket,
    context: ReceiverContext,
    listeners: Listeners,
    counts: SessionCounts,
    slot: int,
) -> int:
    """Body of a freshly forked worker; returns its exit status (the caller ``_exit``s)."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)

    async def main() -> int:
        return await SessionWorker(Channel(sock), context, listeners, counts, slot).run()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())
