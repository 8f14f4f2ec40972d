"""Sendmail's StatusFile (``statistics``): the binary struct, merging, reading, reset.

The file is ``struct statistics`` of ``include/sendmail/mailstats.h`` in this
platform's native layout -- on x86-64 Linux 1448 bytes: ``int magic``
(0x1B1DE), ``int version`` (4), ``time_t itime``, ``short size`` (1448) and
padding, ``long cf, ct, cr``, then seven ``long[25]`` arrays ``nf, bf, nt,
bt, nr, nd, nq`` indexed by mailer number (:data:`MAILERS`).  Other
platforms' sizes differ; importing this module fails there.

:class:`StatCounters` are one process's increments (Sendmail's ``Stat``);
:meth:`StatusFile.merge` is ``poststats``: the file must already exist (it is
never created; symlinks, hard links and non-regular files are refused, as
without DontBlameSendmail); under an exclusive ``flock`` it is read, and if
it is a complete struct with our size, magic and version the counters are
added, otherwise the file is overwritten with the counters and ``itime`` =
now; the result is written at offset 0 (so the file never grows past 1448
bytes), and the counters are cleared.  Counters wrap like C ``long``s.
Failures are logged, never raised: statistics must not stop mail.

:meth:`StatusFile.read` is what ``mailstats`` reads (under a shared flock,
so it never sees half a merge -- Sendmail sleeps a second and re-reads
instead): an empty file is all zeros with ``itime`` = now; a bad magic,
version or size raises :class:`StatsFormatError` with Sendmail's text.
:meth:`StatusFile.reset` truncates the file to 0 bytes (``mailstats -p``);
:meth:`StatusFile.read_and_reset` does both under one lock.
"""

from __future__ import annotations

import errno as errno_mod
import fcntl
import logging
import os
import stat
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StatsFormatError, StatsOpenError

log = logging.getLogger(__name__)

STAT_MAGIC = 0x1B1DE
STAT_VERSION = 4
MAXMAILERS = 25
STAT_SIZE = 1448
ARRAYS = ("nf", "bf", "nt", "bt", "nr", "nd", "nq")
MAILERS = ("prog", "*file*", "*include*", "local", "smtp", "esmtp", "smtp8", "dsmtp", "relay")
"""Mailer numbers 0..8 as Sendmail numbers them for the stock m4 configuration."""

_STRUCT = struct.Struct(f"@iilh3l{len(ARRAYS) * MAXMAILERS}l")
if _STRUCT.size != STAT_SIZE:  # pragma: no cover - only on a non-LP64 platform
    raise ImportError(f"struct statistics is {_STRUCT.size} bytes here, not {STAT_SIZE}")


def kbytes(size: int) -> int:
    """Sendmail's KBYTES: thousands of bytes, rounded up."""
    return (size + 999) // 1000


def wrap_long(value: int) -> int:
    """The value a C ``long`` holds after overflowing (two's complement)."""
    return (value + 2**63) % 2**64 - 2**63


def _zeros() -> list[int]:
    return [0] * MAXMAILERS


