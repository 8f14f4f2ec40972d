"""Writing a job's new state back, atomically and under its lock.

:func:`rewrite` replaces the control file the way Sendmail does: ``tf<id>``
is created ``O_EXCL``, flock'ed, written, fsync'ed and renamed over the
``qf`` (or ``hf``), then the folder is fsync'ed -- a crash leaves the old
file or the new one, never a mix (BAD-INPUTS F.73).  The lock moves with the
file: the tf's descriptor, already locked, becomes the job lock's
descriptor, so no other runner can take the job between the rename and the
end of the attempt.  A ``tf`` found while we hold the job's lock is debris
of a crashed rewrite and is removed first.

:func:`remove` deletes a finished job: control file first, then ``df`` and
``xf`` (a lone df is swept at start-up), then fsyncs the folder.
:func:`set_aside` renames a job that needs a human to ``Qf<id>``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..queue.durable import create_exclusive, fsync_dir, unlink_quietly, write_all
from ..queue.errors import QueueLockedError, write_error
from ..queue.locks import JobLock, open_locked, try_lock
from ..queue.qf import QueueFile, format_qf


def _create_tf(tf: Path) -> int:
    for _ in range(2):
        try:
            return create_exclusive(tf)
        except FileExistsError:
            stale = open_locked(tf)
            if stale is None:
                raise QueueLockedError(f"{tf} is locked by another process") from None
            try:
                unlink_quietly(tf)
            finally:
                os.close(stale)
    raise QueueLockedError(f"{tf} keeps reappearing")


def rewrite(lock: JobLock, qf: QueueFile, *, fsync: bool = True) -> None:
    """Replace the locked control file ``lock.path`` with ``qf``; the lock follows."""
    target = lock.path
    folder = target.parent
    tf = folder / ("tf" + target.name[2:])
    data = format_qf(qf)
    try:
        fd = _create_tf(tf)
    except OSError as exc:
        raise write_error(exc, str(tf), "creating") from exc
    renamed = False
    action = "locking"
    try:
        if not try_lock(fd):
            raise QueueLockedError(f"{tf} is locked by another process")
        action = "writing"
        write_all(fd, data)
        if fsync:
            action = "syncing"
            os.fsync(fd)
        action = "renaming"
        os.rename(tf, target)
        renamed = True
        old, lock.fd = lock.fd, fd
        if old is not None:
            os.close(old)
        if fsync:
            action = "syncing directory"
            fsync_dir(folder)
    except OSError as exc:
        if not renamed:
            unlink_quietly(tf)
            os.close(fd)
        raise write_error(exc, str(tf), action) from exc
    except BaseException:
        if not renamed:
            unlink_quietly(tf)
            os.close(fd)
        raise


def remove(lock: JobLock, *, fsync: bool = True) -> None:
    """Delete the finished job (control file, df, xf) while still holding its lock."""
    folder = lock.path.parent
    qid = lock.path.name[2:]
    unlink_quietly(lock.path)
    unlink_quietly(folder / ("df" + qid))
    unlink_quietly(folder / ("xf" + qid))
    if fsync:
        with contextlib.suppress(OSError):
            fsync_dir(folder)


def set_aside(lock: JobLock, *, fsync: bool = True) -> Path | None:
    """Rename the job to ``Qf<id>`` (lost); None if that name is taken."""
    lost = lock.path.parent / ("Qf" + lock.path.name[2:])
    if os.path.lexists(lost):
        return None
    os.rename(lock.path, lost)
    if fsync:
        with contextlib.suppress(OSError):
            fsync_dir(lock.path.parent)
    return lost
