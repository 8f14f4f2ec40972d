"""``queue.run`` ("deliver now") and ``daemon.start``.

``queue.run`` runs the queue once for the given ids (or everything), in this
process, and streams Sendmail's ``-v`` transcript as chunks of lines, so the
GUI shows what happened; the result counts the jobs by how their attempt
ended. ``daemon.start`` starts ``postroom-mta -bd`` with the same configuration.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from typing import Any

from ..deliver import QueueRunner, host_status_store
from ..deliver.job import JobStatus
from ..logging.maillog import MailLog
from ..queue import parse_selection
from ..stats.recorder import StatsRecorder
from .context import Context, Stream
from .daemon_methods import daemon_status
from .params import Params
from .protocol import RpcError


class _ChunkedText(io.StringIO):
    """A text stream whose complete lines go out as RPC chunks."""

    def __init__(self, out: Stream) -> None:
        super().__init__()
        self._out = out
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        if lines:
            self._out.chunk(lines)
        return len(text)

    def flush(self) -> None:
        pass


def queue_run(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_control(config)
    ids = params.queue_ids() if params.has("id") or params.has("ids") else []
    selection = parse_selection([f"-qI{qid}" for qid in ids])
    log = MailLog(config.log_level, config.log_file)
    stats = StatsRecorder(config.status_file, config.time_series_file)
    runner = QueueRunner(
        config,
        log=log,
        host_status=host_status_store(config, log),
        stats=stats,
        verbose=_ChunkedText(out),
    )
    try:
        report = asyncio.run(runner.run_once(selection, ignore_host_status=bool(ids)))
    finally:
        stats.close()
        log.close()
    return {status.value: report.count(status) for status in JobStatus}


def daemon_start(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    status = daemon_status(ctx, params, out)
    if status.get("running"):
        return {**status, "started": False}
    args = [sys.executable, "-m", "postroom.core.cli", "-bd", "-q30m", "-C", str(ctx.config_path)]
    args += [f"-O{o}" for o in ctx.overrides]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RpcError("io_error", f"postroom-mta -bd failed: {done.stderr.strip()}")
    return {"started": True}