@dataclass
class StatCounters:
    """One process's increments, merged into the file by :meth:`StatusFile.merge`."""

    cf: int = 0
    ct: int = 0
    cr: int = 0
    nf: list[int] = field(default_factory=_zeros)
    bf: list[int] = field(default_factory=_zeros)
    nt: list[int] = field(default_factory=_zeros)
    bt: list[int] = field(default_factory=_zeros)
    nr: list[int] = field(default_factory=_zeros)
    nd: list[int] = field(default_factory=_zeros)
    nq: list[int] = field(default_factory=_zeros)

    def received(self, mailer: int, size: int) -> None:
        """A message came in from ``mailer``: nf += 1, bf += kbytes(size)."""
        self.nf[_check(mailer)] += 1
        self.bf[mailer] += kbytes(size)

    def delivered(self, mailer: int, size: int) -> None:
        """A delivery by ``mailer`` succeeded: nt += 1, bt += kbytes(size)."""
        self.nt[_check(mailer)] += 1
        self.bt[mailer] += kbytes(size)

    def rejected(self, mailer: int) -> None:
        """A check ruleset or milter rejected mail from ``mailer``: nr and cr."""
        self.nr[_check(mailer)] += 1
        self.cr += 1

    def discarded(self, mailer: int) -> None:
        """Mail from ``mailer`` was discarded: nd and cr."""
        self.nd[_check(mailer)] += 1
        self.cr += 1

    def quarantined(self, mailer: int) -> None:
        """Mail from ``mailer`` was quarantined: nq."""
        self.nq[_check(mailer)] += 1

    def connection_in(self) -> None:
        """An inbound SMTP connection was accepted: cf."""
        self.cf += 1

    def connection_out(self) -> None:
        """An outbound connection was made (refused ones do not count): ct."""
        self.ct += 1

    def empty(self) -> bool:
        """True if nothing was counted (Sendmail then does not touch the file)."""
        return not (self.cf or self.ct or self.cr) and not any(
            any(getattr(self, name)) for name in ARRAYS
        )

    def clear(self) -> None:
        """Forget everything counted (done after a successful merge)."""
        self.cf = self.ct = self.cr = 0
        for name in ARRAYS:
            setattr(self, name, _zeros())


def _check(mailer: int) -> int:
    if not 0 <= mailer < MAXMAILERS:
        raise ValueError(f"mailer number {mailer} is not in 0..{MAXMAILERS - 1}")
    return mailer


@dataclass(frozen=True)
class Statistics:
    """The contents of a statistics file (each array has 25 entries)."""

    itime: int
    cf: int = 0
    ct: int = 0
    cr: int = 0
    nf: tuple[int, ...] = (0,) * MAXMAILERS
    bf: tuple[int, ...] = (0,) * MAXMAILERS
    nt: tuple[int, ...] = (0,) * MAXMAILERS
    bt: tuple[int, ...] = (0,) * MAXMAILERS
    nr: tuple[int, ...] = (0,) * MAXMAILERS
    nd: tuple[int, ...] = (0,) * MAXMAILERS
    nq: tuple[int, ...] = (0,) * MAXMAILERS

    def pack(self) -> bytes:
        """The 1448-byte struct with magic, version and size filled in."""
        arrays = [v for name in ARRAYS for v in getattr(self, name)]
        head = (STAT_MAGIC, STAT_VERSION, self.itime, STAT_SIZE, self.cf, self.ct, self.cr)
        return _STRUCT.pack(*head, *arrays)

    @classmethod
    def unpack(cls, data: bytes) -> Statistics:
        """Parse a complete struct (no checks; see :meth:`StatusFile.read`)."""
        values = _STRUCT.unpack(data)
        arrays = {
            name: tuple(values[7 + i * MAXMAILERS : 7 + (i + 1) * MAXMAILERS])
            for i, name in enumerate(ARRAYS)
        }
        return cls(values[2], values[4], values[5], values[6], **arrays)

    @classmethod
    def from_counters(cls, counters: StatCounters, itime: int) -> Statistics:
        """The struct a process writes when the file is empty or not usable."""
        arrays = {name: tuple(getattr(counters, name)) for name in ARRAYS}
        return cls(itime, counters.cf, counters.ct, counters.cr, **arrays)

    def plus(self, counters: StatCounters) -> Statistics:
        """These statistics with ``counters`` added (C ``long`` arithmetic)."""
        arrays = {
            name: tuple(
                wrap_long(a + b)
                for a, b in zip(getattr(self, name), getattr(counters, name), strict=True)
            )
            for name in ARRAYS
        }
        return Statistics(
            self.itime,
            wrap_long(self.cf + counters.cf),
            wrap_long(self.ct + counters.ct),
            wrap_long(self.cr + counters.cr),
            **arrays,
        )


_HEADER = struct.Struct("@ii")
_SIZE_FIELD = struct.Struct("@h")
_SIZE_OFFSET = 16


