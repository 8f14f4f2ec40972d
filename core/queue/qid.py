"""Sendmail 8.12+ queue ids: generation and decoding.

An id is 8 symbols from ``0-9A-Za-z`` followed by the process id, at least
6 digits: ``6APITkJh015270``.  Symbols 1-6 encode the GMT time ((year-1900)
mod 60, month 0-11, day, hour, minute, second); symbols 7-8 are a base-60
sequence number, ``(counter + random offset) mod 3600``.

:class:`QueueIdGenerator` hands out at most 3600 ids per second per process
and waits for the next second after that.  Unlike Sendmail, whose processes
are short-lived children, it restarts the counter whenever the clock enters a
new second, so the time in a long-running daemon's ids stays current.  After a
fork (the pid changes) counter and offset start again.  It is thread-safe.
Clock, pid, offset and sleep are injectable so tests never wait.

:func:`qid_time` decodes the timestamp; :func:`check_qid` validates an id
before it is used to build a file name.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import InvalidQueueIdError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SEQUENCE_SPACE = 60 * 60
# MAXQFNAME is 21 including "qf" and the NUL: ids are at most 18 characters.
MAX_QID_LENGTH = 18

_QID_RE = re.compile(f"[0-9A-Za-z]{{1,{MAX_QID_LENGTH}}}")
_MODERN_RE = re.compile(r"[0-9A-Za-z]{8}[0-9]{6,10}")


def check_qid(qid: str) -> str:
    """Return ``qid`` if it is safe to use in a spool file name, else raise."""
    if not _QID_RE.fullmatch(qid):
        raise InvalidQueueIdError(f"invalid queue id {qid!r}")
    return qid


class QueueIdGenerator:
    """Produces unique Sendmail-style queue ids for this process."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        pid: Callable[[], int] | None = None,
        offset: Callable[[], int] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._pid = pid if pid is not None else os.getpid
        self._offset_source = offset if offset is not None else _random_offset
        self._sleep = sleep
        self._lock = threading.Lock()
        self._base_second: int | None = None
        self._base_pid: int | None = None
        self._counter = 0
        self._offset = 0

    def next_id(self) -> str:
        """Return a new id; blocks until the next second if 3600 were used in this one."""
        with self._lock:
            pid = self._pid()
            if pid != self._base_pid:
                self._base_pid = pid
                self._base_second = None
                self._offset = self._offset_source() % SEQUENCE_SPACE
            now = int(self._clock())
            if now != self._base_second:
                self._base_second = now
                self._counter = 0
            while self._counter >= SEQUENCE_SPACE:
                now = int(self._clock())
                if now != self._base_second:
                    self._base_second = now
                    self._counter = 0
                    break
                self._sleep(max(0.001, self._base_second + 1 - self._clock()))
            seq = (self._counter + self._offset) % SEQUENCE_SPACE
            self._counter += 1
            return encode_qid(now, seq, pid)


def _random_offset() -> int:
    return secrets.randbelow(SEQUENCE_SPACE)


def encode_qid(epoch_seconds: int, seq: int, pid: int) -> str:
    """Build the id for a GMT time, a sequence number (0-3599) and a pid."""
    tm = time.gmtime(epoch_seconds)
    chars = (
        ALPHABET[(tm.tm_year - 1900) % 60],
        ALPHABET[tm.tm_mon - 1],
        ALPHABET[tm.tm_mday],
        ALPHABET[tm.tm_hour],
        ALPHABET[tm.tm_min % 62],
        ALPHABET[tm.tm_sec % 62],
        ALPHABET[seq // 60],
        ALPHABET[seq % 60],
    )
    return "".join(chars) + f"{pid:06d}"


def qid_time(qid: str, *, now: datetime | None = None) -> datetime:
    """Decode the creation time (UTC, whole seconds) encoded in an 8.12+ id.

    The year is stored modulo 60; the latest matching year not after ``now``'s
    year plus one is chosen.
    """
    if not _MODERN_RE.fullmatch(qid):
        raise InvalidQueueIdError(f"not a Sendmail 8.12+ queue id: {qid!r}")
    year60, month, day, hour, minute, second = (ALPHABET.index(c) for c in qid[:6])
    if year60 >= 60 or month > 11 or not 1 <= day <= 31 or hour > 23:
        raise InvalidQueueIdError(f"queue id {qid!r} does not encode a time")
    if minute > 59 or second > 61:
        raise InvalidQueueIdError(f"queue id {qid!r} does not encode a time")
    reference = (now or datetime.now(UTC)).year + 1
    year = reference - ((reference - 1900 - year60) % 60)
    try:
        return datetime(year, month + 1, day, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError as exc:
        raise InvalidQueueIdError(f"queue id {qid!r} does not encode a time") from exc
