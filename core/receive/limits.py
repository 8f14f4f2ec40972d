"""Session counts shared by the daemon's worker processes, for the connection limits.

Every worker accepts connections itself, so MaxDaemonChildren and
MaxConnectionsPerHost are checked against the sessions of all workers.
:class:`SessionCounts` is an anonymous shared memory map the daemon creates
before it forks: one region per worker slot, each written only by the worker
in that slot (so no lock is needed) and read by all.  A region holds the
worker's number of sessions and an open-addressing table of client address
-> sessions.  The daemon hands a slot to each worker it forks and clears it
when that worker has exited.

A count read from another worker can be a moment old: two connections from
one client accepted at the same instant by two workers may both pass a limit
that only one of them should have.  The limit is exceeded by at most one
session per other worker, and only for that instant.
"""

from __future__ import annotations

import mmap
import socket
import struct
import zlib

MAX_SLOTS = 2 * 64 + 2  # a generation of the most workers, a retiring one, and spares
TABLE = 1024  # client addresses per worker slot
_KEY = 16  # an IPv6 address; IPv4 is kept as ::ffff:a.b.c.d
_ENTRY = struct.Struct("=16si")
_SLOT_HEAD = struct.Struct("=ii")  # in use, sessions
_SLOT_SIZE = _SLOT_HEAD.size + TABLE * _ENTRY.size
_HEAD = struct.Struct("=i")  # slots to look at (highest in use + 1)
_EMPTY = bytes(_KEY)
_FULL = TABLE * 3 // 4  # rebuild the table when this many addresses are in it


def address_key(address: str) -> bytes:
    """The 16-byte form of a client address (an unparsable one gets a stable stand-in)."""
    try:
        if ":" in address:
            return socket.inet_pton(socket.AF_INET6, address.split("%")[0])
        return b"\0" * 10 + b"\xff\xff" + socket.inet_pton(socket.AF_INET, address)
    except OSError:
        return b"\xfe" + zlib.crc32(address.encode()).to_bytes(4, "big") + bytes(11)


class SessionCounts:
    """The shared map; :meth:`slot` gives a worker its writable view."""

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, _HEAD.size + MAX_SLOTS * _SLOT_SIZE)
        self._used: set[int] = set()

    # -- the daemon ------------------------------------------------------------
    def take_slot(self) -> int:
        """A free slot for a worker about to be forked (cleared, marked in use)."""
        index = min(set(range(MAX_SLOTS)) - self._used)
        self._used.add(index)
        start = self.slot_offset(index)
        self._map[start : start + _SLOT_SIZE] = bytes(_SLOT_SIZE)
        _SLOT_HEAD.pack_into(self._map, start, 1, 0)
        _HEAD.pack_into(self._map, 0, max(self._used) + 1)
        return index

    def free_slot(self, index: int) -> None:
        """The worker in ``index`` has exited: its sessions no longer count."""
        self._used.discard(index)
        start = self.slot_offset(index)
        self._map[start : start + _SLOT_SIZE] = bytes(_SLOT_SIZE)
        _HEAD.pack_into(self._map, 0, max(self._used, default=-1) + 1)

    # -- everyone ----------------------------------------------------------------
    def total(self) -> int:
        """Sessions of every worker."""
        count = 0
        for index in range(_HEAD.unpack_from(self._map, 0)[0]):
            in_use, sessions = _SLOT_HEAD.unpack_from(self._map, self.slot_offset(index))
            if in_use:
                count += sessions
        return count

    def for_client(self, key: bytes) -> int:
        """Sessions of every worker from the client address ``key`` (see :func:`address_key`)."""
        count = 0
        first = zlib.crc32(key) % TABLE
        for index in range(_HEAD.unpack_from(self._map, 0)[0]):
            start = self.slot_offset(index)
            if not _SLOT_HEAD.unpack_from(self._map, start)[0]:
                continue
            table = start + _SLOT_HEAD.size
            for probe in range(TABLE):
                found, sessions = _ENTRY.unpack_from(
                    self._map, table + ((first + probe) % TABLE) * _ENTRY.size
                )
                if found == key:
                    count += sessions
                    break
                if found == _EMPTY:
                    break
        return count

    def slot(self, index: int) -> WorkerCounts:
        return WorkerCounts(self, index)

    def slot_offset(self, index: int) -> int:
        return _HEAD.size + index * _SLOT_SIZE

    @property
    def buffer(self) -> mmap.mmap:
        return self._map


class WorkerCounts:
    """One worker's own region: it adds and removes its sessions here."""

    def __init__(self, shared: SessionCounts, index: int) -> None:
        self.shared = shared
        self.index = index
        self._start = shared.slot_offset(index)
        self._table = self._start + _SLOT_HEAD.size
        self._sessions = 0
        self._where: dict[bytes, int] = {}  # key -> its entry (count may be 0)
        self._counts: dict[bytes, int] = {}

    def add(self, key: bytes) -> None:
        position = self._where.get(key)
        if position is None:
            if len(self._where) >= _FULL:
                self._rebuild()
            position = self._place(key)
        self._counts[key] = self._counts.get(key, 0) + 1
        self._sessions += 1
        self._write(position, key)

    def remove(self, key: bytes) -> None:
        position = self._where.get(key)
        if position is None or self._counts.get(key, 0) <= 0:
            return
        self._counts[key] -= 1
        self._sessions -= 1
        self._write(position, key)

    def _write(self, position: int, key: bytes) -> None:
        buffer = self.shared.buffer
        _ENTRY.pack_into(buffer, self._table + position * _ENTRY.size, key, self._counts[key])
        _SLOT_HEAD.pack_into(buffer, self._start, 1, self._sessions)

    def _place(self, key: bytes) -> int:
        buffer = self.shared.buffer
        first = zlib.crc32(key) % TABLE
        for probe in range(TABLE):
            position = (first + probe) % TABLE
            found = _ENTRY.unpack_from(buffer, self._table + position * _ENTRY.size)[0]
            if found == _EMPTY:
                self._where[key] = position
                return position
        raise RuntimeError("session table full")  # not reached: rebuilt at 3/4

    def _rebuild(self) -> None:
        """Drop the addresses without sessions; the others are entered afresh."""
        live = {key: count for key, count in self._counts.items() if count > 0}
        buffer = self.shared.buffer
        buffer[self._table : self._table + TABLE * _ENTRY.size] = bytes(TABLE * _ENTRY.size)
        self._where.clear()
        self._counts = live
        for key in live:
            position = self._place(key)
            _ENTRY.pack_into(buffer, self._table + position * _ENTRY.size, key, live[key])
