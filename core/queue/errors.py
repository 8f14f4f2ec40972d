"""The queue package's exception tree.

Everything the spool raises derives from :class:`QueueError`.  Two branches
matter to callers:

- :class:`QueueFileError` -- a control file (qf/hf/Qf) that does not parse.
  Its ``str`` names the file, the line number and what is wrong, the way
  Sendmail's ``readqf`` reports a bogus queue file.
- :class:`QueueWriteError` -- writing, syncing or renaming a spool file failed.
  Its subclasses tell the receiver which SMTP reply to give:
  :class:`QueueFullError` (``452 4.3.1``), :class:`QueueTooBigError`
  (``552 5.3.4``) and :class:`QueueIOError` (``451 4.3.0``).  Use
  :func:`write_error` to turn an :class:`OSError` into the right one.
"""

from __future__ import annotations

import errno as errno_mod
import os


class QueueError(Exception):
    """Base class of every error raised by ``postroom.core.queue``."""


class InvalidQueueIdError(QueueError, ValueError):
    """A string that is not a usable queue id (also a ``ValueError``)."""


class QueueFileError(QueueError):
    """A queue control file is malformed: names the file, the line and the reason."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(path, line, reason)
        self.path = path
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: line {self.line}: {self.reason}"


class QueueLockedError(QueueError):
    """The job's control file is locked by another process (being worked on)."""


class JobNotFoundError(QueueError):
    """No control file exists for the requested queue id."""


class QueueSelectionError(QueueError, ValueError):
    """A mailq selection flag (``-qI``, ``-qR`` ...) that cannot be understood."""


class QueueWriteError(QueueError):
    """Writing a spool file failed; nothing was acknowledged, partial files are gone."""

    reply = "451 4.3.0 Error writing to the queue"

    def __init__(self, err: int, path: str, action: str) -> None:
        super().__init__(err, path, action)
        self.errno = err
        self.path = path
        self.action = action

    @property
    def errno_name(self) -> str:
        """The symbolic errno (``ENOSPC``), or the number if it has no name."""
        return errno_mod.errorcode.get(self.errno, str(self.errno))

    def __str__(self) -> str:
        return f"{self.errno_name} ({os.strerror(self.errno)}) while {self.action} {self.path}"


class QueueFullError(QueueWriteError):
    """ENOSPC or EDQUOT: the receiver answers ``452 4.3.1``."""

    reply = "452 4.3.1 Insufficient system storage"


class QueueTooBigError(QueueWriteError):
    """EFBIG: the receiver answers ``552 5.3.4``."""

    reply = "552 5.3.4 Message too big for system"


class QueueIOError(QueueWriteError):
    """EIO and every other write failure: the receiver answers ``451 4.3.0``."""

    reply = "451 4.3.0 Error writing to the queue"


def write_error(exc: OSError, path: str, action: str) -> QueueWriteError:
    """Map an ``OSError`` from a spool write to the matching ``QueueWriteError``."""
    err = exc.errno if exc.errno is not None else errno_mod.EIO
    if err in (errno_mod.ENOSPC, errno_mod.EDQUOT):
        return QueueFullError(err, path, action)
    if err == errno_mod.EFBIG:
        return QueueTooBigError(err, path, action)
    return QueueIOError(err, path, action)
