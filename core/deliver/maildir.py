"""Delivering one message into a Maildir (``tmp`` -> ``new``).

:func:`deliver_maildir` creates ``<dir>/{tmp,new,cur}`` when missing (mode
0700, owned by the user when we are root), writes the message to a unique
``tmp/`` name (``O_EXCL|O_NOFOLLOW``), fsyncs it, links it into ``new/``,
removes the tmp name and fsyncs ``new/``; success is reported only then.
A partial file is removed on failure.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import time
from collections.abc import Iterable
from pathlib import Path

from .mbox import MailboxError

_counter = itertools.count()


def _ensure_dirs(root: Path, uid: int | None, gid: int | None) -> None:
    for sub in ("", "tmp", "new", "cur"):
        path = root / sub if sub else root
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if path.is_symlink() or not path.is_dir():
                raise MailboxError(f"{path}: not a directory", temporary=False) from None
            continue
        if uid is not None and os.geteuid() == 0:
            os.chown(path, uid, gid if gid is not None else -1)


def unique_name(now: float | None = None) -> str:
    """``<seconds>.M<usec>P<pid>Q<n>.<host>`` (the usual Maildir naming)."""
    stamp = time.time() if now is None else now
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    usec = int((stamp % 1) * 1_000_000)
    return f"{int(stamp)}.M{usec}P{os.getpid()}Q{next(_counter)}.{host}"


def deliver_maildir(
    root: Path, chunks: Iterable[bytes], *, uid: int | None = None, gid: int | None = None
) -> Path:
    """Write the message into ``root/new``; returns its final path."""
    try:
        _ensure_dirs(root, uid, gid)
    except OSError as exc:
        raise MailboxError(f"cannot create {root}: {exc.strerror}", temporary=True) from exc
    name = unique_name()
    tmp, new = root / "tmp" / name, root / "new" / name
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise MailboxError(f"cannot create {tmp}: {exc.strerror}", temporary=True) from exc
    try:
        try:
            if uid is not None and os.geteuid() == 0:
                os.fchown(fd, uid, gid if gid is not None else -1)
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, new)
        os.unlink(tmp)
        dfd = os.open(root / "new", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise MailboxError(f"error writing {tmp}: {exc.strerror}", temporary=True) from exc
    return new
