"""``log.tail``: the end of the mail log, and what was appended since the last look.

Reads ``LogFile`` (Postroom's own log when syslog is not used).  ``lines`` asks for the
last N lines, read backwards in blocks so a large log costs no more than the lines
wanted.  With ``offset`` (the ``offset`` of the previous answer) it returns the lines
appended since, for a follow-mode view; when the file got shorter than ``offset`` it was
rotated, ``rotated`` is true and the lines come from the start of the new file.  At
most ``MAX_BYTES`` are returned at once; a partial last line is left for next time.

Each line comes with its LogLevel in ``levels`` (:mod:`.log_levels`; null when the line
is not recognised), so a viewer can filter by level.  ``source: "traffic"`` reads the
running daemon's ``-X`` traffic log instead (``daemon.status`` names it in
``traffic_log``; ``not_available`` when the daemon was not started with ``-X``); its
lines have no level.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .context import Context, Stream
from .daemon_methods import daemon_state
from .log_levels import line_level
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


def _log_path(ctx: Context, source: str) -> Path:
    config = ctx.config()
    if source == "traffic":
        traffic = daemon_state(config)["traffic_log"]
        if traffic is None:
            raise RpcError(
                NOT_AVAILABLE,
                "no traffic log: the running daemon was not started with -X file",
            )
        return Path(traffic)
    if config.log_file is None:
        raise RpcError(
            NOT_AVAILABLE,
            "LogFile is not set, so the log goes to syslog; read it there "
            "(journalctl -t postroom-mta) or set LogFile",
        )
    return Path(config.log_file)


def log_tail(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    wanted = params.integer("lines", 200, low=0, high=MAX_LINES) or 0
    offset = params.integer("offset", None, low=0, high=2**62)
    source = params.choice("source", ("log", "traffic"), "log")
    path = _log_path(ctx, source)
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
    texts = [line.decode("utf-8", "replace") for line in lines]
    return {
        "path": str(path),
        "source": source,
        "lines": texts,
        "levels": [line_level(t) for t in texts] if source == "log" else [None] * len(texts),
        "offset": end,
        "size": size,
        "rotated": rotated,
    }
