"""Rendering one job the way Sendmail 8.17's ``print_single_queue`` prints it.

A job's text is ``%13s`` of its id, one status character (:data:`MARK_AT` tells where),
then what :func:`render_rest` produces from the control file's bytes: ``%8ld`` df size
(-1 if missing), then ctime (local time) and the sender cut to 39 columns, or with
``-v`` ``%10ld`` priority, ``+`` if a delay warning was sent, 12 characters of ctime
and the sender cut to 78; ``QUARANTINE:`` and ``(status)`` lines; recipients after 5
tabs and a space (cut 38) or 6 tabs (cut 71); with ``-v`` controlling users and
recipient status.  Lines are read like Sendmail's ``fgets`` with a 2048-byte buffer
(:func:`fgets_lines`), so an over-long line continues as a new "line"; the file never
needs to parse, so a broken job is still listed.  Addresses are printed like
``prtstr`` (``\\`` doubled, unprintable bytes as ``\\ooo``).

:func:`job_id` and :func:`open_error` give the parts that do not come from the file's
contents; :mod:`.mailq` puts them together, either fresh or from :mod:`.listing_index`.
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Iterator

from .gather import atol
from .qfmodel import ENCODING, ERRORS

MAXLINE = 2048
MAXNAME = 256
HEADER = b"-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n"
HEADER_V = b"-----Q-ID----- --Size-- -Priority- ---Q-Time--- --------Sender/Recipient--------\n"
MARK_LOCKED, MARK_LOST, MARK_YOUNG, MARK_NONE = b"*", b"?", b"-", b" "
_PLAIN = re.compile(rb"[\x20-\x5b\x5d-\x7e]*")  # printable ASCII but the backslash
_USED = frozenset(b"VMqBSCRTF")
_PRINTED_LINE = re.compile(rb"^[VMqBSCRTF].*$", re.MULTILINE)
_LONG_LINE = re.compile(rb"[^\n]{%d}" % (MAXLINE - 1))


def job_id(name: str) -> bytes:
    """``%13s`` of the queue id in control file ``name`` (longer ids overflow)."""
    return b"%13s" % name[2:].encode(ENCODING, ERRORS)


def open_error(exc: OSError) -> bytes:
    """What follows the id when the control file cannot be opened."""
    if exc.errno == errno.EPERM:
        return b" (permission denied)\n"
    if exc.errno == errno.ENOENT:
        return b" (job completed)\n"
    return b" (%s)\n" % os.strerror(exc.errno or 0).encode()


def fgets_lines(data: bytes) -> list[bytes]:
    """Split like repeated ``fgets(buf, MAXLINE)`` + ``fixcrlf``: chunks, newline removed."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if b"\0" in data or b"\r" in data or (lines and max(map(len, lines)) > MAXLINE - 2):
        return list(_fgets_slow(data))
    return lines


def printed_lines(data: bytes) -> list[bytes]:
    """The :func:`fgets_lines` of ``data`` that :func:`render_rest` looks at (``VMqBSCRTF``)."""
    if b"\0" in data or b"\r" in data or _LONG_LINE.search(data):
        return [line for line in _fgets_slow(data) if line[:1] and line[0] in _USED]
    return _PRINTED_LINE.findall(data)


def _fgets_slow(data: bytes) -> Iterator[bytes]:
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
    plain = _PLAIN.match(s).end()  # type: ignore[union-attr]
    if plain >= ml or plain == len(s):
        return s[: max(ml, 0)]
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


def ctime_text(t: int) -> bytes:
    """C ``ctime`` in local time, or ``(null)`` where C's would fail."""
    try:
        return time.ctime(t).encode("ascii")
    except (OverflowError, OSError, ValueError):
        return b"(null)"


def render_rest(
    data: bytes, dfsize: int, priority: int, verbose: bool, lines: list[bytes] | None = None
) -> bytes:
    """Everything after the status character, for the control file bytes ``data``.

    ``lines`` may pass ``fgets_lines(data)`` or ``printed_lines(data)`` when the caller
    already has them.
    """
    out = bytearray()
    quarmsg = statmsg = bodytype = b""
    version = submittime = 0
    warned = False
    cut = 100 if verbose else 60
    used = _USED
    for buf in lines if lines is not None else fgets_lines(data):
        if not buf or buf[0] not in used:
            continue
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
            ctime = ctime_text(submittime)
            if verbose:
                mark = b"+" if warned else b" "
                out += b"%8d %10d%s%.12s " % (dfsize, priority, mark, ctime[4:])
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
    return bytes(out)
