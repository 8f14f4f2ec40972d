"""The private line between the daemon and one session worker process.

A ``SOCK_SEQPACKET`` socket pair keeps message boundaries and order (and
could carry a descriptor). A message is one kind letter and UTF-8 text; the
kinds are:

daemon -> worker: ``D`` "<request>" (list your sessions for a state dump);
``R`` (retire: stop accepting, let go of the listening sockets, exit when
your sessions are over); ``S`` (stop now: 421 to every session, then exit).

worker -> daemon: ``K`` (ready); ``F`` "<reason>" (could not start); ``A``
(retired: the listening sockets are closed here); ``T`` "<argument>" (an
ETRN to run); ``L`` "<request> <line>" (one dump line); ``Z`` "<request>"
(dump done).

Both ends are non-blocking and read from their event loop; :meth:`receive`
returns None when nothing is waiting and raises :class:`ChannelClosed` at
end of file.
"""

from __future__ import annotations

import array
import os
import socket
from dataclasses import dataclass

MAX_MESSAGE = 64 * 1024
_FD_SPACE = socket.CMSG_SPACE(array.array("i").itemsize)

DUMP = b"D"
RETIRE = b"R"
STOP = b"S"
READY = b"K"
FAILED = b"F"
RETIRED = b"A"
ETRN = b"T"
DUMP_LINE = b"L"
DUMP_DONE = b"Z"


class ChannelClosed(Exception):
    """The other end has gone (the process exited or closed its end)."""


@dataclass(frozen=True)
class Message:
    kind: bytes
    text: str
    fd: int | None = None


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(daemon end, worker end), both close-on-exec."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Channel:
    """One end of a daemon/worker socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, kind: bytes, text: str = "", fd: int | None = None) -> None:
        """Send one message (``OSError`` when the other end is gone or the buffer is full)."""
        data = kind + text.encode("utf-8", "surrogateescape")[: MAX_MESSAGE - 1]
        if fd is None:
            self.sock.send(data)
        else:
            rights = (socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))
            self.sock.sendmsg([data], [rights])

    def receive(self) -> Message | None:
        """The next message, or None when none is waiting; ``ChannelClosed`` at EOF."""
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(MAX_MESSAGE, _FD_SPACE)
        except (BlockingIOError, InterruptedError):
            return None
        except ConnectionError as exc:
            raise ChannelClosed(str(exc)) from exc
        fd = _descriptor(ancillary)
        if not data:
            if fd is not None:
                os.close(fd)
            raise ChannelClosed("end of file")
        return Message(data[:1], data[1:].decode("utf-8", "surrogateescape"), fd)

    def close(self) -> None:
        self.sock.close()


def _descriptor(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    found: int | None = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                if found is None:
                    found = fd
                else:
                    os.close(fd)  # never more than one is sent; do not leak extras
    return found
