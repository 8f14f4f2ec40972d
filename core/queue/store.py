"""The spool directory: claiming ids for new messages, and the job-level operations.

:class:`QueueStore` is the queue's front door for the rest of the core.
:meth:`~QueueStore.new_message` claims a fresh id by creating ``df<id>``
with ``O_CREAT|O_EXCL`` (mode 0600) and flock'ing it; on ``EEXIST``, or when
any control file for that id already exists (an id reused after a restart or
a clock step), it takes a new id -- an existing file is never overwritten.

For convenience it re-exports what a receiver needs: :class:`MessageWriter`,
:class:`GroupCommitter`, :func:`sweep` and the write errors.  The other
methods delegate to one-job modules: :mod:`.hold` (quarantine and
release), :mod:`.jobs` (listing), :mod:`.sweep` (start-up debris removal).
The layout is Sendmail's flat queue folder: ``qf``/``hf``/``Qf``/``df``/
``tf`` files side by side (no ``qf/``/``df/`` subfolders, no queue groups).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from .commit import GroupCommitter
from .durable import close_quietly, create_exclusive, unlink_quietly
from .errors import (
    QueueError,
    QueueFullError,
    QueueIOError,
    QueueTooBigError,
    QueueWriteError,
    write_error,
)
from .hold import quarantine, release
from .jobs import Job, iter_jobs
from .locks import try_lock
from .qid import QueueIdGenerator
from .sweep import SweepReport, sweep
from .writer import MessageWriter

__all__ = [
    "GroupCommitter",
    "Job",
    "MessageWriter",
    "QueueError",
    "QueueFullError",
    "QueueIOError",
    "QueueStore",
    "QueueTooBigError",
    "QueueWriteError",
    "SweepReport",
    "sweep",
]

MAX_ID_ATTEMPTS = 1000
_CONTROL_PREFIXES = ("qf", "hf", "Qf", "tf")


class QueueStore:
    """A Sendmail-format queue folder."""

    def __init__(
        self,
        queue_dir: Path,
        *,
        ids: QueueIdGenerator | None = None,
        fsync: bool = True,
    ) -> None:
        self.queue_dir = Path(queue_dir)
        self.ids = ids if ids is not None else QueueIdGenerator()
        self.fsync = fsync

    def new_message(self) -> MessageWriter:
        """Claim a fresh id; returns a writer holding the locked, empty ``df<id>``."""
        for _ in range(MAX_ID_ATTEMPTS):
            qid = self.ids.next_id()
            df_path = self.queue_dir / ("df" + qid)
            try:
                fd = create_exclusive(df_path)
            except FileExistsError:
                continue
            except OSError as exc:
                raise write_error(exc, str(df_path), "creating") from exc
            if not try_lock(fd) or self._id_in_use(qid):
                close_quietly(fd)
                unlink_quietly(df_path)
                continue
            return MessageWriter(self.queue_dir, qid, fd, fsync=self.fsync)
        raise QueueIOError(errno.EEXIST, str(self.queue_dir), "finding an unused queue id in")

    def group_committer(self, *, start: bool = True) -> GroupCommitter:
        """A :class:`GroupCommitter` for this folder, with this store's fsync setting."""
        return GroupCommitter(self, start=start)

    def quarantine(self, qid: str, reason: str) -> None:
        """Hold a job: ``qf<id>`` becomes ``hf<id>`` with a ``q<reason>`` line."""
        quarantine(self.queue_dir, qid, reason, fsync=self.fsync)

    def release(self, qid: str) -> None:
        """Release a held job: ``hf<id>`` becomes ``qf<id>``, the ``q`` line removed."""
        release(self.queue_dir, qid, fsync=self.fsync)

    def jobs(self, *, quarantined: bool = False, lost: bool = False) -> Iterator[Job]:
        """Iterate the jobs (see :func:`.jobs.iter_jobs`)."""
        return iter_jobs(self.queue_dir, quarantined=quarantined, lost=lost)

    def sweep(self, log: Callable[[str], None]) -> SweepReport:
        """Remove crash debris and set aside unreadable control files (start-up)."""
        return sweep(self.queue_dir, log)

    def _id_in_use(self, qid: str) -> bool:
        return any(os.path.lexists(self.queue_dir / (prefix + qid)) for prefix in _CONTROL_PREFIXES)
