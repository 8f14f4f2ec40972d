"""BSD ``flock`` locking on spool files, as Sendmail does on Linux.

A process working on a job holds an exclusive, non-blocking ``flock`` on its
control file for the whole time; ``mailq`` marks a job ``*`` when a shared
non-blocking attempt fails (:func:`is_locked`).  :func:`open_locked` opens a
file and locks it, then checks that the name still refers to the locked inode
(the file may have been renamed or replaced meanwhile), the race Sendmail's
``readqf`` guards against.  :class:`JobLock` wraps that for the queue runner.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import JobNotFoundError, QueueLockedError


def try_lock(fd: int, *, shared: bool = False) -> bool:
    """Take a non-blocking flock on ``fd``; False if another holder has it."""
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def is_locked(path: Path | str) -> bool:
    """True if some process holds an exclusive flock on ``path`` (mailq's ``*`` test)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        return not try_lock(fd, shared=True)
    finally:
        os.close(fd)


def open_locked(path: Path | str, flags: int = os.O_RDONLY) -> int | None:
    """Open ``path`` and lock it exclusively, or return None.

    None means the file is gone, is locked by someone else, or was replaced
    between the open and the lock.  The caller closes the descriptor, which
    releases the lock.
    """
    try:
        fd = os.open(path, flags | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    try:
        if not try_lock(fd) or not same_file(fd, path):
            os.close(fd)
            return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def same_file(fd: int, path: Path | str) -> bool:
    """True if ``path`` currently names the inode open as ``fd``."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


class JobLock:
    """The exclusive flock a process holds on a job's control file while it works on it.

    ``with JobLock(queue_dir / ("qf" + qid)) as lock:`` -- raises ``QueueLockedError``
    if another process holds it, ``JobNotFoundError`` if the file is gone.  ``lock.fd``
    is the open (read-only) control file; leaving the block releases the lock.
    """

    def __init__(self, path: Path) -> None:
        fd = open_locked(path)
        if fd is None:
            if not os.path.lexists(path):
                raise JobNotFoundError(f"{path} does not exist")
            raise QueueLockedError(f"{path} is locked by another process")
        self.path = path
        self.fd: int | None = fd

    def close(self) -> None:
        """Release the lock (idempotent)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> JobLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
