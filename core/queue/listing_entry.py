"""One control file read once for a listing index, and what ``mailq`` keeps of it.

:func:`read_control` opens a ``qf``/``hf``/``Qf`` file in a queue folder (by name,
relative to an open directory descriptor), reads it whole and stats its ``df``: a
:class:`ControlFile`, or None if it is gone.  One that cannot be opened or read, or is
not a regular file, comes back with ``data`` None: its entry is *volatile*, never
cached, read afresh at each listing.

An :class:`Entry` is what an index keeps per file: the inodes that key it (control file
and df), ``key`` (the order within its kind), whether a plain listing shows it, and its
texts.  :func:`mailq_entry` makes the ``mailq`` one: the priority and listing decision
``gatherq`` would reach without selection flags, the job's text in normal and ``-v``
form (id, a blank status character, :func:`.mailq_render.render_rest`) and its *heads*
-- the lines ``gatherq`` looks at (``V P T q R S K N``), kept so that a listing with
``-qR``/``-qS``/``-qQ`` or a ``MinQueueAge`` can be decided again without opening the
file.  Its texts depend on the local time zone (ctime), which the index records.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

from .gather import UNKNOWN_PRIORITY, inspect_lines
from .mailq_render import MARK_NONE, job_id, printed_lines, render_rest
from .selection import MODE_PREFIX, QueueSelection

_HEAD_LINE = re.compile(rb"^[VPTqRSKN].*$", re.MULTILINE)
"""A line ``gatherq`` looks at (lines end at LF only, as the file is read there)."""
_READ = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_PLAIN = {prefix: QueueSelection(mode=mode) for mode, prefix in MODE_PREFIX.items()}


@dataclass(frozen=True, slots=True)
class ControlFile:
    """A control file's bytes (None: unreadable), inode, and its df's inode and size."""

    name: str
    ino: int
    df_ino: int
    df_size: int
    data: bytes | None


@dataclass(frozen=True, slots=True)
class Entry:
    """What a listing index keeps for one control file."""

    name: str
    ino: int
    df_ino: int
    key: int
    """The order within its kind (mailq: the priority; queue.list: the arrival time)."""
    listed: bool
    """Listed by a plain ``mailq`` of its kind (False only for a qf with an early ``q``)."""
    texts: tuple[bytes, ...]
    volatile: bool = False


def volatile_entry(name: str, texts: int) -> Entry:
    """An entry that is read afresh at every listing (open error, symlink, not a file)."""
    return Entry(name, 0, 0, UNKNOWN_PRIORITY, True, (b"",) * texts, volatile=True)


def read_control(dir_fd: int, name: str) -> ControlFile | None:
    """Control file ``name`` in the folder open as ``dir_fd``; None if it is gone."""
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError:
        return ControlFile(name, 0, 0, -1, None)
    try:
        st = os.fstat(fd)
        data = _read_all(fd) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        data = None
    finally:
        os.close(fd)
    try:
        df = os.stat("d" + name[1:], dir_fd=dir_fd, follow_symlinks=False)
        df_size, df_ino = df.st_size, df.st_ino
    except OSError:
        df_size, df_ino = -1, 0
    return ControlFile(name, st.st_ino, df_ino, df_size, data)


def heads_of(data: bytes) -> bytes:
    """The lines of ``data`` that ``gatherq`` reads, joined by newlines."""
    return b"\n".join(_HEAD_LINE.findall(data))


def mailq_entry(control: ControlFile) -> Entry:
    """The ``mailq`` entry (texts: normal, verbose, heads) of a readable control file."""
    name, data = control.name, control.data
    if data is None:
        return volatile_entry(name, 3)
    heads = heads_of(data)
    item = inspect_lines(name, heads.split(b"\n"), _PLAIN[name[:2]], 0.0, 0)
    # None: a qf with a q line before its P and T lines, which no normal listing shows
    priority = UNKNOWN_PRIORITY if item is None else item.priority
    head = job_id(name) + MARK_NONE
    lines = printed_lines(data)
    normal = head + render_rest(data, control.df_size, priority, False, lines)
    verbose = head + render_rest(data, control.df_size, priority, True, lines)
    listed = item is not None
    return Entry(name, control.ino, control.df_ino, priority, listed, (normal, verbose, heads))


def _read_all(fd: int) -> bytes:
    data = os.read(fd, _READ)
    if len(data) < _READ:
        return data
    parts = [data]
    while part := os.read(fd, _READ):
        parts.append(part)
    return b"".join(parts)