class StatusFile:
    """A Sendmail statistics file at ``path`` (kept as given, for messages)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.name = os.fspath(path)

    def merge(self, counters: StatCounters, *, now: float | None = None) -> None:
        """Add ``counters`` to the file (Sendmail's ``poststats``) and clear them."""
        if counters.empty():
            return
        try:
            fd = _open_for_update(self.path)
        except OSError as exc:
            log.debug("poststats: %s: %s", self.name, exc.strerror)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = os.pread(fd, STAT_SIZE, 0)
            current = int(time.time() if now is None else now)
            if _usable(data):
                result = Statistics.unpack(data).plus(counters)
            else:
                result = Statistics.from_counters(counters, current)
            _pwrite_all(fd, result.pack())
        except OSError as exc:
            log.warning("poststats: %s: %s", self.name, exc.strerror)
            return
        finally:
            os.close(fd)
        counters.clear()

    def read(self, *, now: float | None = None) -> Statistics:
        """The statistics, as ``mailstats`` reads them (see the module docstring)."""
        with self._locked(os.O_RDONLY, fcntl.LOCK_SH) as fd:
            return self._parse(_read_all(fd), now)

    def reset(self) -> None:
        """Truncate the file to 0 bytes (``mailstats -p``); it must exist."""
        with self._locked(os.O_RDWR, fcntl.LOCK_EX) as fd:
            os.ftruncate(fd, 0)

    def read_and_reset(self, *, now: float | None = None) -> Statistics:
        """Read, then truncate, under one exclusive lock (no merge is lost between)."""
        with self._locked(os.O_RDWR, fcntl.LOCK_EX) as fd:
            stats = self._parse(_read_all(fd), now)
            os.ftruncate(fd, 0)
            return stats

    @contextmanager
    def _locked(self, flags: int, operation: int) -> Iterator[int]:
        try:
            fd = os.open(self.path, flags | os.O_CLOEXEC)
        except OSError as exc:
            raise StatsOpenError(self.name, exc.errno or errno_mod.EIO) from exc
        try:
            fcntl.flock(fd, operation)
            yield fd
        except OSError as exc:
            raise StatsOpenError(self.name, exc.errno or errno_mod.EIO) from exc
        finally:
            os.close(fd)

    def _parse(self, data: bytes, now: float | None) -> Statistics:
        if not data:
            return Statistics(int(time.time() if now is None else now))
        magic, version = _HEADER.unpack(data[: _HEADER.size].ljust(_HEADER.size, b"\0"))
        if magic != STAT_MAGIC:
            raise StatsFormatError(f"mailstats: incorrect magic number in {self.name}")
        if version != STAT_VERSION:
            raise StatsFormatError(
                f"mailstats version ({STAT_VERSION}) incompatible with {self.name}"
                f" version ({version})"
            )
        if not _usable(data):
            raise StatsFormatError("mailstats: file size changed.")
        return Statistics.unpack(data)


def _usable(data: bytes) -> bool:
    """A complete struct with our size, magic and version."""
    if len(data) != STAT_SIZE:
        return False
    magic, version = _HEADER.unpack_from(data)
    (size,) = _SIZE_FIELD.unpack_from(data, _SIZE_OFFSET)
    return (magic, version, size) == (STAT_MAGIC, STAT_VERSION, STAT_SIZE)


def _open_for_update(path: Path) -> int:
    """Open an existing regular, singly-linked file read-write, never following links."""
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
        os.close(fd)
        reason = "Regular files only" if not stat.S_ISREG(st.st_mode) else "Hard links not allowed"
        raise OSError(errno_mod.EPERM, reason)
    return fd


def _read_all(fd: int) -> bytes:
    """Up to STAT_SIZE bytes from the start (like one ``read`` of the struct)."""
    chunks = []
    got = 0
    while got < STAT_SIZE:
        chunk = os.pread(fd, STAT_SIZE - got, got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _pwrite_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    offset = 0
    while offset < len(data):
        offset += os.pwrite(fd, view[offset:], offset)
