"""Helpers for the RPC tests: a commented config file, a client on a real server process.

``write_config`` writes a small but complete configuration with comments (so edits can
be checked for keeping them) and loopback listeners.  ``SERVER`` is the command that
starts the RPC server as its own process -- ``python -m postroom.core.control`` until
``postroom-mta --rpc`` is wired into the CLI, after which both run the same code.
``RawServer`` talks raw lines to a server process, for protocol-level tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from postroom.core.control.client import RpcClient
from postroom.gui.transport import LocalTransport

from tests.support.mta import free_port

SERVER = [sys.executable, "-m", "postroom.core.cli", "--rpc"]

CONFIG = """\
# Postroom test configuration: the comments must survive every edit.
HostName = "mail.example.test"  # the greeting name

# The queue, and where the log goes.
QueueDirectory = "mqueue"
LogFile = "maillog"
LogLevel = 9  # Sendmail's default

# Listeners, loopback only.
DaemonPortOptions = [
    "Name=MTA, Port={mta}, Addr=127.0.0.1",
    "Name=MSA, Port={msa}, Addr=127.0.0.1, M=E",
]
PrivacyOptions = ["authwarnings"]  # X-Authentication-Warning headers

Timeout.queuereturn = "5d"
Timeout.command = "5m"
"""


def write_config(base: Path, text: str | None = None) -> Path:
    """A config file in ``base`` (with its queue folder and an empty log); returns its path."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "mqueue").mkdir(mode=0o700, exist_ok=True)
    (base / "maillog").touch()
    path = base / "postroom.toml"
    path.write_text(text if text is not None else CONFIG.format(mta=free_port(), msa=free_port()))
    os.chmod(path, 0o644)
    return path


def connect(config: Path, *, timeout: float = 60.0) -> RpcClient:
    """An ``RpcClient`` on a fresh server process for ``config``."""
    return RpcClient(LocalTransport(config, command=SERVER), timeout=timeout)


class RawServer:
    """A server process spoken to line by line, bypassing the client."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen(
            [*SERVER, "-C", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def line(self) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def reply(self, data: bytes) -> dict[str, Any]:
        self.send(data)
        message: dict[str, Any] = json.loads(self.line())
        return message

    def close(self) -> tuple[bytes, bytes, int]:
        """End stdin; returns (remaining stdout, stderr, exit status)."""
        out, err = self.proc.communicate(timeout=30)
        return out, err, self.proc.returncode
