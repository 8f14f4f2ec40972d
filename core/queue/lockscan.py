"""Which control files a process holds locked -- mailq's ``*`` -- without opening every one.

Sendmail's test is a shared non-blocking ``flock`` on each control file: it fails only
while some process holds an exclusive one (a job being delivered).  Trying that on
100,000 files costs three system calls each.  The kernel lists every lock in
``/proc/locks`` (``FLOCK ... WRITE <pid> <maj>:<min>:<inode>``), so the inodes of
exclusively flocked files can be read in one go; only files whose inode appears there
are then probed for real (which also rules out an inode number of another file system).

``/proc/locks`` is complete only when this process is in the initial PID namespace (a
lock whose owner is not visible from the reader's namespace, or has exited after
handing its descriptor to a child, is left out of the list) and the queue folder is on a
local file system (on NFS, other machines' locks are not listed; on overlayfs the
inode numbers shown may not be those ``stat`` reports).  Otherwise
:func:`locked_inodes` answers None and every file must be probed, as before.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

PROC_LOCKS = "/proc/locks"
MOUNTINFO = "/proc/self/mountinfo"
PID_NAMESPACE = "/proc/self/ns/pid"
INIT_PID_NAMESPACE_INO = 0xEFFFFFFC
"""PROC_PID_INIT_INO: the inode number of the initial PID namespace on every Linux."""
LOCAL_FILE_SYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs"})
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


def locked_inodes(queue_dir: Path) -> frozenset[int] | None:
    """Inode numbers some process holds an exclusive flock on; None when that is unknowable."""
    if not _in_initial_pid_namespace() or file_system_type(queue_dir) not in LOCAL_FILE_SYSTEMS:
        return None
    try:
        with open(PROC_LOCKS, "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    return parse_proc_locks(text)


def parse_proc_locks(text: bytes) -> frozenset[int]:
    """The inodes of the granted exclusive ``FLOCK`` locks in ``/proc/locks`` text."""
    found: set[int] = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[1] == b"FLOCK" and parts[3] == b"WRITE":
            try:
                found.add(int(parts[5].rsplit(b":", 1)[1]))
            except (IndexError, ValueError):
                continue
    return frozenset(found)


def probe_locked(dir_fd: int, name: str) -> bool:
    """Sendmail's test on one file: does a shared non-blocking flock fail?"""
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _in_initial_pid_namespace() -> bool:
    try:
        return os.stat(PID_NAMESPACE).st_ino == INIT_PID_NAMESPACE_INO
    except OSError:
        return False


def file_system_type(path: Path) -> str | None:
    """The type (``ext4``, ``nfs``...) of the file system ``path`` lives on, from mountinfo."""
    try:
        target = os.path.realpath(path)
        with open(MOUNTINFO, "rb") as handle:
            lines = handle.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return None
    best, kind = "", None
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not rest:
            continue
        point = _unescape(parts[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the last of equal mount points wins
            best, kind = point, rest.split()[0]
    return kind


def _unescape(text: str) -> str:
    """mountinfo's octal escapes (``\\040`` for a space)."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
