"""The read-only queue methods: ``queue.list``, ``queue.show`` and ``queue.shape``.

All three apply restrictmailq first.  ``queue.list`` streams its rows (see
:mod:`.queue_scan` for their shape, :mod:`.queue_select` for the params) in chunks of
:data:`~.protocol.CHUNK_ROWS`, from the queue's rows index (:mod:`.queue_rows`) -- only
the control files that changed since it was last brought up to date are read.  When a
job cannot be served from it, the folder is read: with ``sort="none"`` the first chunk
leaves as soon as it is read, otherwise once the folder has been read and sorted; a
large queue is read by several processes (:mod:`.queue_parallel`).  Every path sends
its rows in the request's ``row_format``: ``"object"`` (the default; the row as
:mod:`.queue_scan` describes it) or ``"array"`` (the same 14 values as one JSON array
in :data:`~postroom.core.queue.listing_rowformat.ARRAY_FIELDS` order -- ``queue_id``,
``queue_name``, ``arrival_time``, ``message_size``, ``sender``, ``recipients``,
``status``, ``attempts``, ``last_attempt``, ``next_try``, ``priority``,
``quarantine``, ``locked``, ``error`` -- with ``recipients`` a list of ``[address,
delay_reason]`` pairs; about half the bytes).  ``server.info`` lists the formats in
``queue_list_row_formats``.  Its result is
``{"count": rows sent, "matched": rows that passed the filters, "scanned": control
files read, "queue_directory": ..., "time": the server's clock}``.

``queue.show`` returns one job in full: envelope, per-recipient status, headers (with
Sendmail's macro byte shown as ``$``), the first ``body_bytes`` of the body and the
job's transcript (its ``xf`` file, at most :data:`MAX_TRANSCRIPT` bytes; ``""`` when
there is none); a damaged control file still shows its raw text and the parser's
complaint.
``queue.shape`` counts jobs per recipient (or sender) domain in qshape's age buckets.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..queue.jobs import read_job
from ..queue.listing_rowformat import shaper
from ..queue.qfmodel import MACRO_REF, QueueFile
from .context import Context, Stream
from .params import Params
from .protocol import BAD_PARAMS, CHUNK_ROWS, NOT_FOUND, RpcError
from .queue_parallel import sorted_rows, stream_chunks, worker_count
from .queue_rows import IndexBuilder, has_rows_index, list_rows
from .queue_scan import KINDS, control_names, read_row, scan
from .queue_select import SORT_KEYS, Selection, parts_param, selection

BUCKETS = (("0-5m", 0), ("5-10m", 300), ("10-20m", 600), ("20-40m", 1200), ("40-80m", 2400),
           ("80-160m", 4800), ("160m+", 9600))  # fmt: skip
MAX_BODY = 1024 * 1024
DEFAULT_BODY = 64 * 1024
MAX_CONTROL_TEXT = 256 * 1024
ROWS_INDEX = "rows-index"
"""The session's :class:`~.queue_rows.IndexBuilder`, kept with its event watchers."""
MAX_TRANSCRIPT = 64 * 1024


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic collector while building many rows (it rescans them all)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def queue_list(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_view(config)
    sel = selection(params)
    queue_dir = Path(config.queue_directory)
    now = time.time()
    served = list_rows(queue_dir, sel, now, config.min_queue_age, out)
    if served is not None:
        sent, matched, scanned = served
        return _summary(sent, matched, scanned, queue_dir, now)
    build = not has_rows_index(queue_dir, config.min_queue_age)
    names = control_names(queue_dir, sel.prefixes)
    workers = worker_count(len(names))
    if workers and sel.sort != "none":
        encoded = sorted_rows(
            queue_dir, names, workers, selection=sel, now=now, min_queue_age=config.min_queue_age
        )
        matched, sent = len(encoded), _send_encoded(out, encoded, sel)
    elif workers and sel.offset == 0 and sel.limit is None:
        matched = 0
        for count, array in stream_chunks(
            queue_dir, names, workers, selection=sel, now=now, min_queue_age=config.min_queue_age
        ):
            out.chunk_encoded(array)
            matched += count
        sent = matched
    else:
        rows = scan(queue_dir, names, now=now, min_queue_age=config.min_queue_age)
        with gc_paused():
            matched, sent = _send_rows(out, rows, sel, now)
    if build:  # for the next request, once this one no longer needs the CPUs
        _build_rows_index(ctx, queue_dir, config.min_queue_age)
    return _summary(sent, matched, len(names), queue_dir, now)


def _build_rows_index(ctx: Context, queue_dir: Path, min_queue_age: float) -> None:
    builder = ctx.watchers.get(ROWS_INDEX)
    if not isinstance(builder, IndexBuilder) or builder.queue_dir != queue_dir:
        if builder is not None:
            builder.close()
        builder = ctx.watchers[ROWS_INDEX] = IndexBuilder(queue_dir, min_queue_age)
    builder.start()


def _summary(sent: int, matched: int, scanned: int, queue_dir: Path, now: float) -> dict[str, Any]:
    return {
        "count": sent,
        "matched": matched,
        "scanned": scanned,
        "queue_directory": str(queue_dir),
        "time": int(now),
    }


def _send_encoded(out: Stream, encoded: list[bytes], sel: Selection) -> int:
    end = None if sel.limit is None else sel.offset + sel.limit
    page = encoded[sel.offset : end]
    for start in range(0, len(page), CHUNK_ROWS):
        out.chunk_encoded(b"[" + b",".join(page[start : start + CHUNK_ROWS]) + b"]")
    return len(page)


def _send_rows(
    out: Stream, rows: Iterator[dict[str, Any]], sel: Selection, now: float
) -> tuple[int, int]:
    """Filter, sort and page ``rows`` in this process; (matched, sent)."""
    keep = sel.matcher(now)
    shape = shaper(sel.row_format)
    end = None if sel.limit is None else sel.offset + sel.limit
    if sel.sort != "none":
        found = [r for r in rows if keep is None or keep(r)]
        found.sort(key=SORT_KEYS[sel.sort], reverse=sel.descending)
        page = found[sel.offset : end]
        for start in range(0, len(page), CHUNK_ROWS):
            out.chunk(list(map(shape, page[start : start + CHUNK_ROWS])))
        return len(found), len(page)
    matched = sent = 0
    batch: list[Any] = []
    for row in rows:
        if keep is not None and not keep(row):
            continue
        matched += 1
        if matched <= sel.offset or (end is not None and matched > end):
            continue
        batch.append(shape(row))
        if len(batch) == CHUNK_ROWS:
            out.chunk(batch)
            sent += len(batch)
            batch = []
    if batch:
        out.chunk(batch)
        sent += len(batch)
    return matched, sent


def _find(queue_dir: Path, qid: str) -> str:
    for prefix in KINDS:
        if os.path.lexists(queue_dir / (prefix + qid)):
            return prefix
    raise RpcError(NOT_FOUND, f"no job {qid} in {queue_dir}", {"id": qid})


def _shown(text: str | None) -> str | None:
    return None if text is None else text.replace(MACRO_REF, "$")


def _envelope(qf: QueueFile) -> dict[str, Any]:
    return {
        "sender": qf.sender,
        "arrival_time": qf.ctime,
        "attempts": qf.attempts,
        "last_attempt": qf.last_attempt or None,
        "priority": qf.priority,
        "flags": qf.flags,
        "body_type": qf.body_type,
        "envid": qf.envid,
        "auth": qf.auth,
        "status": qf.status,
        "quarantine": qf.quarantine,
        "deliver_by": qf.deliver_by,
        "version": qf.version,
        "macros": [{"name": n, "value": _shown(v)} for n, v in qf.macros],
    }


def queue_show(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_view(config)
    qid = params.queue_ids()
    if len(qid) != 1:
        raise RpcError(BAD_PARAMS, "queue.show: give one id")
    body_limit = params.integer("body_bytes", DEFAULT_BODY, low=0, high=MAX_BODY) or 0
    queue_dir = Path(config.queue_directory)
    prefix = _find(queue_dir, qid[0])
    job = read_job(queue_dir, qid[0], prefix)
    if job is None:
        raise RpcError(NOT_FOUND, f"job {qid[0]} left the queue while being read", {"id": qid[0]})
    dir_fd = os.open(queue_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        row = read_row(dir_fd, prefix + qid[0], config.min_queue_age)
    finally:
        os.close(dir_fd)
    result: dict[str, Any] = {
        "queue_id": job.qid,
        "queue_name": row["queue_name"] if row else None,
        "control_file": job.path.name,
        "locked": job.locked,
        "message_size": job.df_size,
        "next_try": row["next_try"] if row else None,
        "error": job.error,
    }
    qf = job.queue_file
    if qf is not None:
        result["envelope"] = _envelope(qf)
        result["recipients"] = [
            {
                "address": r.address,
                "flags": r.flags,
                "status": r.status,
                "orcpt": r.orcpt,
                "final_recipient": r.final_recipient,
                "controlling_user": r.controlling_user,
            }
            for r in qf.recipients
        ]
        result["headers"] = [
            {"name": h.name, "value": _shown(h.value), "condition": _shown(h.condition)}
            for h in qf.headers
        ]
    else:
        result["control_text"] = _control_text(job.path)
    result.update(_body(queue_dir / ("df" + job.qid), body_limit))
    result.update(_transcript(queue_dir, "xf" + job.qid))
    return result


def _transcript(queue_dir: Path, name: str) -> dict[str, Any]:
    """The job's ``xf`` file (capped), read without following a planted symlink."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(queue_dir / name, flags)
    except FileNotFoundError:
        return {"transcript": "", "transcript_truncated": False}
    except OSError as exc:
        return {"transcript": "", "transcript_truncated": False, "transcript_error": exc.strerror}
    try:
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_TRANSCRIPT + 1)
    except OSError as exc:
        return {"transcript": "", "transcript_truncated": False, "transcript_error": exc.strerror}
    return {
        "transcript": data[:MAX_TRANSCRIPT].decode("utf-8", "replace"),
        "transcript_truncated": len(data) > MAX_TRANSCRIPT,
    }


def _control_text(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_CONTROL_TEXT).decode("utf-8", "replace")
    except OSError:
        return None


def _body(path: Path, limit: int) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return {"body": None, "body_truncated": False, "body_error": "no data file"}
    except OSError as exc:
        return {"body": None, "body_truncated": False, "body_error": exc.strerror}
    truncated = len(data) > limit
    return {"body": data[:limit].decode("utf-8", "replace"), "body_truncated": truncated}


def queue_shape(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_view(config)
    prefixes = parts_param(params, ("queue",))
    by = params.choice("by", ("recipient", "sender"), "recipient")
    top = params.integer("top", 20, low=1, high=10_000) or 20
    queue_dir = Path(config.queue_directory)
    now = time.time()
    names = control_names(queue_dir, prefixes)
    table: dict[str, list[int]] = {}
    totals = [0] * len(BUCKETS)
    with gc_paused():
        for row in scan(queue_dir, names, now=now, min_queue_age=config.min_queue_age):
            bucket = _bucket(now - row["arrival_time"])
            totals[bucket] += 1
            if by == "sender":
                domains = {_domain(row["sender"])}
            else:
                domains = {_domain(x["address"]) for x in row["recipients"]} or {""}
            for domain in domains:
                table.setdefault(domain, [0] * len(BUCKETS))[bucket] += 1
    ranked = sorted(table.items(), key=lambda item: (-sum(item[1]), item[0]))
    shown = [{"domain": d, "total": sum(c), "counts": c} for d, c in ranked[:top]]
    rest = ranked[top:]
    other = [sum(c[i] for _, c in rest) for i in range(len(BUCKETS))]
    return {
        "by": by,
        "buckets": [label for label, _ in BUCKETS],
        "bucket_starts": [start for _, start in BUCKETS],
        "rows": shown,
        "other": {"domains": len(rest), "total": sum(other), "counts": other},
        "total": {"total": sum(totals), "counts": totals},
        "time": int(now),
    }


def _bucket(age: float) -> int:
    index = 0
    for i, (_, start) in enumerate(BUCKETS):
        if age >= start:
            index = i
    return index


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower() if "@" in address else ""
