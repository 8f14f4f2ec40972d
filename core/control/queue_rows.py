"""``queue.list`` served from the queue's rows index, without reading every control file.

The rows index (:func:`postroom.core.queue.listing_schema.rows_schema`) keeps each job's
row as compact JSON followed by a comma -- once as an object (text ``rows``), once as an
array (text ``arrays``, for ``row_format="array"``) -- grouped by kind and, within a
kind, in arrival order (ties by queue id).  So the usual requests need no per-row work
at all: in directory-free order (``sort="none"``: kind by kind) or by arrival within
one kind, a chunk is ``[`` + a slice of the requested format's text + ``]``.  Rows of
jobs some process holds locked are corrected (``locked``, ``queue_name`` ``active``)
as mailq marks its ``*`` (:mod:`postroom.core.queue.lockscan`).  Filters decode only
the object rows whose JSON could match (an ASCII needle must appear in the raw text);
other sort keys decode the object rows to sort them; either way the rows sent are
slices of the requested format's text.  Paging applies last.  :func:`list_rows`
returns None when some job cannot be served from the index (unreadable, not a file):
the caller then reads the folder as before -- and when there is no rows index yet
(:class:`IndexBuilder`).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..queue.listing_index import Listing
from ..queue.listing_refresh import has_index, open_listing
from ..queue.listing_rowformat import ARRAY, shaper
from ..queue.listing_schema import rows_schema
from ..queue.listing_store import IndexUnusable
from ..queue.lockscan import locked_inodes, probe_locked
from ..queue.rowscan import complete_row
from .context import Stream
from .protocol import CHUNK_ROWS
from .queue_select import SORT_KEYS, Selection

_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_SAFE_NEEDLE = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but '"' and '\\'


class IndexBuilder:
    """Makes the rows index in a background thread, one build at a time.

    A session's first ``queue.list`` on a queue that has no rows index is answered by
    reading the folder (its rows stream at once); building the index means reading every
    file too, and would hold the answer back until the end.  So the index is built
    after, while the session goes on; :meth:`close` (end of session) waits for it.
    """

    def __init__(self, queue_dir: Path, min_queue_age: float) -> None:
        self.queue_dir = queue_dir
        self.min_queue_age = min_queue_age
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._build, name="rows-index", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        with contextlib.suppress(OSError, IndexUnusable):
            open_listing(self.queue_dir, rows_schema(self.min_queue_age)).close()

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join()


def has_rows_index(queue_dir: Path, min_queue_age: float) -> bool:
    return has_index(queue_dir, rows_schema(min_queue_age))


def list_rows(
    queue_dir: Path, sel: Selection, now: float, min_queue_age: float, out: Stream
) -> tuple[int, int, int] | None:
    """Send the rows of ``sel``; ``(sent, matched, scanned)``, or None to read the folder.

    None also when there is no rows index yet: see :class:`IndexBuilder`.
    """
    if not has_rows_index(queue_dir, min_queue_age):
        return None
    for fresh in (False, True):
        listing = open_listing(queue_dir, rows_schema(min_queue_age), fresh=fresh)
        try:
            return _send(listing, queue_dir, sel, now, min_queue_age, out)
        except IndexUnusable:  # damaged since it was checked: rebuild it, trusting nothing
            continue
        finally:
            listing.close()
    return None


def _send(
    listing: Listing,
    queue_dir: Path,
    sel: Selection,
    now: float,
    min_queue_age: float,
    out: Stream,
) -> tuple[int, int, int] | None:
    groups = [listing.groups[p] for p in sel.prefixes if p in listing.groups]
    if any(g.volatile for g in groups):
        return None

    def item(i: int) -> memoryview:  # object row i; its text is loaded (and checked) once
        return listing.texts("rows").item(i)

    scanned = sum(g.end - g.start for g in groups)
    order: Iterable[int]
    if sel.sort == "none" or (sel.sort == "arrival" and len(groups) <= 1):
        order = [i for g in groups for i in range(g.start, g.end)]
        if sel.descending and sel.sort != "none":
            order.reverse()
    elif sel.sort == "arrival":
        keys, names = listing.keys, listing.names
        runs = [[(keys[i], names[i][2:], i) for i in range(g.start, g.end)] for g in groups]
        order = [run[2] for run in heapq.merge(*runs, reverse=False)]
        if sel.descending:
            order.reverse()
    else:
        order = [i for g in groups for i in range(g.start, g.end)]
    rows: dict[int, dict[str, Any]] = {}
    keep = sel.matcher(now)
    if keep is not None:
        order = _filtered(order, item, keep, _needles(sel), rows)
    if sel.sort not in ("none", "arrival"):
        order = _sorted(order, item, sel, rows)
    order = list(order)
    matched = len(order)
    end = None if sel.limit is None else sel.offset + sel.limit
    page = order[sel.offset : end]
    fixed = _locked_rows(listing, queue_dir, page, item, min_queue_age, sel.row_format)
    sent = listing.texts("arrays" if sel.row_format == ARRAY else "rows")
    for start in range(0, len(page), CHUNK_ROWS):
        out.chunk_encoded(_chunk(page[start : start + CHUNK_ROWS], sent.blob, sent.at, fixed))
    return len(page), matched, scanned


def _needles(sel: Selection) -> list[bytes]:
    """Substrings every matching row's raw JSON must contain (case-folded)."""
    found = []
    for text in (sel.sender, sel.recipient, sel.domain, sel.queue_id):
        if text and _SAFE_NEEDLE.fullmatch(text):
            found.append(text.lower().encode("ascii"))
    return found


