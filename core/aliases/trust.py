"""Whether a file may steer deliveries: aliases files, ``:include:`` files, ``.forward`` files.

All checks return ``None`` (safe) or a short reason in Sendmail's words
(``World writable directory``, ``Group writable file``, ``Symbolic links not
allowed`` ...), ready for ``forward <path>: <reason>`` log lines.

- :func:`alias_file_problem`: a trusted aliases file is a regular file owned
  by root or by the MTA's user (the effective uid) and not group- or
  world-writable (BAD-INPUTS 44).  Only trusted files may name programs, files
  and ``:include:`` lists.
- :func:`forward_problem`: Sendmail's ``safefile`` rules for ``.forward``
  (SFF_MUSTOWN|SFF_ROOTOK|SFF_REGONLY|SFF_SAFEDIRPATH, NOGWFILES, NOWWFILES),
  made stricter: no symbolic or hard links, and every folder from ``/`` down
  owned by root or the user and writable by neither group nor others -- a
  home folder others can write to makes the whole ``.forward`` unsafe
  (BAD-INPUTS 53).
- :func:`include_problem`: ``:include:`` files must be regular, not symbolic
  links, inside one of the allowed folders, owned by an allowed owner, not
  group/world-writable, in a safe folder chain (BAD-INPUTS 46).
- :func:`read_safely` opens with ``O_NOFOLLOW``, re-checks that the opened
  file is the one that was checked, and caps the size.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

MAX_LIST_BYTES = 1024 * 1024
"""The largest ``:include:`` or ``.forward`` file read."""


def account_name(uid: int) -> str:
    """The login name of ``uid``, or ``uid <n>``."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def trusted_owners() -> frozenset[int]:
    """Root and the MTA's own user (the effective uid of this process)."""
    return frozenset({0, os.geteuid()})


def _file_mode_problem(st: os.stat_result) -> str | None:
    if st.st_mode & stat.S_IWOTH:
        return "World writable file"
    if st.st_mode & stat.S_IWGRP:
        return "Group writable file"
    return None


def alias_file_problem(st: os.stat_result, owners: Iterable[int] | None = None) -> str | None:
    """Why an aliases file with this status is not trusted, or None."""
    allowed = frozenset(owners) if owners is not None else trusted_owners()
    if not stat.S_ISREG(st.st_mode):
        return "Regular files only"
    if st.st_uid not in allowed:
        names = " or ".join(sorted({account_name(u) for u in allowed}))
        return f"owned by {account_name(st.st_uid)}, not by {names}"
    return _file_mode_problem(st)


def directory_chain_problem(folder: Path, owners: Iterable[int]) -> str | None:
    """Every folder from ``/`` to ``folder`` (resolved) must be safe for these owners."""
    allowed = frozenset(owners)
    real = Path(os.path.realpath(folder))
    for current in (*reversed(real.parents), real):
        try:
            st = os.stat(current)
        except OSError as exc:
            return f"{current}: {exc.strerror}"
        if not stat.S_ISDIR(st.st_mode):
            return f"{current}: Not a directory"
        if st.st_mode & stat.S_IWOTH:
            return f"{current}: World writable directory"
        if st.st_mode & stat.S_IWGRP:
            return f"{current}: Group writable directory"
        if st.st_uid not in allowed:
            return f"{current}: directory owned by {account_name(st.st_uid)}"
    return None


def _link_problem(path: Path) -> tuple[os.stat_result | None, str | None]:
    try:
        st = os.lstat(path)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if stat.S_ISLNK(st.st_mode):
        return st, "Symbolic links not allowed"
    if not stat.S_ISREG(st.st_mode):
        return st, "Regular files only"
    if st.st_nlink > 1:
        return st, "Hard links not allowed"
    return st, None


def forward_problem(path: Path, uid: int) -> str | None:
    """Why the ``.forward`` file at ``path`` of the user ``uid`` is unsafe, or None.

    A missing file is reported as ``No such file or directory`` (callers treat
    that as "no .forward", not as unsafe).
    """
    st, why = _link_problem(path)
    if why is not None or st is None:
        return why
    if st.st_uid not in (uid, 0):
        return f"owned by {account_name(st.st_uid)}, not by {account_name(uid)} or root"
    mode = _file_mode_problem(st)
    if mode is not None:
        return mode
    return directory_chain_problem(path.parent, (0, uid))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def include_problem(path: Path, allowed_dirs: Iterable[Path], owners: Iterable[int]) -> str | None:
    """Why the ``:include:`` file at ``path`` may not be read, or None."""
    if not path.is_absolute():
        return "not an absolute path"
    st, why = _link_problem(path)
    if why is not None or st is None:
        return why
    real_parent = Path(os.path.realpath(path.parent))
    folders = [Path(os.path.realpath(d)) for d in allowed_dirs]
    if not any(_inside(real_parent / path.name, d) for d in folders):
        return "outside the folders allowed for :include: files"
    allowed = frozenset(owners)
    if st.st_uid not in allowed:
        return f"owned by {account_name(st.st_uid)}"
    mode = _file_mode_problem(st)
    if mode is not None:
        return mode
    return directory_chain_problem(path.parent, allowed)


def readable_by(st: os.stat_result, uid: int, gids: Iterable[int]) -> bool:
    """Whether the account ``uid`` (groups ``gids``) may read a file with status ``st``."""
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IRUSR)
    if st.st_gid in set(gids):
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


class UnsafeFile(OSError):
    """The file changed between the check and the open, or is too large."""


def read_safely(
    path: Path,
    check: Callable[[Path], str | None],
    *,
    max_bytes: int = MAX_LIST_BYTES,
) -> tuple[bytes, os.stat_result]:
    """Check ``path`` with ``check``, open it without following links, read at most ``max_bytes``.

    Returns the bytes and the status of the opened file.
    Raises :class:`UnsafeFile` (with the reason) when ``check`` refuses it or the
    opened file is not the checked one, ``OSError`` when it cannot be opened.
    """
    why = check(path)
    if why is not None:
        raise UnsafeFile(why)
    before = os.lstat(path)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        after = os.fstat(fd)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise UnsafeFile("File changed after open")
        chunks: list[bytes] = []
        size = 0
        while True:
            block = os.read(fd, 65536)
            if not block:
                break
            size += len(block)
            if size > max_bytes:
                raise UnsafeFile(f"larger than {max_bytes} bytes")
            chunks.append(block)
        return b"".join(chunks), after
    finally:
        os.close(fd)
