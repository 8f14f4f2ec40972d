"""Run the real ``postroom-mta`` on loopback with a private spool, for tests and benchmarks.

``MtaSetup`` writes a complete configuration (queue, log, TLS certificate,
AUTH users) under a temporary directory; ``RunningMta`` starts ``-bD`` as a
child process, waits until it announces every listener on stdout (no sleeps),
and stops it by pid.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from postroom.core.config.profile import generate_self_signed
from postroom.core.policy.auth_users import add_user

AUTH_USER = "alice"
AUTH_PASSWORD = "s3cret-Passw0rd"
HOST_NAME = "mail.example.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@dataclass
class MtaSetup:
    """A private configuration directory for one MTA under test."""

    base: Path
    options: dict[str, object] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    closed_port: int = field(default_factory=free_port)  # nothing listens here

    @property
    def config_path(self) -> Path:
        return self.base / "postroom.toml"

    @property
    def queue_dir(self) -> Path:
        return self.base / "mqueue"

    @property
    def spool_dir(self) -> Path:
        return self.base / "spool"

    @property
    def log_file(self) -> Path:
        return self.base / "maillog"

    def write(self, listeners: dict[str, str] | None = None) -> Path:
        """Write the config; ``listeners`` maps a name to its extra DaemonPortOptions text."""
        self.base.mkdir(parents=True, exist_ok=True)
        self.queue_dir.mkdir(mode=0o700, exist_ok=True)
        self.spool_dir.mkdir(mode=0o755, exist_ok=True)
        certs = self.base / "certs"
        certs.mkdir(exist_ok=True)
        cert, key = certs / "server.pem", certs / "server.key"
        if not cert.exists():
            generate_self_signed(cert, key, ["localhost", "127.0.0.1"])
        users = self.base / "authusers"
        if not users.exists():
            add_user(users, AUTH_USER, AUTH_PASSWORD)
        stats = self.base / "statistics"
        if not stats.exists():
            stats.touch()  # Sendmail counts only into a file that exists
        listeners = listeners if listeners is not None else {"MTA": "", "MSA": "M=Ea"}
        daemon_ports = []
        for name, extra in listeners.items():
            port = self.ports.setdefault(name, free_port())
            text = f"Name={name}, Port={port}, Addr=127.0.0.1"
            daemon_ports.append(f"{text}, {extra}" if extra else text)
        values: dict[str, object] = {
            "QueueDirectory": str(self.queue_dir),
            "LogFile": str(self.log_file),
            "LogLevel": 15,
            "HostName": HOST_NAME,
            "LocalDomains": [HOST_NAME, "example.test"],
            "LocalUsers": ["alice", "bob", "root"],
            "RelayFrom": ["127.0.0.2/32"],
            "DaemonPortOptions": daemon_ports,
            "ServerCertFile": str(cert),
            "ServerKeyFile": str(key),
            "AuthUsersFile": str(users),
            "PrivacyOptions": ["authwarnings"],
            "StatusFile": str(stats),
            "TimeSeriesFile": str(self.base / "timeseries"),
            "MailSpoolDirectory": str(self.spool_dir),
            # Loopback only, DNS included: mail for other domains goes to a closed local
            # port (deferred) unless a test names its own SmartHost; never an MX lookup.
            "SmartHost": f"[127.0.0.1]:{self.closed_port}",
        }
        values.update(self.options)
        lines = ["# written by tests/support/mta.py"]
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items() if v is not None]
        self.config_path.write_text("\n".join(lines) + "\n")
        os.chmod(self.config_path, 0o644)
        return self.config_path


class RunningMta:
    """A ``postroom-mta -bD`` child process; use as a context manager."""

    def __init__(self, setup: MtaSetup, *extra_args: str, timeout: float = 20.0) -> None:
        self.setup = setup
        self.args = [
            sys.executable,
            "-m",
            "postroom.core.cli",
            "-bD",
            "-C",
            str(setup.config_path),
            *extra_args,
        ]
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.output: list[str] = []

    def start(self) -> RunningMta:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        wanted = set(self.setup.ports)
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + self.timeout
        pending = b""
        while wanted:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                self.stop()
                raise RuntimeError(f"daemon did not start: {self.output}")
            chunk = os.read(fd, 65536)
            if not chunk:
                self.proc.wait()
                raise RuntimeError(f"daemon exited {self.proc.returncode}: {self.output}")
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode()
                self.output.append(line)
                for name in list(wanted):
                    if line.startswith(f"postroom-mta: {name} listening"):
                        wanted.discard(name)
        sel.close()
        return self

    def port(self, name: str = "MTA") -> int:
        return self.setup.ports[name]

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=20)
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        return code

    def __enter__(self) -> RunningMta:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
