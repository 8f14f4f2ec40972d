"""The SMTP daemon's listeners: one socket per DaemonPortOptions entry.

``SmtpServer`` binds every configured listener (skipping an ``O`` listener that
cannot bind, failing otherwise), enforces the per-client and total connection
caps with a ``421`` at connect time, and on shutdown stops accepting, sends
``421 4.3.2`` to every open session and drops unfinished messages — nothing
half-received is ever acknowledged.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from dataclasses import dataclass, field

from ..policy.ports import DaemonPort
from .connection import SmtpConnection
from .context import ListenerInfo, ReceiverContext, is_loopback
from .session import SmtpSession


class ListenerError(Exception):
    """A listener could not be opened; the message names it and the reason."""


@dataclass
class Listener:
    info: ListenerInfo
    server: asyncio.Server | None = None
    address: tuple[str, int] | None = None


@dataclass
class SmtpServer:
    """Owns the listening sockets and the live sessions of one daemon process."""

    context: ReceiverContext
    listeners: list[Listener] = field(default_factory=list)
    sessions: set[SmtpSession] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    per_client: Counter[str] = field(default_factory=Counter)
    stopping: bool = False

    async def start(self) -> None:
        """Bind every listener of the current configuration."""
        for port in self.context.config.daemon_ports:
            listener = await self._open(port)
            if listener is not None:
                self.listeners.append(listener)

    async def _open(self, port: DaemonPort) -> Listener | None:
        family = socket.AF_INET6 if port.family == "inet6" else socket.AF_INET
        host = port.addr or ("::" if family == socket.AF_INET6 else "0.0.0.0")  # noqa: S104
        info = ListenerInfo(port, port.daemon_flags, is_loopback(port.addr))
        listener = Listener(info)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port.port))
            sock.listen(max(port.listen, 128))
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if "O" in port.modifiers:
                self.context.log.log(1, f"daemon {port.name}: optional socket not opened: {exc}")
                return None
            raise ListenerError(
                f"DaemonPortOptions Name={port.name}: cannot listen on {host} port "
                f"{port.port}: {exc.strerror or exc}"
            ) from exc
        listener.address = sock.getsockname()[:2]
        loop = asyncio.get_running_loop()
        listener.server = await loop.create_server(lambda: self._accept(listener), sock=sock)
        self.context.log.log(9, f"daemon {port.name} listening on {host} port {port.port}")
        return listener

    def _accept(self, listener: Listener) -> SmtpConnection:
        return SmtpConnection(on_connect=lambda conn: self._start_session(conn, listener))

    def _start_session(self, conn: SmtpConnection, listener: Listener) -> None:
        client_ip = conn.peer[0] if conn.peer else None
        cfg = self.context.config
        host = cfg.host_name
        if self.stopping:
            conn.write(f"421 4.3.2 {host} Shutting down\r\n".encode())
            conn.close()
            return
        key = client_ip or "?"
        if cfg.max_daemon_children and len(self.sessions) >= cfg.max_daemon_children:
            self.context.log.log(14, f"rejecting connection from {key}: too many sessions")
            conn.write(f"421 4.3.2 {host} Too many concurrent SMTP connections\r\n".encode())
            conn.close()
            return
        if self.per_client[key] >= cfg.max_connections_per_host:
            self.context.log.log(14, f"rejecting connection from {key}: per-host limit")
            conn.write(
                f"421 4.7.0 {host} Too many concurrent SMTP connections from this IP\r\n".encode()
            )
            conn.close()
            return
        self.per_client[key] += 1
        self.context.stats.connection_in()
        session = SmtpSession(conn, self.context, listener.info, client_ip=client_ip)
        self.sessions.add(session)
        task = asyncio.get_running_loop().create_task(session.run())
        self.tasks.add(task)

        def done(_: asyncio.Task[None]) -> None:
            self.sessions.discard(session)
            self.tasks.discard(task)
            self.per_client[key] -= 1
            if self.per_client[key] <= 0:
                del self.per_client[key]

        task.add_done_callback(done)

    def bound_addresses(self) -> dict[str, tuple[str, int]]:
        """Listener name -> the address it is bound to (for tests and the GUI)."""
        return {
            item.info.port.name: item.address for item in self.listeners if item.address is not None
        }

    async def close_listeners(self) -> None:
        for listener in self.listeners:
            if listener.server is not None:
                listener.server.close()
                await listener.server.wait_closed()
        self.listeners.clear()

    async def replace(self, context: ReceiverContext) -> None:
        """Reload: new sessions use ``context``; listeners are rebound from it."""
        old_context = self.context
        await self.close_listeners()
        self.context = context
        try:
            await self.start()
        except ListenerError:
            await self.close_listeners()
            self.context = old_context
            await self.start()
            raise

    async def shutdown(self) -> None:
        """Stop accepting, 421 every session, wait for their tasks to end."""
        self.stopping = True
        for listener in self.listeners:
            if listener.server is not None:
                listener.server.close()
        for session in list(self.sessions):
            session.shutdown()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=10)
        await self.close_listeners()
