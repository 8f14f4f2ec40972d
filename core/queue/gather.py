"""Collecting and ordering the jobs mailq lists, the way Sendmail's ``gatherq``/``sortq`` do.

The folder is read in directory order.  Each control file of the selected
kind (``qf``, ``hf`` or ``Qf``) whose name passes the ``-qI`` tests is
opened, tested with a shared non-blocking flock (``*`` in the listing) and
read line by line only until its priority and creation time are known --
further only while a ``-qR``/``-qS``/``-qQ`` test is still undecided.  A
normal-mode job whose ``q`` line is seen while reading is skipped, as Sendmail
skips it.  The jobs are then sorted by priority alone with a stable sort, so
jobs of equal priority keep directory order: QueueSortOrder=priority with
glibc's stable merge-sort ``qsort``, byte for byte what Sendmail prints on the
same folder.  Only small :class:`WorkItem` records are kept, never whole
files, so 100,000 jobs stay cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .locks import try_lock
from .selection import MODE_PREFIX, QueueSelection, any_match

MAXQFNAME = 21
UNKNOWN_PRIORITY = 0x7FFFFFFF
_LONG_MAX = 2**63 - 1

_NEED_P, _NEED_T, _NEED_R, _NEED_S = 0o1, 0o2, 0o4, 0o10
_HAS_QUARANTINE, _NEED_QUARANTINE = 0o40, 0o100


@dataclass(slots=True)
class WorkItem:
    """One job to list: file name, priority, lock and too-young state."""

    name: str
    priority: int = UNKNOWN_PRIORITY
    locked: bool = False
    too_young: bool = False


def atol(text: bytes) -> int:
    """C ``atol``: optional space and sign, then digits; 0 if none; clamped."""
    if text.isdigit() and len(text) < 19:
        return int(text)
    s = text.lstrip(b" \t\n\v\f\r")
    sign = 1
    if s[:1] in (b"+", b"-"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    digits = 0
    while digits < len(s) and 0x30 <= s[digits] <= 0x39:
        digits += 1
    value = sign * int(s[:digits]) if digits else 0
    return max(-_LONG_MAX - 1, min(_LONG_MAX, value))


def read_lines(handle: BinaryIO) -> Iterator[bytes]:
    """Lines of a binary file without their newline."""
    for line in handle:
        yield line.rstrip(b"\n")


def gather(
    queue_dir: Path, selection: QueueSelection, *, now: float, min_queue_age: int = 0
) -> list[WorkItem]:
    """The jobs to list, in Sendmail's QueueSortOrder=priority order."""
    letter = MODE_PREFIX[selection.mode][0]
    work: list[WorkItem] = []
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            name = entry.name
            if name[:1] != letter or name[1:2] != "f" or len(name) >= MAXQFNAME:
                continue
            raw_name = os.fsencode(name)
            if selection.ids and not any_match(selection.ids, raw_name, ignore_case=False):
                continue
            try:
                if not entry.is_file(follow_symlinks=True):
                    continue
            except OSError:
                continue
            item = _inspect(Path(queue_dir) / name, name, selection, now, min_queue_age)
            if item is not None:
                work.append(item)
    work.sort(key=lambda w: w.priority)
    return work


def _inspect(
    path: Path, name: str, selection: QueueSelection, now: float, min_age: int
) -> WorkItem | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return WorkItem(name)  # listed; the printer reports the open error
    with os.fdopen(fd, "rb") as handle:
        locked = not try_lock(handle.fileno(), shared=True)
        item = inspect_lines(name, read_lines(handle), selection, now, min_age)
    if item is not None:
        item.locked = locked
    return item


def inspect_lines(
    name: str, lines: Iterable[bytes], selection: QueueSelection, now: float, min_age: int
) -> WorkItem | None:
    """Read a control file's ``lines`` as ``gatherq`` does; None if the job is not listed.

    Only lines starting ``V P T q R S K N`` matter, so a caller may pass just those.
    """
    item = WorkItem(name)
    need = _NEED_P | _NEED_T
    need |= _NEED_S if selection.senders else 0
    need |= _NEED_R if selection.recipients else 0
    need |= _NEED_QUARANTINE if selection.reasons else 0
    version = 0
    for line in lines:
        if need == 0:
            break
        code, rest = line[:1], line[1:]
        if code == b"V":
            version = atol(rest)
        elif code == b"P":
            item.priority = atol(rest)
            need &= ~_NEED_P
        elif code == b"T":
            need &= ~_NEED_T
        elif code == b"q":
            if selection.mode == "normal":
                need |= _HAS_QUARANTINE
            elif selection.mode == "quarantine" and (
                not selection.reasons or any_match(selection.reasons, rest, ignore_case=False)
            ):
                need &= ~_NEED_QUARANTINE
        elif code == b"R":
            address = rest
            if version > 0 and b":" in rest:
                address = rest.split(b":", 1)[1]
            if not selection.recipients or any_match(
                selection.recipients, address, ignore_case=True
            ):
                need &= ~_NEED_R
        elif code == b"S":
            if selection.senders and any_match(selection.senders, rest, ignore_case=True):
                need &= ~_NEED_S
        elif code == b"K":
            age = now - atol(rest)
            if age >= 0 and min_age > 0 and age < min_age:
                item.too_young = True
        elif code == b"N" and atol(rest) == 0:
            item.too_young = False
    if need & (_HAS_QUARANTINE | _NEED_QUARANTINE | _NEED_R | _NEED_S):
        return None
    return item
