"""The daemon's listening sockets: one per DaemonPortOptions entry.

``SmtpServer`` lives in the daemon's main process.  It binds every configured
listener (skipping an ``O`` listener that cannot bind, failing otherwise)
before any worker is forked, so a port that cannot be opened is reported by
the daemon itself with the listener's name and the reason.  It accepts
nothing: the session workers inherit the sockets and accept from them
(:mod:`.acceptor`), whichever worker is free taking the next connection.  On
a reload the sockets are kept when DaemonPortOptions did not change, and
otherwise rebound (:meth:`SmtpServer.replace`) once the old workers have let
go of them.
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
    sock: socket.socket | None = None
    address: tuple[str, int] | None = None


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
        self.context.log.log(9, f"daemon {port.name} listening on {host} port {port.port}")
        return Listener(info, sock, sock.getsockname()[:2])

    def sockets(self) -> list[tuple[socket.socket, ListenerInfo]]:
        """The open listening sockets with what a session needs to know about each."""
        return [(item.sock, item.info) for item in self.listeners if item.sock is not None]

    def bound_addresses(self) -> dict[str, tuple[str, int]]:
        """Listener name -> the address it is bound to (for tests and the GUI)."""
        return {
            item.info.port.name: item.address for item in self.listeners if item.address is not None
        }

    def close_listeners(self) -> None:
        for listener in self.listeners:
            if listener.sock is not None:
                listener.sock.close()
                listener.sock = None
        self.listeners.clear()

    def replace(self, context: ReceiverContext) -> None:
        """Reload: listeners are rebound from ``context``; the old ones stay on failure."""
        old_context = self.context
        self.close_listeners()
        self.context = context
        try:
            self.start()
        except ListenerError:
            self.close_listeners()
            self.context = old_context
            self.start()
            raise

    def shutdown(self) -> None:
        """Close the listening sockets (the workers have stopped accepting)."""
        self.close_listeners()
