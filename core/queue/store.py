"""The spool directory: claiming ids for new messages, and the job-level operations.

:class:`QueueStore` is the queue's front door for the rest of the core.
:meth:`~QueueStore.new_message` claims a fresh id by creating ``df<id>``
with ``O_CREAT|O_EXCL`` (mode 0600) and flock'ing it; on ``EEXIST``, or when
any control file for that id already exists (an id reused after a restart or
a clock step), it takes a new id -- an existing file is never overwritten.
``new_message(buffered=True)`` (the SMTP receiver) only takes an id: the body
stays in memory and the df is claimed when the message is committed (or when
it grows past :data:`.writer.SPILL_SIZE`); if that id then turns out to be
taken, the commit fails with ``EEXIST`` (a temporary failure for the client)
rather than touching the other file.

For convenience it re-exports what a receiver needs: :class:`MessageWriter`,
:class:`GroupCommitter`, :func:`sweep` and the write errors.  The other
methods delegate to one-job modules: :mod:`.hold` (quarantine and
release), :mod:`.jobs` (listing), :mod:`.sweep` (start-up debris removal).
The layout is Sendmail's flat queue folder: ``qf``/``hf``/``Qf``/``df``/
``tf`` files side by side (no ``qf/``/``df/`` subfolders, no queue groups).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from pathlib import Path

from .commit import GroupCommitter
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
from .qid import QueueIdGenerator
from .sweep import SweepReport, sweep
from .writer import MessageWriter, claim_df

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

    def new_message(self, *, buffered: bool = False) -> MessageWriter:
        """Claim a fresh id; returns a writer holding the locked, empty ``df<id>``.

        ``buffered``: take an id only; the writer keeps the body in memory and
        claims its df when committed (no file system call here).
        """
        if buffered:
            return MessageWriter(self.queue_dir, self.ids.next_id(), None, fsync=self.fsync)
        for _ in range(MAX_ID_ATTEMPTS):
            qid = self.ids.next_id()
            try:
                fd = claim_df(self.queue_dir, qid)
            except OSError as exc:
                raise write_error(exc, str(self.queue_dir / ("df" + qid)), "creating") from exc
            if fd is not None:
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
