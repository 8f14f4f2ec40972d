"""Appending one message to an mbox file safely.

:func:`append_mbox` opens the file ``O_APPEND|O_NOFOLLOW`` (created mode
0600), refuses anything but a regular file with one link, takes the
``<mbox>.lock`` dot-lock (``O_EXCL``; a lock older than
:data:`STALE_DOT_LOCK` seconds is removed, a folder we may not write to means
no dot-lock, as mail.local does) and an exclusive ``fcntl`` lock, writes the
chunks, fsyncs, and only then reports success.  A failed write truncates the
file back to its old size, so a reader never sees half a message.  Both locks
are waited for up to ``lock_timeout`` seconds (polling; a runner thread
blocks, never the event loop).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

STALE_DOT_LOCK = 300.0
POLL = 0.05


class MailboxError(Exception):
    """Delivery to a mailbox failed; ``temporary`` says whether to retry."""

    def __init__(self, text: str, *, temporary: bool) -> None:
        super().__init__(text)
        self.temporary = temporary


def open_append(path: Path, *, uid: int | None = None, gid: int | None = None) -> int:
    """Open ``path`` for appending without following a symlink; create it 0600."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MailboxError(f"{path}: is a symbolic link", temporary=False) from exc
        temporary = exc.errno not in (errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR)
        raise MailboxError(f"cannot open {path}: {exc.strerror}", temporary=temporary) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        raise MailboxError(f"{path}: not a regular file with one link", temporary=False)
    if uid is not None and st.st_size == 0 and st.st_uid != uid and os.geteuid() == 0:
        os.fchown(fd, uid, gid if gid is not None else -1)
    return fd


@contextlib.contextmanager
def dot_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold ``<path>.lock`` (skipped when the folder is not writable for us)."""
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + timeout
    held = False
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):
                if time.time() - os.lstat(lock).st_mtime > STALE_DOT_LOCK:
                    os.unlink(lock)
                    continue
            if time.monotonic() >= deadline:
                raise MailboxError(f"{lock}: mailbox is locked", temporary=True) from None
            time.sleep(POLL)
            continue
        except PermissionError:
            break  # no write access to the spool folder: rely on the fcntl lock
        except OSError as exc:
            raise MailboxError(f"cannot create {lock}: {exc.strerror}", temporary=True) from exc
        os.close(fd)
        held = True
        break
    try:
        yield
    finally:
        if held:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)


def fcntl_lock(fd: int, timeout: float, what: Path) -> None:
    """Exclusive ``fcntl`` lock on ``fd``, waiting at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise MailboxError(f"cannot lock {what}: {exc.strerror}", temporary=True) from exc
        if time.monotonic() >= deadline:
            raise MailboxError(f"{what}: mailbox is locked", temporary=True)
        time.sleep(POLL)


def append_mbox(
    path: Path,
    chunks: Iterable[bytes],
    *,
    uid: int | None = None,
    gid: int | None = None,
    lock_timeout: float = 60.0,
) -> None:
    """Append a message (already in mbox form) to ``path``; durable on return."""
    fd = open_append(path, uid=uid, gid=gid)
    try:
        with dot_lock(path, lock_timeout):
            fcntl_lock(fd, lock_timeout, path)
            start = os.fstat(fd).st_size
            try:
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                temporary = exc.errno not in (errno.EFBIG,)
                raise MailboxError(
                    f"error writing {path}: {exc.strerror}", temporary=temporary
                ) from exc
    finally:
        os.close(fd)
