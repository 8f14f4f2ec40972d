"""The spool: Sendmail-compatible qf/df/tf/hf files, queue ids, locks, durable writes, mailq.

Public API (see each module's docstring):

- ids: :class:`QueueIdGenerator`, :func:`qid_time`, :func:`check_qid`
- control files: :class:`QueueFile`, :class:`QueueRecipient`, :class:`Header`,
  :func:`parse_qf`, :func:`format_qf`, :func:`initial_priority`,
  :data:`MACRO_REF`, :data:`RETURN_PATH_VALUE`
- spool: :class:`QueueStore`, :class:`MessageWriter`, :class:`GroupCommitter`,
  :func:`sweep`/:class:`SweepReport`, :func:`quarantine`, :func:`release`,
  :func:`iter_jobs`/:class:`Job`, :func:`is_locked`, :class:`JobLock`
- listing: :func:`format_queue_listing`, :func:`iter_queue_listing`,
  :class:`QueueSelection`, :func:`parse_selection`
- errors: :class:`QueueError` and its subclasses
"""

from .commit import GroupCommitter
from .errors import (
    InvalidQueueIdError,
    JobNotFoundError,
    QueueError,
    QueueFileError,
    QueueFullError,
    QueueIOError,
    QueueLockedError,
    QueueSelectionError,
    QueueTooBigError,
    QueueWriteError,
    write_error,
)
from .hold import quarantine, release
from .jobs import Job, iter_jobs
from .locks import JobLock, is_locked
from .mailq import format_queue_listing, iter_queue_listing
from .qf import (
    MACRO_REF,
    QF_VERSION,
    RETURN_PATH_VALUE,
    Header,
    QueueFile,
    QueueRecipient,
    format_qf,
    initial_priority,
    parse_qf,
)
from .qid import QueueIdGenerator, check_qid, qid_time
from .selection import Match, QueueSelection, parse_selection
from .store import QueueStore
from .sweep import SweepReport, sweep
from .writer import MessageWriter

__all__ = [
    "MACRO_REF",
    "QF_VERSION",
    "RETURN_PATH_VALUE",
    "GroupCommitter",
    "Header",
    "InvalidQueueIdError",
    "Job",
    "JobLock",
    "JobNotFoundError",
    "Match",
    "MessageWriter",
    "QueueError",
    "QueueFile",
    "QueueFileError",
    "QueueFullError",
    "QueueIOError",
    "QueueIdGenerator",
    "QueueLockedError",
    "QueueRecipient",
    "QueueSelection",
    "QueueSelectionError",
    "QueueStore",
    "QueueTooBigError",
    "QueueWriteError",
    "SweepReport",
    "check_qid",
    "format_qf",
    "format_queue_listing",
    "initial_priority",
    "is_locked",
    "iter_jobs",
    "iter_queue_listing",
    "parse_qf",
    "parse_selection",
    "qid_time",
    "quarantine",
    "release",
    "sweep",
    "write_error",
]
