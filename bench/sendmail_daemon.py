"""Sendmail 8.17 as an SMTP daemon on a loopback port, for side-by-side benchmarks.

Builds on the test peer (:mod:`tests.peers.sendmail`): the binaries come from
Debian's packages unpacked into a private cache, the configuration is
generated from the stock ``cf/`` tree (queue-only delivery, files-only service
switch, private hosts file) and the binary runs in private UTS and mount
namespaces, so no DNS query leaves the machine. :class:`SendmailDaemon` swaps
the generated ``DaemonPortOptions`` for one loopback port, turns ident
lookups off (Postroom and Postfix make none) and runs ``sendmail -bD`` (the
foreground daemon, so the child's pid is the daemon's). Every failure raises
:class:`bench.postfix_peer.PeerSetupError` naming the cause.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from bench.postfix_peer import PeerSetupError
from tests.peers.sendmail import PeerUnavailable, SendmailPeer, ensure_sendmail


class SendmailDaemon:
    """One private Sendmail daemon under ``base`` on 127.0.0.1:``port``."""

    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.port = port
        self.queue = base / "mqueue"
        self.proc: subprocess.Popen[bytes] | None = None
        self.peer: SendmailPeer | None = None

    def write(self) -> None:
        if os.geteuid() != 0:
            raise PeerSetupError("Sendmail's daemon mode needs root; run as root")
        try:
            install = ensure_sendmail()
            self.base.mkdir(parents=True, exist_ok=True)
            self.peer = SendmailPeer(install, self.base, self.queue)
        except PeerUnavailable as exc:
            raise PeerSetupError(f"Sendmail 8.17 is not available: {exc}") from exc
        os.chmod(self.queue, 0o700)
        lines = []
        for line in self.peer.cf.read_text().splitlines():
            if line.startswith("O DaemonPortOptions="):
                # Listen=256: the default backlog of 10 drops SYNs at 50 sessions (1 s retries)
                line = f"O DaemonPortOptions=Name=MTA, Port={self.port}, Addr=127.0.0.1, Listen=256"
            lines.append(line)
        lines.append("O Timeout.ident=0s")
        self.peer.cf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        assert self.peer is not None
        self.proc = subprocess.Popen(
            self.peer.command("-bD"),
            env=self.peer.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def failure(self) -> str | None:
        if self.proc is None or self.proc.poll() is None:
            return None
        out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
        return f"sendmail -bD exited {self.proc.returncode}: {out.strip()}"

    def queued(self) -> int:
        return sum(1 for p in self.queue.iterdir() if p.name.startswith("qf"))

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
