"""What a listing index holds: :data:`MAILQ` for ``mailq``, :func:`rows_schema` for ``queue.list``.

Both indexes are kept the same way (:mod:`.listing_refresh`) and differ only in what
they keep of a control file.  A :class:`Schema` names the index file, its text
sections, how an entry is made from a :class:`.listing_entry.ControlFile`, what else
the texts depend on (its *context*: an index made under another context is rebuilt),
which names it lists, and how ties of ``Entry.key`` are broken.

``rows`` keeps each job's ``queue.list`` row (:func:`.rowscan.summarize` completed with
the df size and the next try) twice, as compact JSON followed by a comma: text
``rows`` the object row, text ``arrays`` the array row (:mod:`.listing_rowformat`),
keyed by arrival time with ties in queue-id order, so a run of either is a ready JSON
array body.  A locked job's row says ``"locked":false`` there; the reader corrects it.
The next try depends on ``MinQueueAge``; it and :data:`ROWS_VERSION` (what the texts
hold) are the rows index's context, so an index made by an older version is rebuilt.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from .listing_entry import ControlFile, Entry, mailq_entry, read_control, volatile_entry
from .listing_rowformat import row_array
from .listing_store import zone_fingerprint
from .rowscan import complete_row, listable, summarize

_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
ROWS_VERSION = 2
"""Bumped when the rows index's texts change (2: the ``arrays`` text was added)."""
ROWS_TEXTS = ("rows", "arrays")


@dataclass(frozen=True)
class Schema:
    """One kind of listing index."""

    name: str
    """The index file's name in ``.postroom-index`` (its stamp adds ``.stamp``)."""
    texts: tuple[str, ...]
    entry: Callable[[ControlFile], Entry]
    context: Callable[[], str]
    lists: Callable[[str], bool] | None = None
    """Which control file names it covers (None: every ``qf``/``hf``/``Qf`` name)."""
    skips_non_files: bool = True
    """Leave out names that are not files (``gatherq`` does; ``queue.list`` lists them)."""
    ties_by_name: bool = False
    """Break ties of ``key`` by name instead of directory order."""
    min_queue_age: float = 0.0
    """The MinQueueAge it was made for (``rows`` only), for :func:`schema_named`."""


MAILQ = Schema("mailq", ("normal", "verbose", "heads"), mailq_entry, zone_fingerprint)


def rows_schema(min_queue_age: float) -> Schema:
    """The ``queue.list`` rows index for a server whose MinQueueAge is ``min_queue_age``."""

    def entry(control: ControlFile) -> Entry:
        if control.data is None:
            return volatile_entry(control.name, len(ROWS_TEXTS))
        row = summarize(control.data, control.name)
        complete_row(row, control.name, control.df_size, False, min_queue_age)
        arrival = row["arrival_time"]
        if not -(2**63) <= arrival < 2**63:  # beyond the key column: never cached
            return volatile_entry(control.name, len(ROWS_TEXTS))
        text = _encode(row).encode("ascii") + b","
        array = _encode(row_array(row)).encode("ascii") + b","
        return Entry(control.name, control.ino, control.df_ino, arrival, True, (text, array))

    return Schema(
        "rows",
        ROWS_TEXTS,
        entry,
        lambda: f"rows/{ROWS_VERSION} MinQueueAge={int(min_queue_age)}",
        lists=listable,
        skips_non_files=False,
        ties_by_name=True,
        min_queue_age=min_queue_age,
    )


def schema_named(name: str, min_queue_age: float) -> Schema:
    """The schema called ``name`` (how a worker process gets it)."""
    if name == MAILQ.name:
        return MAILQ
    if name == "rows":
        return rows_schema(min_queue_age)
    raise ValueError(f"no listing index called {name!r}")


def read_entry(schema: Schema, dir_fd: int, name: str) -> Entry | None:
    """The entry of control file ``name``, read afresh; None if gone (or left out)."""
    control = read_control(dir_fd, name)
    if control is None:
        return None
    if control.data is None and schema.skips_non_files:
        try:  # gatherq lists what is a regular file once symlinks are followed
            if not stat.S_ISREG(os.stat(name, dir_fd=dir_fd).st_mode):
                return None
        except OSError:
            return None
    return schema.entry(control)
