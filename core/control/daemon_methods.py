"""The daemon as seen from the RPC: ``daemon.status`` and ``daemon.reload``.

The daemon started with ``-bd`` writes its pid to ``<QueueDirectory>/postroom-mta.pid``.
It counts as running when that process exists (``kill(pid, 0)``; a permission error
still means it exists) and, where ``/proc`` tells, its command line mentions
``postroom`` -- so a pid reused by another program after a crash is reported as a
stale pid file, not as a running daemon.  ``traffic_log`` is the file the running
daemon writes its ``-X`` traffic log to (from its command line in ``/proc``, a relative
path taken against its working folder), or None.  ``daemon.reload`` sends SIGHUP, which
makes the daemon re-read its configuration (an invalid one is refused and logged, the
old one stays in force); the kernel decides whether the caller may signal it, and a
refusal is ``permission_denied`` naming the daemon's user.
"""

from __future__ import annotations

import os
import pwd
import signal
from pathlib import Path
from typing import Any

from ..cli import UsageError, parse_args
from ..config.model import Config
from ..policy.ports import format_daemon_port
from ..receive.daemon import pid_file_path
from .context import Context, Stream
from .params import Params
from .protocol import NOT_FOUND, PERMISSION_DENIED, RpcError
from .rights import caller


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 2**22 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"postroom" in handle.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True


def _daemon_args(cmdline: list[str]) -> list[str] | None:
    """The Sendmail-style arguments in a daemon's command line (after the program)."""
    for index, word in enumerate(cmdline):
        if word == "-m" and index + 1 < len(cmdline) and "postroom" in cmdline[index + 1]:
            return cmdline[index + 2 :]
        if os.path.basename(word).startswith("postroom-mta"):
            return cmdline[index + 1 :]
    return None


def traffic_log_path(pid: int) -> str | None:
    """The ``-X`` file of the daemon ``pid``, as an absolute path, or None."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read(65536)
    except OSError:
        return None
    words = [w.decode("utf-8", "surrogateescape") for w in raw.split(b"\0") if w]
    args = _daemon_args(words)
    if args is None:
        return None
    try:
        traffic = parse_args(args).traffic
    except (UsageError, IndexError):
        return None
    if traffic is None or traffic.is_absolute():
        return None if traffic is None else os.path.normpath(traffic)
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None
    return os.path.normpath(os.path.join(cwd, traffic))


def daemon_state(config: Config) -> dict[str, Any]:
    """Whether the daemon runs, its pid, and the listeners the configuration names."""
    pid_file = pid_file_path(config)
    pid = _read_pid(pid_file)
    running = pid is not None and _alive(pid)
    started: float | None = None
    if running:
        try:
            started = pid_file.stat().st_mtime
        except OSError:
            started = None
    return {
        "running": running,
        "pid": pid if running else None,
        "pid_file": str(pid_file),
        "stale_pid_file": pid is not None and not running,
        "started": started,
        "listeners": [format_daemon_port(p) for p in config.daemon_ports],
        "traffic_log": traffic_log_path(pid) if running and pid is not None else None,
    }


def reload_daemon(config: Config) -> int:
    """SIGHUP the running daemon; returns its pid."""
    state = daemon_state(config)
    pid = state["pid"]
    if pid is None:
        raise RpcError(
            NOT_FOUND,
            f"the daemon is not running (no live process in {state['pid_file']})",
            {"pid_file": state["pid_file"]},
        )
    try:
        os.kill(pid, signal.SIGHUP)
    except PermissionError:
        owner = _owner(pid)
        raise RpcError(
            PERMISSION_DENIED,
            f"{caller().name} may not signal the daemon (pid {pid} runs as {owner})",
            {"pid": pid},
        ) from None
    except ProcessLookupError:
        raise RpcError(NOT_FOUND, f"the daemon (pid {pid}) has just exited") from None
    return int(pid)


def _owner(pid: int) -> str:
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return "another user"


def daemon_status(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    return daemon_state(ctx.config())


def daemon_reload(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    pid = reload_daemon(ctx.config())
    return {"signalled": True, "pid": pid}
