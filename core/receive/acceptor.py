"""Accepting connections in a session worker: the limits, the refusals, the new sessions.

Every worker watches the daemon's listening sockets (inherited when it was
forked) on its event loop, and the one whose loop comes round first takes
the next connection: a worker busy with its sessions looks later, an idle
one at once.  The kernel wakes every idle worker for a new connection; all
but one find nothing to accept, a cheap turn of an otherwise idle loop.  A
wake-up takes at most :data:`ACCEPT_BURST` connections, so a burst of them
is shared out rather than taken by the first worker to look.  Before a session starts,
MaxDaemonChildren and MaxConnectionsPerHost are checked against the sessions
of all workers (:mod:`.limits`), with the same ``421`` replies Sendmail
gives; an admitted connection is counted there until its session ends.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable

from .context import ListenerInfo, Listeners, ReceiverContext
from .limits import SessionCounts, WorkerCounts, address_key

ACCEPT_BURST = 4  # connections taken per wake-up: leave some for the other workers
ACCEPT_PAUSE = 1.0  # seconds to stop accepting after EMFILE/ENFILE

StartSession = Callable[[socket.socket, str, ListenerInfo, bytes], None]


class Acceptor:
    """The accepting side of one worker."""

    def __init__(
        self,
        context: ReceiverContext,
        listeners: Listeners,
        shared: SessionCounts,
        own: WorkerCounts,
        start_session: StartSession,
    ) -> None:
        self.context = context
        self.listeners = listeners
        self.shared = shared
        self.own = own
        self._start_session = start_session
        self._watching: set[int] = set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for index, (sock, _) in enumerate(self.listeners):
            loop.add_reader(sock.fileno(), self._accept, index)
            self._watching.add(index)

    def close(self) -> None:
        """Stop accepting and let go of the listening sockets (the daemon keeps its own)."""
        loop = asyncio.get_running_loop()
        for index in self._watching:
            loop.remove_reader(self.listeners[index][0].fileno())
        self._watching.clear()
        for sock, _ in self.listeners:
            sock.close()
        self.listeners = []

    def session_ended(self, key: bytes) -> None:
        self.own.remove(key)

    def _accept(self, index: int) -> None:
        sock, info = self.listeners[index]
        for _ in range(ACCEPT_BURST):
            try:
                conn, addr = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.ECONNABORTED:
                    continue
                self.context.log.log(1, f"daemon {info.port.name}: accept: {exc}")
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._pause(index)
                return
            self._admit(conn, str(addr[0]), info)

    def _pause(self, index: int) -> None:
        """Out of descriptors: stop accepting on this listener for a moment."""
        loop = asyncio.get_running_loop()
        sock = self.listeners[index][0]
        loop.remove_reader(sock.fileno())
        self._watching.discard(index)

        def resume() -> None:
            if index < len(self.listeners) and self.listeners[index][0] is sock:
                loop.add_reader(sock.fileno(), self._accept, index)
                self._watching.add(index)

        loop.call_later(ACCEPT_PAUSE, resume)

    def _admit(self, conn: socket.socket, client_ip: str, info: ListenerInfo) -> None:
        cfg = self.context.config
        host = cfg.host_name
        log = self.context.log
        key = address_key(client_ip)
        if cfg.max_daemon_children and self.shared.total() >= cfg.max_daemon_children:
            log.log(14, f"rejecting connection from {client_ip}: too many sessions")
            _refuse(conn, f"421 4.3.2 {host} Too many concurrent SMTP connections")
            return
        if self.shared.for_client(key) >= cfg.max_connections_per_host:
            log.log(14, f"rejecting connection from {client_ip}: per-host limit")
            _refuse(conn, f"421 4.7.0 {host} Too many concurrent SMTP connections from this IP")
            return
        self.own.add(key)
        self.context.stats.connection_in()
        self._start_session(conn, client_ip, info, key)


def _refuse(conn: socket.socket, reply: str) -> None:
    try:
        conn.setblocking(False)
        conn.send(reply.encode() + b"\r\n")
    except OSError:
        pass
    finally:
        conn.close()
