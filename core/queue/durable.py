"""Small durable-write primitives shared by the writer, the committer and hold.

``create_exclusive`` makes a new spool file with ``O_CREAT|O_EXCL`` (mode
0600) so an existing file is never overwritten; ``write_all`` loops over
short writes; ``fdatasync_quietly`` returns a sync's error instead of raising it;
``rename_no_replace`` renames without ever replacing an existing
name (``renameat2(RENAME_NOREPLACE)``: the check and the rename are one
call); ``fsync_dir`` makes renames and new names in a directory
durable, and :class:`DirectorySync` does the same with one descriptor kept
open for many batches.  These raise plain
``OSError``; callers turn it into a ``QueueWriteError`` with
:func:`.errors.write_error` and remove their partial files.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from pathlib import Path

from .libc import libc_function

FILE_MODE = 0o600


def create_exclusive(path: Path | str) -> int:
    """Create ``path`` for writing; ``FileExistsError`` if it exists."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fdatasync_quietly(fd: int) -> OSError | None:
    """fdatasync ``fd``; the error instead of raising it."""
    try:
        os.fdatasync(fd)
    except OSError as exc:
        return exc
    return None


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1  # <linux/fs.h>


_renameat2 = libc_function(
    "renameat2",  # glibc 2.28 and later
    (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint),
    ctypes.c_int,
)


def rename_no_replace(source: str, target: str) -> None:
    """Rename ``source`` to ``target``; ``FileExistsError`` if ``target`` exists.

    Where ``renameat2`` or its flag is missing (an old kernel or libc, a file
    system without it), the check is an ``lstat`` before the rename.
    """
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target),
                      _RENAME_NOREPLACE) == 0:  # fmt: skip
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), source, None, target)
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target)
    os.rename(source, target)


def fsync_dir(directory: Path) -> None:
    """fsync a directory so the names created or renamed in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectorySync:
    """fsync of one directory through a descriptor opened once (per committer, not per batch)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None

    def open(self) -> None:
        """Open the descriptor now (before threads share it); idempotent."""
        if self._fd is None:
            self._fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def descriptor(self) -> int:
        """The directory's descriptor, opened now if it is not yet."""
        self.open()
        assert self._fd is not None
        return self._fd

    def sync(self) -> None:
        os.fsync(self.descriptor())

    def close(self) -> None:
        close_quietly(self._fd)
        self._fd = None


def unlink_quietly(path: Path | str) -> None:
    """Remove ``path`` if it exists; ignore a missing file."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def close_quietly(fd: int | None) -> None:
    """Close ``fd`` if it is open, ignoring errors (used on cleanup paths)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
