"""The daemon's listening sockets: per DaemonPortOptions entry, one per session worker.

``SmtpServer`` lives in the daemon's main process.  For every configured
listener it first binds one plain socket as a probe, so a port that is taken
-- by another program, or by a second Postroom -- is reported by the daemon
itself with the listener's name and the reason (an ``O`` listener is skipped
instead).  It then opens one ``SO_REUSEPORT`` socket per *lane*: worker ``n``
accepts from the sockets of lane ``n`` (:mod:`.acceptor`) and the kernel
spreads new connections over the lanes -- no two workers woken for the same
connection, and nothing passes through the daemon.  The daemon keeps every
socket open, so connections that reach a lane while its worker is being
replaced wait for the new one.  On a reload the sockets are kept when
DaemonPortOptions did not change (lanes are added or closed when the number
of workers did); otherwise the listeners that stay where they were keep their
sockets and the others are opened or closed (:meth:`SmtpServer.replace`), once
the old workers have let go of them.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from ..policy.ports import DaemonPort
from .context import ListenerInfo, ReceiverContext, is_loopback


class ListenerError(Exception):
    """A listener could not be opened; the message names it and the reason."""


@dataclass
class Listener:
    info: ListenerInfo
    host: str
    family: int
    lanes: list[socket.socket] = field(default_factory=list)
    address: tuple[str, int] | None = None


@dataclass
class SmtpServer:
    """Owns the listening sockets of one daemon."""

    context: ReceiverContext
    listeners: list[Listener] = field(default_factory=list)
    lane_count: int = 1

    def start(self, lanes: int | None = None) -> None:
        """Bind every listener of the current configuration, ``lanes`` sockets each."""
        if lanes is not None:
            self.lane_count = lanes
        for port in self.context.config.daemon_ports:
            listener = self._open(port)
            if listener is not None:
                self.listeners.append(listener)

    def _open(self, port: DaemonPort) -> Listener | None:
        family = socket.AF_INET6 if port.family == "inet6" else socket.AF_INET
        host = port.addr or ("::" if family == socket.AF_INET6 else "0.0.0.0")  # noqa: S104
        info = ListenerInfo(port, port.daemon_flags, is_loopback(port.addr))
        listener = Listener(info, host, family)
        try:
            probe = _bound(family, host, port.port, reuse_port=False)
            listener.address = probe.getsockname()[:2]
            probe.close()
            _fit_lanes(listener, self.lane_count)
        except OSError as exc:
            _close_all(listener.lanes)
            if "O" in port.modifiers:
                self.context.log.log(1, f"daemon {port.name}: optional socket not opened: {exc}")
                return None
            raise ListenerError(
                f"DaemonPortOptions Name={port.name}: cannot listen on {host} port "
                f"{port.port}: {exc.strerror or exc}"
            ) from exc
        self.context.log.log(9, f"daemon {port.name} listening on {host} port {port.port}")
        return listener

    def set_lanes(self, lanes: int) -> None:
        """Reload with the same listeners: open or close lanes for a new number of workers."""
        self.lane_count = lanes
        for listener in self.listeners:
            _fit_lanes(listener, lanes)

    def sockets(self, lane: int) -> list[tuple[socket.socket, ListenerInfo]]:
        """The sockets worker ``lane`` accepts from, with what a session needs to know."""
        return [(item.lanes[lane], item.info) for item in self.listeners]

    def bound_addresses(self) -> dict[str, tuple[str, int]]:
        """Listener name -> the address it is bound to (for tests and the GUI)."""
        return {
            item.info.port.name: item.address for item in self.listeners if item.address is not None
        }

    def close_listeners(self) -> None:
        for listener in self.listeners:
            _close_all(listener.lanes)
            listener.lanes.clear()
        self.listeners.clear()

    def replace(self, context: ReceiverContext) -> None:
        """Reload with other DaemonPortOptions; nothing changes if a new listener fails.

        A listener at the same family, address and port as before keeps its sockets (its
        name or modifiers may change): closing and binding them again would race the
        connections they just served -- sockets in TIME_WAIT that came from
        ``SO_REUSEPORT`` listeners make the plain probe bind fail.  New listeners are
        opened, and the ones no longer configured closed.
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
                _close_all(listener.lanes)
            self.context = previous
            raise
        for kept, port in renewed:
            kept.info = ListenerInfo(port, port.daemon_flags, is_loopback(port.addr))
            for sock in kept.lanes:
                sock.listen(_backlog(port))
        for gone in old.values():
            _close_all(gone.lanes)
        self.listeners = listeners
        self.set_lanes(self.lane_count)

    def shutdown(self) -> None:
        """Close the listening sockets (the workers have stopped accepting)."""
        self.close_listeners()


def _fit_lanes(listener: Listener, count: int) -> None:
    """Open or close ``SO_REUSEPORT`` sockets on the listener's bound port until it has
    ``count``."""
    assert listener.address is not None
    while len(listener.lanes) < count:
        sock = _bound(listener.family, listener.host, listener.address[1], reuse_port=True)
        listener.lanes.append(sock)
        sock.listen(_backlog(listener.info.port))
        sock.setblocking(False)
    _close_all(listener.lanes[count:])
    del listener.lanes[count:]


def _backlog(port: DaemonPort) -> int:
    return max(port.listen, 128)


def _where(port: DaemonPort) -> tuple[str, str | None, int]:
    return (port.family, port.addr, port.port)


def _bound(family: int, host: str, port: int, *, reuse_port: bool) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()
