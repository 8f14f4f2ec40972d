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

Names load on first use (PEP 562), so a command that needs one part -- ``mailq`` needs
only the listing -- does not import the others (the committer pulls in asyncio).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``sweep`` is both a submodule and a function: importing the submodule later would
# rebind the package attribute to the module, so the function is bound here, now.
from .sweep import SweepReport, sweep

if TYPE_CHECKING:
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
    from .writer import MessageWriter

_SOURCES = {
    "GroupCommitter": "commit",
    "InvalidQueueIdError": "errors",
    "JobNotFoundError": "errors",
    "QueueError": "errors",
    "QueueFileError": "errors",
    "QueueFullError": "errors",
    "QueueIOError": "errors",
    "QueueLockedError": "errors",
    "QueueSelectionError": "errors",
    "QueueTooBigError": "errors",
    "QueueWriteError": "errors",
    "write_error": "errors",
    "quarantine": "hold",
    "release": "hold",
    "Job": "jobs",
    "iter_jobs": "jobs",
    "JobLock": "locks",
    "is_locked": "locks",
    "format_queue_listing": "mailq",
    "iter_queue_listing": "mailq",
    "MACRO_REF": "qf",
    "QF_VERSION": "qf",
    "RETURN_PATH_VALUE": "qf",
    "Header": "qf",
    "QueueFile": "qf",
    "QueueRecipient": "qf",
    "format_qf": "qf",
    "initial_priority": "qf",
    "parse_qf": "qf",
    "QueueIdGenerator": "qid",
    "check_qid": "qid",
    "qid_time": "qid",
    "Match": "selection",
    "QueueSelection": "selection",
    "parse_selection": "selection",
    "QueueStore": "store",
    "MessageWriter": "writer",
}
"""Exported name -> the submodule that defines it."""


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


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
