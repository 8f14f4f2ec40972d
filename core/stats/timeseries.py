"""A fixed-size ring file of per-minute and per-hour mail counters, for graphs.

One file holds two rings: 2880 one-minute buckets (48 hours) and 2160
one-hour buckets (90 days).  :data:`COUNTERS` are summed per bucket
(:meth:`TimeSeries.add`); :data:`GAUGES` keep the last value set in the
bucket (:meth:`TimeSeries.set_gauges`).  Every update goes to both rings.

Layout (little-endian): a 1024-byte header -- magic ``PRSERIES``, format
version, record size, the ring table (bucket width, slot count, offset) and
the metric list (name and kind), protected by a CRC-32 -- then the two rings
of fixed-size records.  A record is the bucket's start time (int64), one
int64 per counter, one float64 per gauge (NaN = not set) and a CRC-32 of
all that.  Slot = (start / width) mod slots, so a record whose stamp is not
the bucket asked for is stale and reads as empty; so does a record whose CRC
does not match (a write torn by a crash loses at most that bucket).  The file
is created once at its full size (temporary file, then ``link``) and never
grows: an update is a ``pread`` and a ``pwrite`` of one record per ring,
under an exclusive ``flock`` (readers take a shared one).  An update for a
bucket older than the one now in its slot is dropped for that ring.

:meth:`TimeSeries.read` returns every bucket from ``start`` to ``end`` at
one resolution -- ``auto`` picks minutes while the range still lies within
the minute ring, hours otherwise -- with 0 for counters and None for gauges
where nothing was recorded.  Open one :class:`TimeSeries` per process (the
descriptor is reopened after a fork, so flock keeps working).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import TimeSeriesError
from .statusfile import wrap_long

COUNTERS = ("received", "delivered", "deferred", "bounced", "rejected", "discarded",
            "bytes_in", "bytes_out", "connections")  # fmt: skip
GAUGES = ("queue_size", "oldest_age")
METRICS = COUNTERS + GAUGES
MAGIC = b"PRSERIES"
VERSION = 1
HEADER_SIZE = 1024
MAX_POINTS = 100_000

Resolution = Literal["minute", "hour", "auto"]


@dataclass(frozen=True)
class Ring:
    """One ring of buckets: ``slots`` buckets of ``width`` seconds."""

    name: str
    width: int
    slots: int

    @property
    def span(self) -> int:
        return self.width * self.slots

    def bucket(self, t: float) -> int:
        return math.floor(t / self.width) * self.width

    def slot(self, start: int) -> int:
        return (start // self.width) % self.slots


MINUTE = Ring("minute", 60, 2880)
HOUR = Ring("hour", 3600, 2160)
RINGS = (MINUTE, HOUR)

_RECORD = struct.Struct("<q" + "q" * len(COUNTERS) + "d" * len(GAUGES))
_CRC = struct.Struct("<I")
RECORD_SIZE = (_RECORD.size + _CRC.size + 7) // 8 * 8
_HEAD = struct.Struct("<8sIIH")
_RING = struct.Struct("<IIQ")
_METRIC = struct.Struct("<31sc")
FILE_SIZE = HEADER_SIZE + sum(r.slots for r in RINGS) * RECORD_SIZE


@dataclass(frozen=True)
class SeriesData:
    """Buckets from a :meth:`TimeSeries.read`: start times and one tuple per metric."""

    resolution: int
    """Bucket width in seconds (60 or 3600)."""
    timestamps: tuple[int, ...]
    counters: Mapping[str, tuple[int, ...]]
    gauges: Mapping[str, tuple[float | None, ...]]

    def __getitem__(self, metric: str) -> tuple[int, ...] | tuple[float | None, ...]:
        if metric in self.counters:
            return self.counters[metric]
        return self.gauges[metric]


@dataclass
class _Record:
    start: int
    counts: list[int]
    gauges: list[float]


def _ring_offset(index: int) -> int:
    return HEADER_SIZE + sum(r.slots for r in RINGS[:index]) * RECORD_SIZE


def _header() -> bytes:
    parts = [_HEAD.pack(MAGIC, VERSION, RECORD_SIZE, len(METRICS))]
    parts += [_RING.pack(r.width, r.slots, _ring_offset(i)) for i, r in enumerate(RINGS)]
    parts += [_METRIC.pack(m.encode(), b"c" if m in COUNTERS else b"g") for m in METRICS]
    body = b"".join(parts)
    return (body + _CRC.pack(zlib.crc32(body))).ljust(HEADER_SIZE, b"\0")


def _pack(record: _Record) -> bytes:
    body = _RECORD.pack(record.start, *record.counts, *record.gauges)
    return (body + _CRC.pack(zlib.crc32(body))).ljust(RECORD_SIZE, b"\0")


def _unpack(data: bytes) -> _Record | None:
    """The record, or None if its checksum does not match (empty or torn)."""
    if len(data) < RECORD_SIZE:
        return None
    body = data[: _RECORD.size]
    (crc,) = _CRC.unpack_from(data, _RECORD.size)
    if zlib.crc32(body) != crc:
        return None
    values = _RECORD.unpack(body)
    n = len(COUNTERS)
    return _Record(values[0], list(values[1 : 1 + n]), list(values[1 + n :]))


def _gauge(record: _Record | None, index: int) -> float | None:
    if record is None or math.isnan(record.gauges[index]):
        return None
    return record.gauges[index]


def _empty(start: int) -> _Record:
    return _Record(start, [0] * len(COUNTERS), [math.nan] * len(GAUGES))


class TimeSeries:
    """The ring file at ``path`` (created at its full size if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._pid = 0
        if not self.path.exists():
            self._create()
        self._check()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def __enter__(self) -> TimeSeries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, counts: Mapping[str, int], *, now: float | None = None) -> None:
        """Add ``counts`` (counter name -> increment) to the buckets holding ``now``."""
        unknown = set(counts) - set(COUNTERS)
        if unknown:
            raise TimeSeriesError(f"not counters: {', '.join(sorted(unknown))}")
        index = [(COUNTERS.index(name), int(value)) for name, value in counts.items()]

        def apply(record: _Record) -> None:
            for i, value in index:
                record.counts[i] = wrap_long(record.counts[i] + value)

        self._update(apply, time.time() if now is None else now)

    def set_gauges(self, values: Mapping[str, float], *, now: float | None = None) -> None:
        """Set gauges (name -> value) in the buckets holding ``now``; the last value wins."""
        unknown = set(values) - set(GAUGES)
        if unknown:
            raise TimeSeriesError(f"not gauges: {', '.join(sorted(unknown))}")
        index = [(GAUGES.index(name), float(value)) for name, value in values.items()]

        def apply(record: _Record) -> None:
            for i, value in index:
                record.gauges[i] = value

        self._update(apply, time.time() if now is None else now)

    def read(
        self,
        start: float,
        end: float,
        *,
        resolution: Resolution = "auto",
        now: float | None = None,
    ) -> SeriesData:
        """Every bucket whose start lies in [bucket(start), end] (none if end < start)."""
        current = time.time() if now is None else now
        if resolution == "auto":
            minute_ok = MINUTE.bucket(start) > MINUTE.bucket(current) - MINUTE.span
            resolution = "minute" if minute_ok else "hour"
        index = 0 if resolution == "minute" else 1
        ring = RINGS[index]
        first, last = ring.bucket(start), ring.bucket(end)
        count = (last - first) // ring.width + 1 if end >= start else 0
        if count > MAX_POINTS:
            raise TimeSeriesError(f"{count} {ring.name} buckets asked for; at most {MAX_POINTS}")
        with self._locked(fcntl.LOCK_SH) as fd:
            data = os.pread(fd, ring.slots * RECORD_SIZE, _ring_offset(index)) if count else b""
        stamps = tuple(first + i * ring.width for i in range(count))
        records = [self._at(data, ring, t) for t in stamps]
        counters = {
            name: tuple(r.counts[i] if r else 0 for r in records) for i, name in enumerate(COUNTERS)
        }
        gauges = {name: tuple(_gauge(r, i) for r in records) for i, name in enumerate(GAUGES)}
        return SeriesData(ring.width, stamps, counters, gauges)

    @staticmethod
    def _at(data: bytes, ring: Ring, start: int) -> _Record | None:
        offset = ring.slot(start) * RECORD_SIZE
        record = _unpack(data[offset : offset + RECORD_SIZE])
        return record if record is not None and record.start == start else None

    def _update(self, apply: Callable[[_Record], None], now: float) -> None:
        with self._locked(fcntl.LOCK_EX) as fd:
            for index, ring in enumerate(RINGS):
                start = ring.bucket(now)
                offset = _ring_offset(index) + ring.slot(start) * RECORD_SIZE
                record = _unpack(os.pread(fd, RECORD_SIZE, offset))
                if record is not None and record.start > start:
                    continue  # the slot already holds a newer bucket
                if record is None or record.start != start:
                    record = _empty(start)
                apply(record)
                if os.pwrite(fd, _pack(record), offset) != RECORD_SIZE:
                    raise TimeSeriesError(f"{self.path}: short write")

    @contextlib.contextmanager
    def _locked(self, operation: int) -> Iterator[int]:
        fd = self._open()
        fcntl.flock(fd, operation)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
            self._pid = os.getpid()
        return self._fd

    def _create(self) -> None:
        temp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.pwrite(fd, _header(), 0)
            os.ftruncate(fd, FILE_SIZE)
            os.fsync(fd)
            os.close(fd)
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(temp, self.path)
        finally:
            os.unlink(temp)

    def _check(self) -> None:
        fd = self._open()
        header = os.pread(fd, HEADER_SIZE, 0)
        if header != _header():
            raise TimeSeriesError(f"{self.path}: not a version {VERSION} Postroom time series")
        size = os.fstat(fd).st_size
        if size != FILE_SIZE:
            raise TimeSeriesError(f"{self.path}: {size} bytes, expected {FILE_SIZE}")
