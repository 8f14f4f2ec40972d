"""Quarantine (hold) and release of queued jobs, as ``sendmail -Q`` does.

:func:`quarantine` rewrites ``qf<id>`` (or an already held ``hf<id>``, to
change the reason) through ``tf<id>`` into ``hf<id>`` with a ``q<reason>``
line and removes the old qf.  :func:`release` rewrites ``hf<id>`` into
``qf<id>`` without the ``q`` line.  Both run under the job's exclusive flock
(a job being delivered raises :class:`QueueLockedError`), create the tf with
``O_EXCL``, fsync it, rename it and fsync the folder, so a crash leaves the
old state or the new one, never a mix.  The q line goes where Sendmail's
``queueup`` writes it (after ``B``); ``sendmail -Q`` puts it before ``S``;
both readers accept either.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .durable import close_quietly, create_exclusive, fsync_dir, unlink_quietly, write_all
from .errors import JobNotFoundError, QueueError, QueueLockedError, write_error
from .locks import open_locked, try_lock
from .qfformat import format_qf
from .qfparse import parse_qf
from .qid import check_qid


def quarantine(queue_dir: Path, qid: str, reason: str, *, fsync: bool = True) -> None:
    """Move job ``qid`` to the quarantine (``hf``) with ``reason``."""
    if not reason or any(c in reason for c in "\r\n\0"):
        raise ValueError(f"quarantine reason must be one non-empty line: {reason!r}")
    check_qid(qid)
    source = queue_dir / ("qf" + qid)
    if not os.path.lexists(source):
        source = queue_dir / ("hf" + qid)
    _rewrite(queue_dir, qid, source, queue_dir / ("hf" + qid), reason, fsync)


def release(queue_dir: Path, qid: str, *, fsync: bool = True) -> None:
    """Move job ``qid`` out of the quarantine (``hf`` -> ``qf``)."""
    check_qid(qid)
    source, target = queue_dir / ("hf" + qid), queue_dir / ("qf" + qid)
    if not os.path.lexists(source):
        raise JobNotFoundError(f"no quarantined job {qid} ({source.name} does not exist)")
    if os.path.lexists(target):
        raise QueueError(f"{target} already exists; not overwriting it")
    _rewrite(queue_dir, qid, source, target, None, fsync)


def _rewrite(
    queue_dir: Path, qid: str, source: Path, target: Path, reason: str | None, fsync: bool
) -> None:
    if not os.path.lexists(source):
        raise JobNotFoundError(f"no queued job {qid} ({source.name} does not exist)")
    fd = open_locked(source)
    if fd is None:
        raise QueueLockedError(f"{source} is locked by another process")
    try:
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read()
        new = format_qf(dataclasses.replace(parse_qf(data, str(source)), quarantine=reason))
        _replace(queue_dir, qid, source, target, new, fsync)
    finally:
        close_quietly(fd)


def _replace(
    queue_dir: Path, qid: str, source: Path, target: Path, data: bytes, fsync: bool
) -> None:
    tf = queue_dir / ("tf" + qid)
    try:
        tf_fd = create_exclusive(tf)
    except FileExistsError as exc:
        raise QueueLockedError(f"{tf} exists: the job is being rewritten") from exc
    except OSError as exc:
        raise write_error(exc, str(tf), "creating") from exc
    renamed = False
    action = "writing"
    try:
        if not try_lock(tf_fd):
            raise QueueLockedError(f"{tf} is locked by another process")
        write_all(tf_fd, data)
        if fsync:
            action = "syncing"
            os.fsync(tf_fd)
        action = "renaming"
        os.rename(tf, target)
        renamed = True
        if source != target:
            action = "removing"
            os.unlink(source)
        if fsync:
            action = "syncing directory"
            fsync_dir(queue_dir)
    except OSError as exc:
        raise write_error(exc, str(tf), action) from exc
    finally:
        if not renamed:
            unlink_quietly(tf)
        close_quietly(tf_fd)
