"""A commit process: a child of a session worker that makes batches of messages durable.

:class:`CommitProcess` forks the child and is the parent's handle on it; the
child runs :func:`serve`.  The two talk over a ``SOCK_SEQPACKET`` socket pair,
one packet each way per batch:

- **request** (parent to child): a pickled :data:`Batch` (plain tuples: the
  cheapest to pickle) -- for each message
  its id, its qf's text (formatted by the parent: bytes pickle for a fraction
  of what a :class:`.qfmodel.QueueFile` costs) and either its body (a buffered
  writer) or nothing, its df's descriptor then riding along with the packet
  (``SCM_RIGHTS``; a writer whose body went to its df while it arrived).  A
  batch larger than :data:`PACKET_LIMIT` travels in a ``memfd`` instead, sent
  as the packet's first descriptor;
- **answer** (child to parent): a pickled list with, per message, None (it is
  durable) or the exception that failed it (a ``QueueWriteError`` naming file,
  errno and step, just as the writer raises it in the parent's process).

The child rebuilds each message as a :class:`.writer.MessageWriter`
(:meth:`~.writer.MessageWriter.received`) and commits the batch with
:func:`.commit.commit_batch` -- the same steps, checks and clean-up as every
other committer: df and tf created, locked, written; their write-back started;
fdatasynced; each tf renamed to its qf; one directory fsync.  The parent's
event loop makes no file-system call for the batch and never waits for the
disk, and two children side by side have two batches on the disk at once.

Both ends are this program, over a socket pair no other process holds, so
the packets are pickles.

The child closes every descriptor it inherited but its socket and the
standard ones, ignores the signals that stop its worker (the worker drains
it), and exits when the parent's end of the socket closes -- after a last
batch, and also when the worker dies.
"""

from __future__ import annotations

import errno
import gc
import os
import pickle
import signal
import socket
from pathlib import Path
from typing import cast

from .commit import PendingCommit, commit_batch
from .durable import DirectorySync, close_quietly, write_all
from .errors import QueueError, QueueIOError
from .writer import MessageWriter

PACKET_LIMIT = 128 * 1024  # below Linux's default socket send buffer (212,992 bytes)
IN_MEMFD = b"\0"  # the whole packet when the batch is in a memfd (never a pickle)
MAX_DESCRIPTORS = 64  # one per spilled df of a batch, plus a memfd
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


Message = tuple[str, bytes, bytes | bytearray | None]
"""One message of a batch: id, formatted qf, body (None: the df comes as a descriptor)."""
Batch = tuple[bool, list[Message]]
"""A request: whether to sync (SuperSafe), and the messages."""


class CommitProcessGone(Exception):
    """The child exited (or was killed): its batch has no answer."""


class CommitProcess:
    """One forked commit process and the parent's end of its socket."""

    def __init__(self, queue_dir: Path) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:  # the child: never returns
            status = 70  # EX_SOFTWARE, if serve() itself fails
            try:
                ours.close()
                status = serve(theirs, queue_dir)
            finally:
                os._exit(status)
        theirs.close()
        self.pid = pid
        self.sock = ours

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, batch: Batch, descriptors: list[int]) -> None:
        """Hand ``batch`` over; :class:`CommitProcessGone` if the child has exited."""
        data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
        memfd = None
        if len(data) > PACKET_LIMIT:
            memfd = os.memfd_create("postroom-batch", os.MFD_CLOEXEC)
            write_all(memfd, data)
            data, descriptors = IN_MEMFD, [memfd, *descriptors]
        try:
            socket.send_fds(self.sock, [data], descriptors)
        except OSError as exc:
            raise CommitProcessGone(f"commit process {self.pid}: {exc}") from exc
        finally:
            close_quietly(memfd)

    def answer(self) -> list[BaseException | None]:
        """The child's answer to the batch it has; :class:`CommitProcessGone` at EOF."""
        try:
            data = self.sock.recv(PACKET_LIMIT)
        except OSError as exc:
            raise CommitProcessGone(f"commit process {self.pid}: {exc}") from exc
        if not data:
            raise CommitProcessGone(f"commit process {self.pid} exited")
        try:
            results: list[BaseException | None] = pickle.loads(data)  # noqa: S301 (our child)
        except Exception as exc:
            raise CommitProcessGone(f"commit process {self.pid}: unreadable answer") from exc
        return results

    def close(self) -> int | None:
        """Close our end (the child exits after its batch) and reap it; its exit status."""
        self.sock.close()
        try:
            _pid, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status)


# ---------------------------------------------------------------- the child
def serve(sock: socket.socket, queue_dir: Path) -> int:
    """The child's loop: commit each batch received, answer; 0 when the parent has gone."""
    gc.freeze()  # what the worker had is never garbage here: no collection walks it
    signal.set_wakeup_fd(-1)
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    keep = sock.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    directory = DirectorySync(queue_dir)
    while True:
        try:
            data, descriptors, flags, _address = socket.recv_fds(
                sock, PACKET_LIMIT, MAX_DESCRIPTORS
            )
        except OSError:
            return 1
        if not data:
            return 0  # the parent closed its end
        try:
            results = commit_received(data, descriptors, flags, queue_dir, directory)
        finally:
            for fd in descriptors:
                close_quietly(fd)
        try:
            sock.send(pickle.dumps(results, pickle.HIGHEST_PROTOCOL))
        except OSError:
            return 0  # the parent has gone; nobody waits for this answer


def commit_received(
    data: bytes, descriptors: list[int], flags: int, queue_dir: Path, directory: DirectorySync
) -> list[BaseException | None]:
    """Commit one received batch; per message None or what failed it (always picklable).

    A request that cannot be read at all gets a single error, which the parent
    gives every message of the batch."""
    if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
        return [QueueError("commit request truncated in transit")]  # the parent fails all
    if data == IN_MEMFD:  # the batch is in a memfd, the first descriptor
        data, descriptors = _read_all(descriptors[0]), descriptors[1:]
    fsync, messages = cast(Batch, pickle.loads(data))  # noqa: S301 (our parent)
    dfs = iter(descriptors)
    items = [
        PendingCommit(
            MessageWriter.received(
                queue_dir, qid, body, None if body is not None else os.dup(next(dfs)), fsync=fsync
            ),
            qf,
        )
        for qid, qf, body in messages
    ]
    try:
        commit_batch(items, directory, fsync=fsync)
    except Exception as exc:  # a bug fails the batch; the sessions must not wait forever
        for item in items:
            if item.writer.state != "done":
                item.writer.abort()
                item.error = exc
    return [_picklable(item.error) for item in items]


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)  # the sender's writes moved the shared offset
    with open(fd, "rb", closefd=False) as memfd:
        return memfd.read()


def _picklable(error: BaseException | None) -> BaseException | None:
    if error is None:
        return None
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    except Exception:
        return QueueError(f"{type(error).__name__}: {error}")
    return error


def gone_error(qid: str, queue_dir: Path, reason: str) -> QueueIOError:
    """What a message of a batch whose commit process died fails with."""
    return QueueIOError(errno.EIO, os.path.join(queue_dir, "qf" + qid), f"committing ({reason})")
