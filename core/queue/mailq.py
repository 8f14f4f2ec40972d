"""``mailq`` / ``sendmail -bp``: Sendmail 8.17's queue listing, byte for byte.

The printer follows ``print_single_queue``: it reads each control file's raw
lines (``fgets`` with a 2048-byte buffer, so an over-long line continues as a
new "line", exactly as in Sendmail) and never needs the file to parse, so a
broken job is still listed.  Per job: the id right-justified in 13 columns,
the status character (``*`` locked, ``?`` lost listing, ``-`` too young,
else space), ``%8ld`` df size (-1 if missing), then ctime (local time) and
the sender cut to 39 columns, or with ``-v`` ``%10ld`` priority, ``+`` if a
delay warning was sent, 12 characters of ctime and the sender cut to 78;
``QUARANTINE:`` and ``(status)`` lines; recipients after 5 tabs and a space
(cut 38) or 6 tabs (cut 71); with ``-v`` controlling users and recipient
status.  Addresses are printed like Sendmail's ``prtstr`` (``\\`` doubled,
unprintable bytes as ``\\ooo``).  The queue ``X`` marker (load average) is
never shown.  An empty queue prints ``<dir> is empty``; every listing ends
with ``\\t\\tTotal requests: N``.

:func:`iter_queue_listing` yields the output in bytes chunks (one per job) for
large queues; :func:`format_queue_listing` returns it as one ``str`` decoded
with surrogateescape.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .gather import WorkItem, atol, gather
from .qfmodel import ENCODING, ERRORS
from .selection import QueueSelection, parse_selection

__all__ = ["QueueSelection", "format_queue_listing", "iter_queue_listing", "parse_selection"]

MAXLINE = 2048
MAXNAME = 256
HEADER = b"-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n"
HEADER_V = b"-----Q-ID----- --Size-- -Priority- ---Q-Time--- --------Sender/Recipient--------\n"


def format_queue_listing(
    queue_dir: Path,
    *,
    verbose: bool = False,
    selection: QueueSelection | None = None,
    now: float | None = None,
    min_queue_age: int = 0,
) -> str:
    """The whole listing as ``str`` (non-UTF-8 bytes kept via surrogateescape)."""
    chunks = iter_queue_listing(
        queue_dir, verbose=verbose, selection=selection, now=now, min_queue_age=min_queue_age
    )
    return b"".join(chunks).decode(ENCODING, ERRORS)


def iter_queue_listing(
    queue_dir: Path,
    *,
    verbose: bool = False,
    selection: QueueSelection | None = None,
    now: float | None = None,
    min_queue_age: int = 0,
) -> Iterator[bytes]:
    """The listing in chunks: heading, one chunk per job, total line."""
    selection = selection or QueueSelection()
    current = time.time() if now is None else now
    work = gather(Path(queue_dir), selection, now=current, min_queue_age=min_queue_age)
    name = os.fsencode(queue_dir)
    if not work:
        yield b"%s is empty\n" % name
    else:
        yield b"\t\t%s (%d request%s)\n" % (name, len(work), b"" if len(work) == 1 else b"s")
        yield HEADER_V if verbose else HEADER
        for item in work:
            yield _job(Path(queue_dir), item, selection, verbose)
    yield b"\t\tTotal requests: %d\n" % len(work)


def fgets_lines(data: bytes) -> Iterator[bytes]:
    """Split like repeated ``fgets(buf, MAXLINE)`` + ``fixcrlf``: chunks, newline removed."""
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos, pos + MAXLINE - 1)
        stop = end + 1 if end >= 0 else min(len(data), pos + MAXLINE - 1)
        chunk = data[pos:stop]
        pos = stop
        chunk = chunk.split(b"\0", 1)[0]
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
        yield chunk


def prtstr(s: bytes, ml: int) -> bytes:
    """Sendmail's prtstr: print at most ``ml`` columns, escaping ``\\`` and unprintables."""
    out = bytearray()
    i = 0
    while True:
        go = ml > 0
        ml -= 1
        if not go or i >= len(s):
            break
        c = s[i]
        i += 1
        if c == 0x5C:
            go = ml > 0
            ml -= 1
            if go:
                out += b"\\\\"
        elif 0x20 <= c <= 0x7E:
            out.append(c)
        else:
            ml -= 3
            if ml > 0:
                out += b"\\%03o" % c
    return bytes(out)


def _ctime(t: int) -> bytes:
    try:
        return time.ctime(t).encode("ascii")
    except (OverflowError, OSError, ValueError):
        return b"(null)"


def _job(queue_dir: Path, item: WorkItem, selection: QueueSelection, verbose: bool) -> bytes:
    out = bytearray(b"%13s" % item.name[2:].encode(ENCODING, ERRORS))
    try:
        with open(queue_dir / item.name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        if exc.errno == errno.EPERM:
            out += b" (permission denied)\n"
        elif exc.errno == errno.ENOENT:
            out += b" (job completed)\n"
        else:
            out += b" (%s)\n" % os.strerror(exc.errno or 0).encode()
        return bytes(out)
    try:
        dfsize = (queue_dir / ("d" + item.name[1:])).stat().st_size
    except OSError:
        dfsize = -1
    if item.locked:
        out += b"*"
    elif selection.mode == "lost":
        out += b"?"
    elif item.too_young:
        out += b"-"
    else:
        out += b" "
    _lines(out, data, item, dfsize, verbose)
    return bytes(out)


def _lines(out: bytearray, data: bytes, item: WorkItem, dfsize: int, verbose: bool) -> None:
    quarmsg = statmsg = bodytype = b""
    version = submittime = 0
    warned = False
    cut = 100 if verbose else 60
    for buf in fgets_lines(data):
        code, rest = buf[:1], buf[1:]
        if code == b"V":
            version = atol(rest)
        elif code == b"M":
            statmsg = rest[: MAXLINE - 1]
        elif code == b"q":
            quarmsg = rest[: MAXLINE - 1]
        elif code == b"B":
            bodytype = rest[:MAXNAME]
        elif code == b"S":
            ctime = _ctime(submittime)
            if verbose:
                mark = b"+" if warned else b" "
                out += b"%8d %10d%s%.12s " % (dfsize, item.priority, mark, ctime[4:])
                out += prtstr(rest, 78)
            else:
                out += b"%8d %.16s " % (dfsize, ctime)
                out += prtstr(rest, 39)
            if quarmsg:
                out += b"\n     QUARANTINE: %s" % quarmsg[:cut]
                quarmsg = b""
            if statmsg or bodytype:
                out += b"\n    %10.10s" % bodytype
                if statmsg:
                    out += b"   (%s)" % statmsg[:cut]
                statmsg = b""
        elif code == b"C":
            if verbose:
                out += b"\n\t\t\t\t\t\t(---%.64s---)" % rest
        elif code == b"R":
            address: bytes | None = rest
            if version >= 1:
                address = rest.split(b":", 1)[1] if b":" in rest else None
            if address is not None:
                if verbose:
                    out += b"\n\t\t\t\t\t\t" + prtstr(address, 71)
                else:
                    out += b"\n\t\t\t\t\t " + prtstr(address, 38)
                if verbose and statmsg:
                    out += b"\n\t\t (%.100s)" % statmsg
                    statmsg = b""
        elif code == b"T":
            submittime = atol(rest)
        elif code == b"F":
            warned = warned or b"w" in rest
    if submittime == 0:
        out += b" (no control file)"
    out += b"\n"
