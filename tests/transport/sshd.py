"""A real OpenSSH server on loopback for the SSH transport tests.

``SshServer`` generates a throw-away host key and a client key pair (``ssh-keygen``),
writes an ``sshd_config`` that allows only the loopback address, public keys from its
own ``authorized_keys`` and passwords (checked without PAM, so a wrong one is simply
refused), no forwarding of any kind, and starts ``sshd -D -e`` on a free port.  It is
ready when sshd logs "Server listening" on stderr (no sleeps), and it is stopped by its
pid.  ``kill_sessions`` kills the per-connection sshd processes -- the children of this
server only -- to cut connections as a crash or a network failure would.

Debian's ``openssh-server`` provides ``/usr/sbin/sshd`` (installed by CI); as root,
sshd also needs its privilege-separation folder ``/run/sshd``, created here if missing.
"""

from __future__ import annotations

import getpass
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.support.mta import free_port

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")


class SshdUnavailable(Exception):
    """sshd or ssh-keygen is missing."""


def keygen(path: Path, passphrase: str = "") -> Path:
    """A new ed25519 key pair at ``path`` (and ``path.pub``)."""
    keygen_bin = shutil.which("ssh-keygen")
    if keygen_bin is None:
        raise SshdUnavailable("ssh-keygen is not installed (Debian package openssh-client)")
    subprocess.run(
        [
            keygen_bin,
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "postroom-test",
            "-f",
            str(path),
        ],
        check=True,
    )
    return path


class SshServer:
    def __init__(self, base: Path) -> None:
        if not os.access(SSHD, os.X_OK):
            raise SshdUnavailable(f"{SSHD} is missing (Debian package openssh-server)")
        if os.geteuid() == 0 and not PRIVSEP_DIR.exists():
            PRIVSEP_DIR.mkdir(mode=0o755)
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.host_key = keygen(base / "host_ed25519")
        self.client_key = keygen(base / "client_ed25519")
        self.authorized_keys = base / "authorized_keys"
        self.authorized_keys.write_text((base / "client_ed25519.pub").read_text())
        self.port = free_port()
        self.config = base / "sshd_config"
        self.pid_file = base / "sshd.pid"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: list[str] = []
        self._log_changed = threading.Condition()
        self._pending = b""
        self._drainer: threading.Thread | None = None

    def write_config(self) -> None:
        self.config.write_text(
            f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {self.pid_file}
AuthorizedKeysFile {self.authorized_keys}
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
PermitRootLogin yes
AllowAgentForwarding no
AllowTcpForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
MaxAuthTries 3
LogLevel INFO
"""
        )

    def start(self, timeout: float = 20.0) -> SshServer:
        self.write_config()
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        deadline = time.monotonic() + timeout
        pending = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    self.stop()
                    raise SshdUnavailable(f"sshd did not start: {self.log}")
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.proc.wait()
                    raise SshdUnavailable(f"sshd exited {self.proc.returncode}: {self.log}")
                pending += chunk
                *lines, pending = pending.split(b"\n")
                self.log.extend(line.decode("utf-8", "replace") for line in lines)
                if any("Server listening on 127.0.0.1" in line for line in self.log):
                    break
        self._pending = pending
        self._drainer = threading.Thread(target=self._drain, args=(fd,), daemon=True)
        self._drainer.start()
        return self

    def _drain(self, fd: int) -> None:
        """Keep reading sshd's log (a full pipe would stall it), waking ``wait_for_log``."""
        pending = self._pending
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            with self._log_changed:
                self.log.extend(line.decode("utf-8", "replace") for line in lines)
                self._log_changed.notify_all()

    def wait_for_log(self, *texts: str, start: int = 0, timeout: float = 20.0) -> str:
        """The first log line from index ``start`` on with one of ``texts`` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._log_changed:
            while True:
                for line in self.log[start:]:
                    if any(text in line for text in texts):
                        return line.rstrip()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"sshd never logged {texts!r}: {self.log[start:]}")
                self._log_changed.wait(remaining)

    def session_pids(self) -> list[int]:
        """The sshd processes serving connections: descendants of the listener that are sshd."""
        assert self.proc is not None
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        family = {self.proc.pid}
        changed = True
        while changed:
            changed = False
            for pid, ppid in parents.items():
                if ppid in family and pid not in family:
                    family.add(pid)
                    changed = True
        sessions = []
        for pid in family - {self.proc.pid}:
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            if os.path.basename(exe).startswith("sshd"):
                sessions.append(pid)
        return sessions

    def kill_sessions(self) -> list[int]:
        """SIGKILL every per-connection sshd process of this server; returns their pids."""
        pids = self.session_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        finally:
            if self._drainer is not None:
                self._drainer.join(timeout=20)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
        self.proc = None
