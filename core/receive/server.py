"""The daemon's listening sockets: one per DaemonPortOptions entry, shared by the workers.

``SmtpServer`` lives in the daemon's main process.  For every configured
listener it binds one socket -- a port that is taken, by another program or
by a second Postroom, is reported by the daemon itself with the listener's
name and the reason (an ``O`` listener is skipped instead).  Every session
worker inherits every socket and accepts from it (:mod:`.acceptor`): the
worker whose loop comes round first takes the next connection, so new
sessions go to the worker with time to spare.  (One ``SO_REUSEPORT`` socket
per worker let the kernel's hash choose instead: in one sampled run the two
workers' shares differed by 3 connections or more most of the time, and the
lighter one idled -- see docs/benchmarks.md.)  Nothing passes through the
daemon, and the daemon keeps every socket open, so connections that arrive
while the workers are being replaced wait in the backlog for the next worker.
On a reload the sockets of listeners that stay at the same family, address
and port are kept; the others are opened or closed
(:meth:`SmtpServer.replace`), once the old workers have let go of them.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from ..policy.ports import DaemonPort
from .context import ListenerInfo, Listeners, ReceiverContext, is_loopback


class ListenerError(Exception):
    """A listener could not be opened; the message names it and the reason."""


@dataclass
class Listener:
    info: ListenerInfo
    sock: socket.socket
    address: tuple[str, int]


@dataclass
class SmtpServer:
    """Owns the listening sockets of one daemon."""

    context: ReceiverContext
    listeners: list[Listener] = field(default_factory=list)

    def start(self) -> None:
        """Bind every listener of the current configuration."""
        for port in self.context.config.daemon_ports:
            listener = self._open(port)
            if listener is not None:
                self.listeners.append(listener)

    def _open(self, port: DaemonPort) -> Listener | None:
        family = socket.AF_INET6 if port.family == "inet6" else socket.AF_INET
        host = port.addr or ("::" if family == socket.AF_INET6 else "0.0.0.0")  # noqa: S104
        info = ListenerInfo(port, port.daemon_flags, is_loopback(port.addr))
        try:
            sock = _bound(family, host, port.port)
        except OSError as exc:
            if "O" in port.modifiers:
                self.context.log.log(1, f"daemon {port.name}: optional socket not opened: {exc}")
                return None
            raise ListenerError(
                f"DaemonPortOptions Name={port.name}: cannot listen on {host} port "
                f"{port.port}: {exc.strerror or exc}"
            ) from exc
        sock.listen(_backlog(port))
        sock.setblocking(False)
        self.context.log.log(9, f"daemon {port.name} listening on {host} port {port.port}")
        return Listener(info, sock, sock.getsockname()[:2])

    def sockets(self) -> Listeners:
        """The sockets the workers accept from, with what a session needs to know."""
        return [(item.sock, item.info) for item in self.listeners]

    def bound_addresses(self) -> dict[str, tuple[str, int]]:
        """Listener name -> the address it is bound to (for tests and the GUI)."""
        return {item.info.port.name: item.address for item in self.listeners}

    def close_listeners(self) -> None:
        for listener in self.listeners:
            listener.sock.close()
        self.listeners.clear()

    def replace(self, context: ReceiverContext) -> None:
        """Reload with other DaemonPortOptions; nothing changes if a new listener fails.

        A listener at the same family, address and port as before keeps its socket (its
        name or modifiers may change): closing and binding it again would race the
        connections waiting in its backlog.  New listeners are opened, and the ones no
        longer configured closed.
        """
        old = {_where(item.info.port): item for item in self.listeners}
        listeners: list[Listener] = []
        opened: list[Listener] = []
        renewed: list[tuple[Listener, DaemonPort]] = []
        self.context, previous = context, self.context
        try:
            for port in context.config.daemon_ports:
                kept = old.pop(_where(port), None)
                if kept is None:
                    listener = self._open(port)
                    if listener is not None:
                        opened.append(listener)
                        listeners.append(listener)
                    continue
                renewed.append((kept, port))
                listeners.append(kept)
        except ListenerError:
            for listener in opened:
                listener.sock.close()
            self.context = previous
            raise
        for kept, port in renewed:
            kept.info = ListenerInfo(port, port.daemon_flags, is_loopback(port.addr))
            kept.sock.listen(_backlog(port))
        for gone in old.values():
            gone.sock.close()
        self.listeners = listeners

    def shutdown(self) -> None:
        """Close the listening sockets (the workers have stopped accepting)."""
        self.close_listeners()


def _backlog(port: DaemonPort) -> int:
    return max(port.listen, 128)


def _where(port: DaemonPort) -> tuple[str, str | None, int]:
    return (port.family, port.addr, port.port)


def _bound(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
