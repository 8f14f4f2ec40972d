"""A helper process that reads part of a large queue for ``queue.list``.

Run as ``python -m postroom.core.control.scan_worker`` by :mod:`.queue_parallel`.  Its
stdin holds one JSON line of settings (``queue_dir``, ``min_queue_age``, ``now``, the
filters of :class:`~.queue_select.Selection`, and ``mode``) followed by the control-file
names to read, one per line.  It reads them with :mod:`.queue_scan`, keeps the rows that
pass the filters, and writes to stdout, per ``mode``:

- ``chunks``: one line per :data:`~.protocol.CHUNK_ROWS` rows: ``<count> <JSON array>``;
- ``keyed``: one line per row: ``<sort key>\\t<JSON row>``, the key as bytes that sort
  like the row (:data:`~.queue_select.BYTE_KEYS`).

Rows are encoded exactly as :func:`.protocol.encode` would encode them, in the
selection's ``row_format`` (object or array), so the server can splice them into its
replies without decoding them.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

from ..queue.listing_rowformat import shaper
from .protocol import CHUNK_ROWS
from .queue_scan import scan
from .queue_select import BYTE_KEYS, Selection

_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def run(stdin: BinaryIO, stdout: BinaryIO) -> int:
    settings: dict[str, Any] = json.loads(stdin.readline())
    names = stdin.read().decode("utf-8", "surrogateescape").split("\n")
    names = [name for name in names if name]
    selection = Selection(**{**settings["selection"], "prefixes": ()})
    keep = selection.matcher(settings["now"])
    shape = shaper(selection.row_format)
    rows = scan(
        Path(settings["queue_dir"]),
        names,
        now=settings["now"],
        min_queue_age=settings["min_queue_age"],
    )
    gc.disable()
    if settings["mode"] == "keyed":
        key = BYTE_KEYS[selection.sort]
        lines: list[bytes] = []
        for row in rows:
            if keep is None or keep(row):
                lines.append(b"%s\t%s\n" % (key(row), _encode(shape(row)).encode("ascii")))
                if len(lines) == CHUNK_ROWS:
                    stdout.write(b"".join(lines))
                    lines = []
        stdout.write(b"".join(lines))
    else:
        batch: list[Any] = []
        for row in rows:
            if keep is None or keep(row):
                batch.append(shape(row))
                if len(batch) == CHUNK_ROWS:
                    stdout.write(f"{len(batch)} {_encode(batch)}\n".encode("ascii"))
                    batch = []
        if batch:
            stdout.write(f"{len(batch)} {_encode(batch)}\n".encode("ascii"))
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.stdin.buffer, sys.stdout.buffer))
