"""Starting a file's write-back without waiting for it (Linux ``sync_file_range``).

A committer that must fdatasync several new files first starts the disk
writes of all of them (:func:`start_writeback`), then fdatasyncs each: the
writes and the block allocations of the whole batch go to the device
together, and each fdatasync finds its data already on the way (and, on an
ext4 folder, the parent directory already written by the first), instead of
each file paying a full round trip of its own.  Durability still comes only
from the fdatasync; this call guarantees nothing and a failure of it is
ignored (the fdatasync that follows reports any write error).  Where the
call does not exist (not Linux, no libc) it does nothing.
"""

from __future__ import annotations

import ctypes

from .libc import libc_function

_SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>: start write-out of dirty pages, do not wait


_sync_file_range = libc_function(
    "sync_file_range", (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint), ctypes.c_int
)


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing ``fd``'s dirty pages now; returns at once."""
    if _sync_file_range is not None:
        _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)
