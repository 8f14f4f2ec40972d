"""``log.tail``: the end of the mail log, and what was appended since the last look.

Reads ``LogFile`` (Postroom's own log when syslog is not used).  ``lines`` asks for the
last N lines, read backwards in blocks so a large log costs no more than the lines
wanted.  With ``offset`` (the ``offset`` of the previous answer) it returns the lines
appended since, for a follow-mode view; when the file got shorter than ``offset`` it was
rotated, ``rotated`` is true and the lines come from the start of the new file.  At
most ``MAX_BYTES`` are returned at once; a partial last line is left for next time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .context import Context, Stream
from .params import Params
from .protocol import NOT_AVAILABLE, RpcError

MAX_LINES = 10_000
MAX_BYTES = 1024 * 1024
_BLOCK = 64 * 1024


def tail_lines(fd: int, size: int, wanted: int) -> tuple[list[bytes], int]:
    """The last ``wanted`` complete lines before ``size``; (lines, offset after them)."""
    end = size
    data = b""
    pos = size
    while pos > 0 and data.count(b"\n") <= wanted and len(data) < MAX_BYTES:
        step = min(_BLOCK, pos)
        pos -= step
        data = os.pread(fd, step, pos) + data
    cut = data.rfind(b"\n") + 1
    end = pos + cut
    lines = data[:cut].split(b"\n")[:-1]
    if pos > 0 and lines:
        lines = lines[1:]  # the first one may have been cut
    return lines[-wanted:] if wanted else [], end


def log_tail(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    wanted = params.integer("lines", 200, low=0, high=MAX_LINES) or 0
    offset = params.integer("offset", None, low=0, high=2**62)
    if config.log_file is None:
        raise RpcError(
            NOT_AVAILABLE,
            "LogFile is not set, so the log goes to syslog; read it there "
            "(journalctl -t postroom-mta) or set LogFile",
        )
    path = Path(config.log_file)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        rotated = offset is not None and offset > size
        if offset is None:
            lines, end = tail_lines(fd, size, wanted)
        else:
            start = 0 if rotated else offset
            data = os.pread(fd, min(MAX_BYTES, size - start), start)
            cut = data.rfind(b"\n") + 1
            lines, end = data[:cut].split(b"\n")[:-1], start + cut
    finally:
        os.close(fd)
    return {
        "path": str(path),
        "lines": [line.decode("utf-8", "replace") for line in lines],
        "offset": end,
        "size": size,
        "rotated": rotated,
    }
