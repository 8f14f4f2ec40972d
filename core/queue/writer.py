"""One message on its way into the spool: ``df`` written, then ``tf`` -> ``qf``.

A :class:`MessageWriter` is created by :meth:`.store.QueueStore.new_message`
with ``df<id>`` already claimed (``O_EXCL``) and flock'ed.  The caller appends
the body with :meth:`~MessageWriter.write`, then either
:meth:`~MessageWriter.commit` or :meth:`~MessageWriter.abort`.

``commit`` is the durability point: fsync the df; write ``tf<id>`` (created
``O_EXCL`` and flock'ed) and fsync it; rename it to ``qf<id>``; fsync the
directory.  Only after it returns may the receiver answer 250.  The df stays
locked until the qf is in place, so a start-up sweep never mistakes a message
being committed for debris.  Any failure removes df, tf and (if already
renamed but not yet synced) qf, and raises a ``QueueWriteError`` subclass;
nothing half-written is ever left as a qf.

The commit is split into :meth:`prepare`, :meth:`publish` and :meth:`finish`
so :class:`.commit.GroupCommitter` can share one directory fsync between many
writers.  A writer belongs to one thread at a time: after handing it to the
committer, do not touch it until the future completes.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .durable import close_quietly, create_exclusive, fsync_dir, unlink_quietly, write_all
from .errors import QueueError, QueueIOError, QueueWriteError, write_error
from .locks import try_lock
from .qfformat import format_qf
from .qfmodel import QueueFile

_OPEN, _PREPARED, _PUBLISHED, _DONE, _ABORTED = "open", "prepared", "published", "done", "aborted"


class MessageWriter:
    """Writes one message's df and commits its qf."""

    def __init__(self, queue_dir: Path, qid: str, df_fd: int, *, fsync: bool = True) -> None:
        self.queue_dir = queue_dir
        self.qid = qid
        self.size = 0
        self._fsync = fsync
        self._df_fd: int | None = df_fd
        self._tf_fd: int | None = None
        self._state = _OPEN

    @property
    def df_path(self) -> Path:
        return self.queue_dir / ("df" + self.qid)

    @property
    def tf_path(self) -> Path:
        return self.queue_dir / ("tf" + self.qid)

    @property
    def qf_path(self) -> Path:
        return self.queue_dir / ("qf" + self.qid)

    @property
    def state(self) -> str:
        """``open``, ``prepared``, ``published``, ``done`` or ``aborted``."""
        return self._state

    def df_inode(self) -> str:
        """The df's ``major/minor/inode``, the value Sendmail writes in the ``I`` line."""
        st = os.fstat(self._require_df())
        return f"{os.major(st.st_dev)}/{os.minor(st.st_dev)}/{st.st_ino}"

    def write(self, data: bytes) -> None:
        """Append body bytes (LF line ends, dot-stuffing already removed)."""
        self._check(_OPEN)
        try:
            write_all(self._require_df(), data)
        except OSError as exc:
            error = write_error(exc, str(self.df_path), "writing")
            self.abort()
            raise error from exc
        self.size += len(data)

    def commit(self, qf: QueueFile) -> None:
        """Make the message durable as ``qf<id>``; raises ``QueueWriteError`` on failure."""
        self.prepare(qf)
        self.publish()
        if self._fsync:
            try:
                fsync_dir(self.queue_dir)
            except OSError as exc:
                error = write_error(exc, str(self.queue_dir), "syncing directory")
                self.abort()
                raise error from exc
        self.finish()

    def prepare(self, qf: QueueFile) -> None:
        """Phase 1: fsync the df, write and fsync ``tf<id>``.  Aborts on failure."""
        self._check(_OPEN)
        try:
            data = format_qf(qf)
        except ValueError:
            self.abort()
            raise
        action, path = "syncing", self.df_path
        try:
            if self._fsync:
                os.fsync(self._require_df())
            action, path = "creating", self.tf_path
            self._tf_fd = create_exclusive(self.tf_path)
            if not try_lock(self._tf_fd):
                raise BlockingIOError(errno.EWOULDBLOCK, "temporary control file is locked")
            action = "writing"
            write_all(self._tf_fd, data)
            if self._fsync:
                action = "syncing"
                os.fsync(self._tf_fd)
        except OSError as exc:
            error = write_error(exc, str(path), action)
            self.abort()
            raise error from exc
        self._state = _PREPARED

    def publish(self) -> None:
        """Phase 2: rename ``tf<id>`` to ``qf<id>`` (never over an existing qf)."""
        self._check(_PREPARED)
        error: QueueWriteError | None = None
        if os.path.lexists(self.qf_path):
            error = QueueIOError(errno.EEXIST, str(self.qf_path), "refusing to overwrite")
        else:
            try:
                os.rename(self.tf_path, self.qf_path)
            except OSError as exc:
                error = write_error(exc, str(self.tf_path), "renaming")
        if error is not None:
            self.abort()
            raise error
        self._state = _PUBLISHED

    def finish(self) -> None:
        """Phase 3 (after the directory fsync): release files and locks."""
        self._check(_PUBLISHED)
        close_quietly(self._tf_fd)
        close_quietly(self._df_fd)
        self._tf_fd = self._df_fd = None
        self._state = _DONE

    def abort(self) -> None:
        """Remove everything this writer created; idempotent, a no-op after commit."""
        if self._state in (_DONE, _ABORTED):
            return
        if self._state == _PUBLISHED:
            unlink_quietly(self.qf_path)
        if self._tf_fd is not None:
            unlink_quietly(self.tf_path)
        unlink_quietly(self.df_path)
        close_quietly(self._tf_fd)
        close_quietly(self._df_fd)
        self._tf_fd = self._df_fd = None
        self._state = _ABORTED

    def _require_df(self) -> int:
        if self._df_fd is None:
            raise QueueError(f"message {self.qid} is {self._state}")
        return self._df_fd

    def _check(self, expected: str) -> None:
        if self._state != expected:
            raise QueueError(f"message {self.qid} is {self._state}, not {expected}")
