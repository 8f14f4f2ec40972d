"""Listing the jobs of a queue folder, one parsed control file at a time.

:func:`iter_jobs` walks the folder with ``os.scandir`` (directory order, no
sorting) and yields a :class:`Job` per control file: ``qf`` files normally,
``hf`` with ``quarantined=True``, ``Qf`` with ``lost=True``.  Only one file is
parsed and held at a time, so memory stays flat over 100,000 jobs.  A control
file that does not parse is still listed, with ``queue_file=None`` and the
error text; one that disappears while being read (delivered meanwhile) is
skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidQueueIdError, QueueFileError
from .locks import is_locked
from .qfmodel import QueueFile
from .qfparse import parse_qf
from .qid import check_qid


@dataclass(frozen=True)
class Job:
    """One queued job as found on disk."""

    qid: str
    path: Path
    queue_file: QueueFile | None
    error: str | None
    df_size: int
    locked: bool


def control_prefix(*, quarantined: bool = False, lost: bool = False) -> str:
    """``qf``, ``hf`` (quarantined) or ``Qf`` (lost)."""
    if quarantined and lost:
        raise ValueError("choose quarantined or lost jobs, not both")
    return "hf" if quarantined else "Qf" if lost else "qf"


def iter_jobs(queue_dir: Path, *, quarantined: bool = False, lost: bool = False) -> Iterator[Job]:
    """Yield the jobs of ``queue_dir`` in directory order."""
    prefix = control_prefix(quarantined=quarantined, lost=lost)
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            qid = entry.name[2:]
            try:
                check_qid(qid)
            except InvalidQueueIdError:
                continue
            job = read_job(Path(queue_dir), qid, prefix)
            if job is not None:
                yield job


def read_job(queue_dir: Path, qid: str, prefix: str = "qf") -> Job | None:
    """Read one job's control file; None if it no longer exists."""
    path = queue_dir / (prefix + qid)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Job(qid, path, None, f"{path}: {exc.strerror}", _df_size(queue_dir, qid), False)
    queue_file: QueueFile | None = None
    error: str | None = None
    try:
        queue_file = parse_qf(data, str(path))
    except QueueFileError as exc:
        error = str(exc)
    return Job(qid, path, queue_file, error, _df_size(queue_dir, qid), is_locked(path))


def _df_size(queue_dir: Path, qid: str) -> int:
    try:
        return (queue_dir / ("df" + qid)).stat().st_size
    except OSError:
        return -1
