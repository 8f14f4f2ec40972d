"""The queue's mutations: ``queue.delete``, ``queue.hold`` and ``queue.release``.

They apply restrictqrun (and need write access to the queue folder), then work in two
steps.  First every job named is checked:
it must exist and no other process may hold its lock; if one is missing the answer is
``not_found``, if one is locked (being delivered) it is ``locked`` naming it, and in
both cases nothing was changed.  Then each job is changed under its own exclusive lock,
atomically: delete removes the control file first (a crash leaves only a data file,
which the start-up sweep removes) then ``df`` and ``xf``; hold and release rewrite
through ``tf`` and a rename (:mod:`postroom.core.queue.hold`).  Should a job be taken
by a queue run between the two steps, it is reported in ``failed`` and the others are
still done: the result is ``{"done": [ids], "failed": [{"id", "code", "message"}]}``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..queue.durable import fsync_dir
from ..queue.errors import JobNotFoundError, QueueError, QueueLockedError
from ..queue.hold import quarantine, release
from ..queue.locks import JobLock
from .context import Context, Stream
from .errors import to_rpc_error
from .params import Params
from .protocol import LOCKED, NOT_FOUND, PERMISSION_DENIED, RpcError
from .rights import caller

MAX_REASON = 1000


def _check(queue_dir: Path, ids: list[str], prefixes: tuple[str, ...]) -> dict[str, Path]:
    """The control file of every job; ``not_found``/``locked`` before anything changes."""
    if not os.access(queue_dir, os.W_OK | os.X_OK):
        raise RpcError(
            PERMISSION_DENIED, f"{caller().name} may not change the queue folder {queue_dir}"
        )
    found: dict[str, Path] = {}
    missing: list[str] = []
    locked: list[str] = []
    for qid in ids:
        path = next(
            (queue_dir / (p + qid) for p in prefixes if os.path.lexists(queue_dir / (p + qid))),
            None,
        )
        if path is None:
            missing.append(qid)
            continue
        try:
            JobLock(path).close()
        except QueueLockedError:
            locked.append(qid)
        except JobNotFoundError:
            missing.append(qid)
        found[qid] = path
    if missing:
        where = "held " if prefixes == ("hf",) else ""
        raise RpcError(
            NOT_FOUND,
            f"no {where}job {missing[0]} in {queue_dir}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + "; nothing was changed",
            {"ids": missing},
        )
    if locked:
        raise RpcError(
            LOCKED,
            f"job {locked[0]} is locked by another process (being delivered)"
            + (f" (and {len(locked) - 1} more)" if len(locked) > 1 else "")
            + "; nothing was changed",
            {"ids": locked},
        )
    return found


def _each(ids: list[str], action: Callable[[str], None]) -> dict[str, Any]:
    done: list[str] = []
    failed: list[dict[str, str]] = []
    for qid in ids:
        try:
            action(qid)
        except (QueueError, OSError, ValueError) as exc:
            err = to_rpc_error(exc)
            failed.append({"id": qid, "code": err.code, "message": err.message})
        else:
            done.append(qid)
    return {"done": done, "failed": failed}


def delete_job(queue_dir: Path, qid: str, control: Path) -> None:
    """Remove one job under its lock: control file, then ``df`` and ``xf``."""
    with JobLock(control):
        os.unlink(control)
        for prefix in ("df", "xf"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(queue_dir / (prefix + qid))


def queue_delete(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_control(config)
    ids = params.queue_ids()
    queue_dir = Path(config.queue_directory)
    found = _check(queue_dir, ids, ("qf", "hf", "Qf"))
    result = _each(ids, lambda qid: delete_job(queue_dir, qid, found[qid]))
    if config.super_safe and result["done"]:
        fsync_dir(queue_dir)
    return result


def queue_hold(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_control(config)
    ids = params.queue_ids()
    reason = params.text("reason", required=True, max_length=MAX_REASON, allow_empty=False)
    assert reason is not None
    queue_dir = Path(config.queue_directory)
    _check(queue_dir, ids, ("qf", "hf"))
    fsync = config.super_safe
    return _each(ids, lambda qid: quarantine(queue_dir, qid, reason, fsync=fsync))


def queue_release(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_control(config)
    ids = params.queue_ids()
    queue_dir = Path(config.queue_directory)
    _check(queue_dir, ids, ("hf",))
    fsync = config.super_safe
    return _each(ids, lambda qid: release(queue_dir, qid, fsync=fsync))
