"""The servers ``bench/compare_mta.py`` measures, behind one small interface.

Each server is written into its own private folder, started, asked for its
pid (the root of its process tree, for CPU accounting) and for the number of
messages in its queue, and stopped by pid: Postroom (``postroom-mta -bD``),
Postfix (:mod:`bench.postfix_peer`), Sendmail (:mod:`bench.sendmail_daemon`)
and Postfix's ``smtp-sink`` (stores nothing). Setup failures raise
:class:`bench.postfix_peer.PeerSetupError` with the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Protocol

from postroom.core import __version__

from bench.debpeers import CACHE, postfix_tool
from bench.postfix_peer import PeerSetupError, PostfixPeer
from bench.sendmail_daemon import SendmailDaemon
from tests.support.mta import MtaSetup, RunningMta

NAMES = ("postroom", "postfix", "sendmail", "sink")
LABELS = {"postroom": "Postroom", "postfix": "Postfix", "sendmail": "Sendmail", "sink": "smtp-sink"}
READY_TIMEOUT = 30.0


class Server(Protocol):
    """What the harness needs from each server under test."""

    @property
    def pid(self) -> int: ...

    def write(self) -> None: ...

    def start(self) -> None: ...

    def failure(self) -> str | None: ...

    def queued(self) -> int | None: ...

    def stop(self) -> None: ...


class PostroomServer:
    """``postroom-mta -bD`` with a private configuration: the defaults (LogLevel 9, one
    session worker per CPU, SuperSafe), as ``tests/support/mta.py`` writes it otherwise."""

    def __init__(self, base: Path, port: int, options: dict[str, object]) -> None:
        self.setup = MtaSetup(base, options={"LogLevel": 9, **options})
        self.setup.ports["MTA"] = port
        self.mta: RunningMta | None = None

    def write(self) -> None:
        self.setup.write(listeners={"MTA": ""})

    def start(self) -> None:
        try:
            self.mta = RunningMta(self.setup).start()
        except RuntimeError as exc:
            raise PeerSetupError(f"Postroom did not start: {exc}") from exc

    @property
    def pid(self) -> int:
        assert self.mta is not None and self.mta.proc is not None
        return self.mta.proc.pid

    def failure(self) -> str | None:
        if self.mta is None or self.mta.proc is None or self.mta.proc.poll() is None:
            return None
        return f"postroom-mta exited {self.mta.proc.returncode}: {self.mta.output}"

    def queued(self) -> int:
        return sum(1 for p in self.setup.queue_dir.iterdir() if p.name.startswith("qf"))

    def stop(self) -> None:
        if self.mta is not None:
            self.mta.stop()
            self.mta = None


class SinkServer:
    """Postfix's ``smtp-sink``: answers every command, stores nothing."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def write(self) -> None:
        pass

    def start(self) -> None:
        argv, env = postfix_tool("smtp-sink")
        user = ["-u", "nobody"] if os.geteuid() == 0 else []  # it refuses to run as root
        self.proc = subprocess.Popen(
            [*argv, *user, f"127.0.0.1:{self.port}", "256"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def failure(self) -> str | None:
        if self.proc is None or self.proc.poll() is None:
            return None
        out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
        return f"smtp-sink exited {self.proc.returncode}: {out.strip()}"

    def queued(self) -> None:
        return None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None


def make_server(name: str, base: Path, port: int, options: dict[str, object]) -> Server:
    """A written (not yet started) server of kind ``name`` under ``base``."""
    server: PostroomServer | PostfixPeer | SendmailDaemon | SinkServer
    if name == "postroom":
        server = PostroomServer(base, port, options)
    elif name == "postfix":
        server = PostfixPeer(base, port)
    elif name == "sendmail":
        server = SendmailDaemon(base, port)
    else:
        server = SinkServer(port)
    server.write()
    return server


def wait_ready(server: Server, port: int, label: str) -> None:
    """Poll until the server greets on ``port``; PeerSetupError when it dies or times out."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        failed = server.failure()
        if failed is not None:
            raise PeerSetupError(f"{label} did not start: {failed}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                banner = sock.recv(512)
                sock.sendall(b"QUIT\r\n")
                sock.recv(512)
            if banner.startswith(b"220"):
                return
            last = f"greeting {banner[:80]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise PeerSetupError(
        f"{label} did not answer on 127.0.0.1:{port} within {READY_TIMEOUT:.0f}s ({last})"
    )


def versions() -> str:
    """What is being compared, from the packages in the peer caches."""
    found = [f"Postroom {__version__}"]
    sendmail_debs = Path("/var/cache/postroom-test-peers/sendmail-8.17/debs")
    for name, folder in (("postfix", CACHE / "postfix"), ("sendmail-bin", sendmail_debs)):
        debs = sorted(folder.glob(f"{name}_*.deb")) if folder.exists() else []
        found.append(debs[0].name.removesuffix(".deb") if debs else f"{name} (not fetched yet)")
    return ", ".join(found)
