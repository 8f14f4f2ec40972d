"""A real ``postroom-mta -bd`` for the settings screens' tests: pid file, reloadable.

``RunningMta`` (tests/support/mta.py) runs ``-bD`` in the foreground, which writes no pid
file, so ``daemon.reload`` over the RPC would find no daemon.  ``BackgroundMta`` starts
``-bd`` for an ``MtaSetup`` (working folder = the setup's base, so a relative ``-X`` file
lands there), waits -- polling with a deadline -- for the pid file and for every
listener to accept a connection, and stops the daemon by its pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.mta import MtaSetup

DEADLINE_S = 20.0


def wait_until(check: Callable[[], object], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


class BackgroundMta:
    """``postroom-mta -bd -C <setup's config> [extra args]``; use as a context manager."""

    def __init__(self, setup: MtaSetup, *extra_args: str) -> None:
        self.setup = setup
        self.extra_args = extra_args
        self.pid: int | None = None

    @property
    def pid_file(self) -> Path:
        return self.setup.queue_dir / "postroom-mta.pid"

    def start(self) -> BackgroundMta:
        args = [sys.executable, "-m", "postroom.core.cli", "-bd", "-C", str(self.setup.config_path)]
        done = subprocess.run(
            [*args, *self.extra_args], cwd=self.setup.base, capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr.decode()
        wait_until(lambda: self.pid_file.exists() and self.pid_file.read_text().strip(), "pid")
        self.pid = int(self.pid_file.read_text())
        for port in self.setup.ports.values():
            wait_until(lambda p=port: answers(p), f"the daemon on port {port}")
        return self

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.pid = None
            return
        pid, self.pid = self.pid, None
        wait_until(lambda: gone(pid), f"daemon {pid} to exit")

    def __enter__(self) -> BackgroundMta:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
