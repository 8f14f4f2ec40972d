"""``hosts.list`` and ``hosts.purge``: persistent host status, as ``hoststat``/``purgestat``."""

from __future__ import annotations

import os
import time
from typing import Any

from ..hoststat import HostStatusError, HostStatusStore, errstring, purge, purge_allowed
from .context import Context, Stream
from .params import Params
from .protocol import PERMISSION_DENIED, RpcError


def hosts_list(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    directory = config.host_status_directory
    if not directory.is_dir():
        return {"directory": str(directory), "hosts": [], "exists": False}
    store = HostStatusStore(directory)
    now = time.time()
    hosts = []
    for status, locked in store.iter_all():
        hosts.append(
            {
                "host": status.host,
                "locked": locked,
                "age": max(0, int(now - status.last_use)),
                "last_use": status.last_use,
                "errno": status.errno,
                "error": errstring(status.errno) if status.errno else "",
                "exit_status": status.exit_status,
                "dsn": status.dsn,
                "reply": status.reply,
                "failed": status.exit_status != 0,
            }
        )
    return {"directory": str(directory), "hosts": hosts, "exists": True}


def hosts_purge(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    if not purge_allowed(os.getuid()):
        raise RpcError(PERMISSION_DENIED, "Permission denied (real uid not trusted)")
    everything = params.boolean("all", False)
    timeout = 0.0 if everything else float(config.timeouts["hoststatus"])
    # "all" also takes entries written this very second: look from one second ahead.
    now = time.time() + (1.0 if everything else 0.0)
    directory = config.host_status_directory
    if not directory.is_dir():
        return {"purged": 0}
    try:
        count = purge(directory, timeout=timeout, now=now)
    except (OSError, HostStatusError) as exc:
        raise RpcError("io_error", f"{directory}: {exc}") from exc
    return {"purged": count}
