"""Careful file handling shared by the policy and config packages.

Owns two things: the trust check for files that steer the server (config, AuthUsersFile:
owner must be root or the current user, never world-writable; files holding secrets must
not be readable by group or others either) and ``atomic_write`` (temp file, fsync,
rename or exclusive link, directory fsync) so a reader sees the old file or the new one,
never a mix.  Both report problems as plain text or ``OSError``; callers wrap them in
their own exception type with the file name and line.
"""

from __future__ import annotations

import os
import pwd
import secrets
import stat
from pathlib import Path


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def trust_problem(st: os.stat_result, *, secret: bool) -> str | None:
    """Why a file with this status must not be used, or None when it may be."""
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    me = os.geteuid()
    if st.st_uid not in (0, me):
        return f"is owned by {_owner_name(st.st_uid)}; it must be owned by root" + (
            "" if me == 0 else f" or by {_owner_name(me)}"
        )
    if st.st_mode & stat.S_IWOTH:
        return "is world-writable; remove that permission (chmod o-w)"
    if secret and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"is accessible by group or others (mode {stat.S_IMODE(st.st_mode):04o}); it "
            "holds password hashes, so it must be readable by its owner only (chmod 600)"
        )
    return None


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` with permissions ``mode`` so it appears complete or not at all.

    With ``exclusive`` the file must not exist yet (``FileExistsError`` otherwise, and
    nothing is changed); without it an existing file is replaced.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_directory(path.parent)
