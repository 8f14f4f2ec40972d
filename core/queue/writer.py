"""One message on its way into the spool: ``df`` written, then ``tf`` -> ``qf``.

A :class:`MessageWriter` is created by :meth:`.store.QueueStore.new_message`
either with ``df<id>`` already claimed (``O_EXCL``) and flock'ed, or
*buffered*: the body is kept in memory (up to :data:`SPILL_SIZE`, then the df
is claimed and written) and the df is claimed and written in one go when the
message is committed -- no file is created on the receiver's event loop for a
small message.  :func:`claim_df` is the one place an id is claimed: it
creates ``df<id>`` with ``O_EXCL``, locks it, and gives it back when any
control file of that id already exists.  The caller appends the body with
:meth:`~MessageWriter.write`, then either :meth:`~MessageWriter.commit` or
:meth:`~MessageWriter.abort`.

``commit`` is the durability point: write the df (claiming it if buffered);
write ``tf<id>`` (created ``O_EXCL`` and flock'ed); fdatasync both -- their
data and size (the committers first start the write-back of every file of a
batch, :mod:`.writeback`, so the fdatasyncs find the writes under way); the
names are made durable by the directory fsync; rename the tf to ``qf<id>``;
fsync the directory. Only after it returns may the receiver answer 250. The df stays
locked until the qf is in place, so a start-up sweep never mistakes a message
being committed for debris. Any failure removes df, tf and (if already renamed
but not yet synced) qf, and raises a ``QueueWriteError`` subclass; nothing
half-written is ever left as a qf.

The commit is split into :meth:`stage` (files written, not synced),
:meth:`sync_fds` (what to fdatasync), :meth:`publish` and :meth:`finish` so
the committers (:mod:`.commit`) can sync the files of a whole batch at once
and share one directory fsync between its messages; :meth:`prepare` is
stage plus the syncs, for one message.  A writer belongs to one thread at a
time: after handing it to the committer, do not touch it until the commit
completes.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .durable import (
    close_quietly,
    create_exclusive,
    fsync_dir,
    rename_no_replace,
    unlink_quietly,
    write_all,
)
from .errors import QueueError, QueueIOError, QueueWriteError, write_error
from .locks import try_lock
from .qfformat import format_qf
from .qfmodel import QueueFile

_OPEN, _PREPARED, _PUBLISHED, _DONE, _ABORTED = "open", "prepared", "published", "done", "aborted"
_STAGED = "staged"
SPILL_SIZE = 256 * 1024  # a buffered body larger than this goes to its df while it arrives
_CONTROL_PREFIXES = ("qf", "hf", "Qf", "tf")


_LATE_PREFIXES = ("hf", "Qf")  # tf and qf are checked again when they are made


def claim_df(queue_dir: Path | str, qid: str, *, late: bool = False) -> int | None:
    """Create and lock ``df<qid>``; None when the id is taken (any of its files exists).

    ``late``: the claim happens while
    committing, where creating the tf (``O_EXCL``) and publishing (which never
    replaces a qf) check those two names anyway, so only hf and Qf are looked
    for here.  Raises ``OSError`` for anything else (the caller maps it with
    ``write_error``).
    """
    base = os.path.join(queue_dir, "")
    df_path = base + "df" + qid
    try:
        fd = create_exclusive(df_path)
    except FileExistsError:
        return None
    prefixes = _LATE_PREFIXES if late else _CONTROL_PREFIXES
    if not try_lock(fd) or any(os.path.lexists(base + p + qid) for p in prefixes):
        close_quietly(fd)
        unlink_quietly(df_path)
        return None
    return fd


class MessageWriter:
    """Writes one message's df and commits its qf."""

    def __init__(self, queue_dir: Path, qid: str, df_fd: int | None, *, fsync: bool = True) -> None:
        """``df_fd`` is the claimed, locked df; None for a buffered writer (claimed later)."""
        self.queue_dir = queue_dir
        self.qid = qid
        self.size = 0
        self._fsync = fsync
        self._df_fd: int | None = df_fd
        self._buffer: bytearray | None = bytearray() if df_fd is None else None
        self._tf_fd: int | None = None
        self._state = _OPEN
        base = os.path.join(queue_dir, "")  # plain strings: no Path built per system call
        self._df, self._tf, self._qf = (base + kind + qid for kind in ("df", "tf", "qf"))

    @property
    def df_path(self) -> Path:
        return Path(self._df)

    @property
    def tf_path(self) -> Path:
        return Path(self._tf)

    @property
    def qf_path(self) -> Path:
        return Path(self._qf)

    @property
    def state(self) -> str:
        """``open``, ``staged``, ``prepared``, ``published``, ``done`` or ``aborted``."""
        return self._state

    @property
    def committed(self) -> bool:
        """True once the message is durable as its qf (state ``done``)."""
        return self._state == _DONE

    def df_inode(self) -> str:
        """The df's ``major/minor/inode``, the value Sendmail writes in the ``I`` line."""
        self._spill()
        st = os.fstat(self._require_df())
        return f"{os.major(st.st_dev)}/{os.minor(st.st_dev)}/{st.st_ino}"

    def write(self, data: bytes) -> None:
        """Append body bytes (LF line ends, dot-stuffing already removed)."""
        self._check(_OPEN)
        self.size += len(data)
        if self._buffer is not None:
            self._buffer += data
            if len(self._buffer) > SPILL_SIZE:
                self._spill()
            return
        try:
            write_all(self._require_df(), data)
        except OSError as exc:
            error = write_error(exc, self._df, "writing")
            self.abort()
            raise error from exc

    def _spill(self) -> None:
        """A buffered writer: claim the df now and write what is buffered.  Aborts on failure."""
        if self._buffer is None:
            return
        try:
            self._write_buffered_df()
        except QueueWriteError:
            self.abort()
            raise

    def _write_buffered_df(self) -> None:
        """Claim the df and write the buffered body; raises the mapped error, no clean-up."""
        assert self._buffer is not None
        action = "creating"
        try:
            fd = claim_df(self.queue_dir, self.qid, late=True)
            if fd is None:
                raise FileExistsError(errno.EEXIST, "queue id already in use")
            self._df_fd = fd
            action = "writing"
            write_all(fd, self._buffer)
        except OSError as exc:
            raise write_error(exc, self._df, action) from exc
        self._buffer = None

    def _write_tf(self, data: bytes) -> None:
        """Create, lock and write ``tf<id>``; raises the mapped error, no clean-up."""
        action = "creating"
        try:
            self._tf_fd = create_exclusive(self._tf)
            if not try_lock(self._tf_fd):
                raise BlockingIOError(errno.EWOULDBLOCK, "temporary control file is locked")
            action = "writing"
            write_all(self._tf_fd, data)
        except OSError as exc:
            raise write_error(exc, self._tf, action) from exc

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
        """Phase 1: write the df and ``tf<id>`` and sync both.  Aborts on failure."""
        self.stage(qf)
        for fd, path in self.sync_fds():
            try:
                os.fdatasync(fd)
            except OSError as exc:
                self.sync_failed(exc, path)
        self.synced()

    def stage(self, qf: QueueFile) -> None:
        """Phase 1a: the df written (claimed now if buffered), ``tf<id>`` written; no sync yet."""
        self._check(_OPEN)
        try:
            data = format_qf(qf)
        except ValueError:
            self.abort()
            raise
        self._spill()
        try:
            self._write_tf(data)
        except QueueWriteError:
            self.abort()
            raise
        self._state = _STAGED

    def sync_fds(self) -> list[tuple[int, str]]:
        """Phase 1b: the descriptors to fdatasync (df and tf) and their paths; none
        without SuperSafe."""
        self._check(_STAGED)
        if not self._fsync or self._df_fd is None or self._tf_fd is None:
            return []
        return [(self._df_fd, self._df), (self._tf_fd, self._tf)]

    def sync_failed(self, exc: OSError, path: str | Path) -> None:
        """A sync of one of :meth:`sync_fds` failed: abort and raise the mapped error."""
        error = write_error(exc, str(path), "syncing")
        self.abort()
        raise error from exc

    def synced(self) -> None:
        """Phase 1c: every descriptor of :meth:`sync_fds` was synced."""
        self._check(_STAGED)
        self._state = _PREPARED

    def publish(self) -> None:
        """Phase 2: rename ``tf<id>`` to ``qf<id>``, never over an existing qf (one
        ``renameat2(RENAME_NOREPLACE)``, :func:`.durable.rename_no_replace`)."""
        self._check(_PREPARED)
        error: QueueWriteError | None = None
        try:
            rename_no_replace(self._tf, self._qf)
        except FileExistsError:
            error = QueueIOError(errno.EEXIST, self._qf, "refusing to overwrite")
        except OSError as exc:
            error = write_error(exc, self._tf, "renaming")
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
            unlink_quietly(self._qf)
        if self._tf_fd is not None:
            unlink_quietly(self._tf)
        if self._df_fd is not None:
            unlink_quietly(self._df)
        close_quietly(self._tf_fd)
        close_quietly(self._df_fd)
        self._tf_fd = self._df_fd = None
        self._buffer = None
        self._state = _ABORTED

    def _require_df(self) -> int:
        if self._df_fd is None:
            raise QueueError(f"message {self.qid} is {self._state}")
        return self._df_fd

    def _check(self, expected: str) -> None:
        if self._state != expected:
            raise QueueError(f"message {self.qid} is {self._state}, not {expected}")
