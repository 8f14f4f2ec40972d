"""A helper process that reads control files for a listing index refresh.

Run as ``python -m postroom.core.queue.listing_worker`` by :mod:`.listing_parallel`.
Its stdin holds one JSON line (``queue_dir``, ``schema`` and ``min_queue_age``, see
:func:`.listing_schema.schema_named`) and then the work: lines ``<number> <name>``.  For
each file it writes the entry (:func:`.listing_schema.read_entry`) to stdout, in
frames: an 8-byte big-endian length and a :mod:`marshal` dump of a list of
``(number, name, ino, df_ino, key, listed, volatile, texts)`` tuples; a file gone
meanwhile (or left out) gives ``(number, None)``.  The worker inherits the caller's environment,
so texts are rendered in the same time zone.
"""

from __future__ import annotations

import json
import marshal
import os
import sys
from typing import Any, BinaryIO

from .listing_schema import read_entry, schema_named

BATCH = 256


def frame(records: list[tuple[Any, ...]]) -> bytes:
    payload = marshal.dumps(records)
    return len(payload).to_bytes(8, "big") + payload


def run(stdin: BinaryIO, stdout: BinaryIO) -> int:
    settings = json.loads(stdin.readline())
    schema = schema_named(settings["schema"], settings["min_queue_age"])
    dir_fd = os.open(settings["queue_dir"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    batch: list[tuple[Any, ...]] = []
    for line in stdin.read().decode("utf-8", "surrogateescape").split("\n"):
        if not line:
            continue
        number, _, name = line.partition(" ")
        e = read_entry(schema, dir_fd, name)
        if e is None:
            batch.append((int(number), None))
        else:
            batch.append(
                (int(number), e.name, e.ino, e.df_ino, e.key, e.listed, e.volatile, e.texts)
            )
        if len(batch) == BATCH:
            stdout.write(frame(batch))
            batch = []
    if batch:
        stdout.write(frame(batch))
    stdout.flush()
    os.close(dir_fd)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.stdin.buffer, sys.stdout.buffer))
