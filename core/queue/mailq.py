"""``mailq`` / ``sendmail -bp``: Sendmail 8.17's queue listing, byte for byte, from the index.

The listing is the heading ``\\t\\t<dir> (N requests)`` and the column header, then one
text per job (:mod:`.mailq_render`) in Sendmail's order -- priority, ties in directory
order -- and ``\\t\\tTotal requests: N``; an empty queue prints ``<dir> is empty``.  The
queue ``X`` marker (load average) is never shown.

The job texts come from the listing index (:mod:`.listing_refresh`), in which a plain
listing of one kind is a single slice; only the status characters are decided now:
``*`` for a job some process holds locked (:mod:`.lockscan`), ``?`` when listing lost
jobs, ``-`` for one too young to retry (``MinQueueAge``).  With ``-qR``/``-qS``/``-qQ``
or a ``MinQueueAge`` each job's stored heads are read again as ``gatherq`` reads the
file.  When a job cannot be served from the index (unreadable, a symlink, a priority
that depends on the flags), the listing is made the old way: :func:`scan_listing` opens
every control file, as Sendmail does.

:func:`iter_queue_listing` yields the output in bytes chunks; :func:`format_queue_listing`
returns it as one ``str`` decoded with surrogateescape.  ``index=False`` never reads or
writes the index; ``write_index=False`` reads it but does not update it.
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

from .gather import WorkItem, gather, inspect_lines
from .listing_index import Listing
from .listing_refresh import open_listing
from .listing_store import IndexUnusable
from .lockscan import locked_inodes, probe_locked
from .mailq_render import (
    HEADER,
    HEADER_V,
    MARK_LOCKED,
    MARK_LOST,
    MARK_NONE,
    MARK_YOUNG,
    fgets_lines,
    job_id,
    open_error,
    prtstr,
    render_rest,
)
from .qfmodel import ENCODING, ERRORS
from .selection import MODE_PREFIX, QueueSelection, any_match, parse_selection

__all__ = [
    "QueueSelection",
    "fgets_lines",
    "format_queue_listing",
    "iter_queue_listing",
    "parse_selection",
    "prtstr",
    "scan_listing",
]

CHUNK = 1 << 20


def format_queue_listing(
    queue_dir: Path,
    *,
    verbose: bool = False,
    selection: QueueSelection | None = None,
    now: float | None = None,
    min_queue_age: int = 0,
    index: bool = True,
) -> str:
    """The whole listing as ``str`` (non-UTF-8 bytes kept via surrogateescape)."""
    chunks = iter_queue_listing(
        queue_dir,
        verbose=verbose,
        selection=selection,
        now=now,
        min_queue_age=min_queue_age,
        index=index,
    )
    return b"".join(chunks).decode(ENCODING, ERRORS)


def iter_queue_listing(
    queue_dir: Path,
    *,
    verbose: bool = False,
    selection: QueueSelection | None = None,
    now: float | None = None,
    min_queue_age: int = 0,
    index: bool = True,
    write_index: bool = True,
) -> Iterator[bytes]:
    """The listing in chunks: heading, the jobs, total line."""
    selection = selection or QueueSelection()
    current = time.time() if now is None else now
    queue_dir = Path(queue_dir)
    if not index:
        yield from scan_listing(queue_dir, verbose, selection, current, min_queue_age)
        return
    listing = open_listing(queue_dir, write=write_index)
    try:
        try:
            chunks = _from_index(listing, queue_dir, verbose, selection, current, min_queue_age)
        except IndexUnusable:  # damaged since it was checked: rebuild it, trusting nothing
            listing.close()
            listing = open_listing(queue_dir, write=write_index, fresh=True)
            chunks = _from_index(listing, queue_dir, verbose, selection, current, min_queue_age)
        if chunks is None:
            chunks = scan_listing(queue_dir, verbose, selection, current, min_queue_age)
        yield from chunks
    finally:
        listing.close()


def _heading(queue_dir: Path, count: int, verbose: bool) -> bytes:
    name = os.fsencode(queue_dir)
    if not count:
        return b"%s is empty\n" % name
    plural = b"" if count == 1 else b"s"
    return b"\t\t%s (%d request%s)\n%s" % (name, count, plural, HEADER_V if verbose else HEADER)


def _total(count: int) -> bytes:
    return b"\t\tTotal requests: %d\n" % count


def _from_index(
    listing: Listing,
    queue_dir: Path,
    verbose: bool,
    selection: QueueSelection,
    now: float,
    min_age: int,
) -> Iterator[bytes] | None:
    """The listing from the index, or None when it must be made by reading the files."""
    group = listing.groups.get(MODE_PREFIX[selection.mode])
    if group is None:
        return iter([_heading(queue_dir, 0, verbose), _total(0)])
    if group.volatile:
        return None
    start, end = group.start, group.listed
    filtered = bool(selection.ids or selection.recipients or selection.senders)
    jobs: range | list[int] = range(start, end)
    young: set[int] = set()
    if filtered or selection.reasons or min_age > 0:
        picked = _select(listing, start, end, selection, now, min_age)
        if picked is None:
            return None
        jobs, young = picked
    return _emit(listing, queue_dir, jobs, young, verbose, selection.mode == "lost")


def _select(
    listing: Listing, start: int, end: int, selection: QueueSelection, now: float, min_age: int
) -> tuple[list[int], set[int]] | None:
    """The jobs in ``[start, end)`` that ``gatherq`` keeps, and the too young ones."""
    names, heads, priorities = listing.names, listing.texts("heads"), listing.keys
    jobs: list[int] = []
    young: set[int] = set()
    for i in range(start, end):
        name = names[i]
        if selection.ids and not any_match(selection.ids, os.fsencode(name), ignore_case=False):
            continue
        item = inspect_lines(name, bytes(heads.item(i)).split(b"\n"), selection, now, min_age)
        if item is None:
            continue
        if item.priority != priorities[i]:
            return None  # a later P line counts under these flags: the stored order is off
        jobs.append(i)
        if item.too_young:
            young.add(i)
    return jobs, young


def _emit(
    listing: Listing,
    queue_dir: Path,
    jobs: range | list[int],
    young: set[int],
    verbose: bool,
    lost: bool,
) -> Iterator[bytes]:
    """The output, once everything it needs from the index has been read (and checked)."""
    texts = listing.texts("verbose" if verbose else "normal")
    at = texts.at
    locked = _locked(listing, queue_dir, jobs)
    marks: dict[int, bytes] = {}
    if lost or young or locked:
        names = listing.names
        for i in jobs:
            if i in locked:
                mark = MARK_LOCKED
            elif lost:
                mark = MARK_LOST
            elif i in young:
                mark = MARK_YOUNG
            else:
                continue
            marks[at[i] + len(job_id(names[i]))] = mark
    if isinstance(jobs, range):
        spans = [(at[jobs.start], at[jobs.stop])] if jobs else []
    else:
        spans = _spans(at, jobs)
    heading = _heading(queue_dir, len(jobs), verbose)
    return chain([heading], _patched(texts.blob, spans, marks), [_total(len(jobs))])


def _spans(at: array[int], jobs: list[int]) -> list[tuple[int, int]]:
    """Byte ranges of the texts of ``jobs``, neighbours merged."""
    spans: list[tuple[int, int]] = []
    for i in jobs:
        a, b = at[i], at[i + 1]
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _patched(
    view: memoryview, spans: list[tuple[int, int]], marks: dict[int, bytes]
) -> Iterator[bytes]:
    """The bytes of ``spans`` of ``view`` in chunks of about :data:`CHUNK`, marks set."""
    pending = sorted(marks, reverse=True)
    out: list[bytes] = []
    size = 0
    for offset, end in spans:
        while offset < end:
            stop = min(end, offset + CHUNK)
            if pending and pending[-1] < stop:
                stop = pending[-1]
            if stop > offset:
                out.append(bytes(view[offset:stop]))
                size += stop - offset
                offset = stop
            if pending and pending[-1] == offset and offset < end:
                out.append(marks[pending.pop()])
                offset += 1
                size += 1
            if size >= CHUNK:
                yield b"".join(out)
                out, size = [], 0
    if out:
        yield b"".join(out)


def _locked(listing: Listing, queue_dir: Path, jobs: range | list[int]) -> set[int]:
    """The jobs whose control file some process holds locked."""
    if not jobs:
        return set()
    inodes = locked_inodes(queue_dir)
    if inodes is not None and not inodes:
        return set()
    names = listing.names
    dir_fd = os.open(queue_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if inodes is None:
            return {i for i in jobs if probe_locked(dir_fd, names[i])}
        inos = listing.inos
        first, stop = (jobs.start, jobs.stop) if isinstance(jobs, range) else (0, len(inos))
        wanted = jobs if isinstance(jobs, range) else set(jobs)
        found: set[int] = set()
        for ino in inodes:
            i = first
            while True:
                try:
                    i = inos.index(ino, i, stop)
                except ValueError:
                    break
                if i in wanted and probe_locked(dir_fd, names[i]):
                    found.add(i)
                i += 1
        return found
    finally:
        os.close(dir_fd)


def scan_listing(
    queue_dir: Path, verbose: bool, selection: QueueSelection, now: float, min_age: int
) -> Iterator[bytes]:
    """The listing made by opening every control file (twice), as Sendmail makes it."""
    work = gather(Path(queue_dir), selection, now=now, min_queue_age=min_age)
    yield _heading(queue_dir, len(work), verbose)
    for item in work:
        yield _job(Path(queue_dir), item, selection, verbose)
    yield _total(len(work))


def _job(queue_dir: Path, item: WorkItem, selection: QueueSelection, verbose: bool) -> bytes:
    head = job_id(item.name)
    try:
        with open(queue_dir / item.name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return head + open_error(exc)
    try:
        dfsize = (queue_dir / ("d" + item.name[1:])).stat().st_size
    except OSError:
        dfsize = -1
    if item.locked:
        mark = MARK_LOCKED
    elif selection.mode == "lost":
        mark = MARK_LOST
    elif item.too_young:
        mark = MARK_YOUNG
    else:
        mark = MARK_NONE
    return head + mark + render_rest(data, dfsize, item.priority, verbose)
