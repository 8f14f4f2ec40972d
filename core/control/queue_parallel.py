"""Reading a large queue with several processes, for ``queue.list`` on 100,000 jobs.

Reading and summarising a control file costs tens of microseconds of Python per job;
beyond :data:`PARALLEL_MIN` jobs the names are split into contiguous slices, one per CPU
(at most :data:`MAX_WORKERS`), each read by a :mod:`.scan_worker` process with the same
filters.  The workers hand back rows already encoded as JSON, so this process only
splices bytes: :func:`stream_chunks` yields ``(rows, JSON array)`` pieces as they come
(directory order within each slice), :func:`sorted_rows` collects ``(key, JSON row)``
pairs, sorts them by key and returns the encoded rows.  Workers are started with this
interpreter, stopped by their pid if the client goes away, and any failure of one is
raised as ``OSError`` naming its exit status.
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from .queue_select import Selection

PARALLEL_MIN = 20_000
MAX_WORKERS = 8
_READ = 1 << 20
_COMMAND = [sys.executable, "-m", "postroom.core.control.scan_worker"]


def worker_count(jobs: int) -> int:
    """How many worker processes to use for ``jobs`` control files (0: read here)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if jobs < PARALLEL_MIN or not cpus or cpus < 2:
        return 0
    return min(cpus, MAX_WORKERS)


class _Workers:
    def __init__(
        self,
        queue_dir: Path,
        names: list[str],
        count: int,
        *,
        selection: Selection,
        now: float,
        min_queue_age: float,
        mode: str,
    ) -> None:
        fields = dataclasses.asdict(selection)
        fields.pop("prefixes")
        settings = {
            "queue_dir": str(queue_dir),
            "now": now,
            "min_queue_age": min_queue_age,
            "selection": fields,
            "mode": mode,
        }
        header = json.dumps(settings).encode() + b"\n"
        size = -(-len(names) // count)
        self.procs: list[subprocess.Popen[bytes]] = []
        self._feeders: list[threading.Thread] = []
        try:
            for start in range(0, len(names), size):
                part = "\n".join(names[start : start + size]).encode("utf-8", "surrogateescape")
                proc = subprocess.Popen(
                    _COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
                )
                self.procs.append(proc)
                feeder = threading.Thread(
                    target=_feed, args=(proc, header + part), name="scan-feed", daemon=True
                )
                feeder.start()
                self._feeders.append(feeder)
        except BaseException:
            self.stop()
            raise

    def lines(self) -> Iterator[bytes]:
        """Output lines of all workers (without their newline), as they arrive."""
        buffers: dict[int, bytearray] = {}
        with selectors.DefaultSelector() as sel:
            for proc in self.procs:
                assert proc.stdout is not None
                fd = proc.stdout.fileno()
                buffers[fd] = bytearray()
                sel.register(fd, selectors.EVENT_READ)
            while buffers:
                for key, _ in sel.select():
                    fd = key.fd
                    data = os.read(fd, _READ)
                    if not data:
                        sel.unregister(fd)
                        if buffers.pop(fd):
                            raise OSError("a queue reader process stopped in the middle of a line")
                        continue
                    buffer = buffers[fd]
                    buffer += data
                    start = 0
                    while (end := buffer.find(b"\n", start)) >= 0:
                        yield bytes(buffer[start:end])
                        start = end + 1
                    del buffer[:start]
        self._check()

    def _check(self) -> None:
        for proc in self.procs:
            status = proc.wait()
            if status != 0:
                raise OSError(f"a queue reader process failed (exit status {status})")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        for feeder in self._feeders:
            feeder.join(timeout=5)


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except (BrokenPipeError, ValueError, OSError):
        pass


def stream_chunks(
    queue_dir: Path,
    names: list[str],
    workers: int,
    *,
    selection: Selection,
    now: float,
    min_queue_age: float,
) -> Iterator[tuple[int, bytes]]:
    """``(row count, JSON array of rows)`` per chunk, in the order the workers send them."""
    pool = _Workers(
        queue_dir,
        names,
        workers,
        selection=selection,
        now=now,
        min_queue_age=min_queue_age,
        mode="chunks",
    )
    try:
        for line in pool.lines():
            count, _, payload = line.partition(b" ")
            yield int(count), payload
    finally:
        pool.stop()


def sorted_rows(
    queue_dir: Path,
    names: list[str],
    workers: int,
    *,
    selection: Selection,
    now: float,
    min_queue_age: float,
) -> list[bytes]:
    """Every matching row as JSON, in the selection's sort order."""
    pool = _Workers(
        queue_dir,
        names,
        workers,
        selection=selection,
        now=now,
        min_queue_age=min_queue_age,
        mode="keyed",
    )
    keyed: list[tuple[bytes, bytes]] = []
    try:
        for line in pool.lines():
            key, _, row = line.partition(b"\t")
            keyed.append((key, row))
    finally:
        pool.stop()
    keyed.sort(key=lambda item: item[0], reverse=selection.descending)
    return [row for _, row in keyed]
