"""Reading many control files for a listing index with several processes.

Making an entry costs tens of microseconds of Python per file; when a refresh must read
at least :data:`PARALLEL_MIN` files (a cold index, or one made under another time zone)
and more than one CPU is available, the files are split into contiguous slices, one per
CPU (at most :data:`MAX_WORKERS`), each read by a :mod:`.listing_worker` process.
:func:`read_entries` yields ``(number, Entry | None)`` as the workers' frames arrive.
Workers are started with this interpreter and stopped by their pid if the reader stops
early; a worker that fails is raised as ``OSError`` naming its exit status.
"""

from __future__ import annotations

import json
import marshal
import os
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .listing_entry import Entry
from .listing_schema import Schema

PARALLEL_MIN = 5000
MAX_WORKERS = 8
_READ = 1 << 20
_COMMAND = [sys.executable, "-m", "postroom.core.queue.listing_worker"]


def worker_count(files: int) -> int:
    """How many worker processes to read ``files`` control files with (0: read here)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if files < PARALLEL_MIN or not cpus or cpus < 2:
        return 0
    return min(cpus, MAX_WORKERS)


def read_entries(
    queue_dir: Path, schema: Schema, work: list[tuple[int, str]], workers: int
) -> Iterator[tuple[int, Entry | None]]:
    """The entry of each ``(number, name)`` in ``work``, read by ``workers`` processes."""
    settings = {
        "queue_dir": str(queue_dir),
        "schema": schema.name,
        "min_queue_age": schema.min_queue_age,
    }
    header = json.dumps(settings).encode() + b"\n"
    size = -(-len(work) // workers)
    procs: list[subprocess.Popen[bytes]] = []
    feeders: list[threading.Thread] = []
    try:
        for start in range(0, len(work), size):
            lines = "".join(f"{n} {name}\n" for n, name in work[start : start + size])
            proc = subprocess.Popen(
                _COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
            )
            procs.append(proc)
            data = header + lines.encode("utf-8", "surrogateescape")
            feeder = threading.Thread(target=_feed, args=(proc, data), daemon=True)
            feeder.start()
            feeders.append(feeder)
        for records in _frames(procs):
            for record in records:
                if record[1] is None:
                    yield record[0], None
                else:
                    number, name, ino, df_ino, key, listed, volatile, texts = record
                    yield number, Entry(name, ino, df_ino, key, listed, texts, volatile)
        for proc in procs:
            if proc.wait() != 0:
                raise OSError(f"a queue reader process failed (exit status {proc.returncode})")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        for feeder in feeders:
            feeder.join(timeout=5)


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except (BrokenPipeError, ValueError, OSError):
        pass


def _frames(procs: list[subprocess.Popen[bytes]]) -> Iterator[list[tuple[Any, ...]]]:
    """The decoded frames of all workers, as they arrive."""
    buffers: dict[int, bytearray] = {}
    with selectors.DefaultSelector() as sel:
        for proc in procs:
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            buffers[fd] = bytearray()
            sel.register(fd, selectors.EVENT_READ)
        while buffers:
            for key, _ in sel.select():
                fd = key.fd
                data = os.read(fd, _READ)
                buffer = buffers[fd]
                if not data:
                    sel.unregister(fd)
                    if buffers.pop(fd):
                        raise OSError("a queue reader process stopped in the middle of a frame")
                    continue
                buffer += data
                while len(buffer) >= 8:
                    length = int.from_bytes(buffer[:8], "big")
                    if len(buffer) < 8 + length:
                        break
                    # frames come from our own worker processes, never from outside
                    yield marshal.loads(bytes(buffer[8 : 8 + length]))  # noqa: S302
                    del buffer[: 8 + length]