def _decoded(i: int, item: Callable[[int], memoryview], rows: dict[int, dict[str, Any]]) -> Any:
    row = rows.get(i)
    if row is None:
        row = rows[i] = json.loads(bytes(item(i)[:-1]))
    return row


def _filtered(
    order: Iterable[int],
    item: Callable[[int], memoryview],
    keep: Callable[[dict[str, Any]], bool],
    needles: list[bytes],
    rows: dict[int, dict[str, Any]],
) -> list[int]:
    kept = []
    for i in order:
        if needles:
            raw = bytes(item(i)).lower()
            # an escaped character may fold to ASCII ("\u212a".lower() == "k"): decode those
            if b"\\u" not in raw and not all(n in raw for n in needles):
                continue
        if keep(_decoded(i, item, rows)):
            kept.append(i)
    return kept


def _sorted(
    order: Iterable[int],
    item: Callable[[int], memoryview],
    sel: Selection,
    rows: dict[int, dict[str, Any]],
) -> list[int]:
    key = SORT_KEYS[sel.sort]
    decorated = [(key(_decoded(i, item, rows)), i) for i in order]
    decorated.sort(key=lambda pair: pair[0], reverse=sel.descending)
    return [i for _, i in decorated]


def _locked_rows(
    listing: Listing,
    queue_dir: Path,
    page: list[int],
    item: Callable[[int], memoryview],
    min_queue_age: float,
    row_format: str,
) -> dict[int, bytes]:
    """Re-encoded rows (in ``row_format``, with their comma) of the jobs on ``page`` that
    are locked now; ``item`` gives the object rows."""
    if not page:
        return {}
    inodes = locked_inodes(queue_dir)
    if inodes is not None and not inodes:
        return {}
    names, inos = listing.names, listing.inos
    wanted = set(page)
    if inodes is None:
        candidates: Iterable[int] = page
    else:
        candidates = [i for i in wanted if inos[i] in inodes]
    fixed: dict[int, bytes] = {}
    shape = shaper(row_format)
    dir_fd = os.open(queue_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i in candidates:
            if probe_locked(dir_fd, names[i]):
                row = json.loads(bytes(item(i)[:-1]))
                complete_row(row, names[i], row["message_size"], True, min_queue_age)
                fixed[i] = _encode(shape(row)).encode("ascii") + b","
    finally:
        os.close(dir_fd)
    return fixed


def _chunk(rows: list[int], blob: memoryview, at: Any, fixed: dict[int, bytes]) -> bytes:
    """``[row,row,...]`` for the entries ``rows``, neighbours copied as one slice."""
    pieces: list[bytes | memoryview] = [b"["]
    start = end = -1
    for i in _with_end(rows):
        if i >= 0 and i == end and i not in fixed:
            end += 1
            continue
        if start >= 0:
            pieces.append(blob[at[start] : at[end]])
            start = end = -1
        if i < 0:
            break
        if i in fixed:
            pieces.append(fixed[i])
        else:
            start, end = i, i + 1
    body = b"".join(pieces)
    return body[:-1] + b"]" if len(body) > 1 else b"[]"


def _with_end(rows: list[int]) -> Iterator[int]:
    yield from rows
    yield -1
