"""Helpers for the packaging tests: throw-away dpkg roots and running what is installed there.

A throw-away root gets the few folders Debian's base-files would have (``var/spool``,
``var/lib/dpkg``...) and the package is installed with ``dpkg --root ROOT
--force-script-chrootless``: dpkg runs the maintainer scripts on this system with
``DPKG_ROOT=ROOT``, and the scripts keep every path inside ROOT.  ``--force-depends``
because the root holds no other package.  Nothing outside ROOT is touched.

Installed commands are run with the name they are installed under as ``argv[0]`` (what a
shell passes) while the file executed is the one their symbolic links lead to inside
ROOT (an absolute link such as ``/usr/bin/postroom -> /opt/postroom/postroom`` would
otherwise lead out of the root).
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import time
from pathlib import Path, PurePosixPath

PACKAGE = "postroom"
BASE_FOLDERS = (
    "etc",
    "var/spool",
    "var/log",
    "var/lib/dpkg/info",
    "var/lib/dpkg/updates",
    "var/lib/dpkg/triggers",
)
DPKG_TIMEOUT = 300


def make_root(root: Path) -> Path:
    """An empty system root with base-files' folders and an empty dpkg database."""
    for folder in BASE_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in ("status", "available"):
        (root / "var/lib/dpkg" / name).touch()
    (root / "etc/debian_version").write_text("12.0\n")  # base-files' own: /etc is not ours
    return root


def dpkg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``dpkg --root ROOT ...`` with maintainer scripts run outside a chroot; must succeed."""
    done = subprocess.run(
        [
            "dpkg",
            f"--root={root}",
            "--force-script-chrootless",
            "--force-depends",
            "--force-confold",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=DPKG_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"dpkg {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def resolve(root: Path, installed: str) -> Path:
    """The file that ``installed`` (a path as on the target system) leads to, inside ``root``."""
    path = PurePosixPath(installed)
    for _ in range(40):
        inside = root / str(path).lstrip("/")
        if not inside.is_symlink():
            return inside
        target = PurePosixPath(os.readlink(inside))
        path = target if target.is_absolute() else path.parent / target
        path = PurePosixPath(os.path.normpath(str(path)))
    raise AssertionError(f"{installed}: too many levels of symbolic links in {root}")


def run_installed(
    root: Path,
    installed: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``installed`` from ``root`` with ``argv[0] = installed``."""
    return subprocess.run(
        [installed, *args],
        executable=resolve(root, installed),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rooted_config(root: Path, destination: Path, ports: dict[str, int]) -> Path:
    """The packaged /etc/postroom/postroom.toml with every path moved inside ``root``.

    Listeners move to loopback ``ports``, the log to ``ROOT/var/log`` (never the host's
    syslog), mail for other domains to a closed loopback port (never DNS); the snakeoil
    certificate, which the root does not have, is dropped.
    """
    text = (root / "etc/postroom/postroom.toml").read_text()
    replacements = {
        '"/var/': f'"{root}/var/',
        '"/etc/postroom/': f'"{root}/etc/postroom/',
        '"Name=MTA, Port=25"': f'"Name=MTA, Port={ports["MTA"]}, Addr=127.0.0.1"',
        '"Name=MSA, Port=587, M=Ea"': f'"Name=MSA, Port={ports["MSA"]}, Addr=127.0.0.1, M=Ea"',
    }
    for old, new in replacements.items():
        assert old in text, f"the packaged config no longer has {old}"
        text = text.replace(old, new)
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(("ServerCertFile", "ServerKeyFile"))
    ]
    lines += [
        f'LogFile = "{root}/var/log/postroom.log"',
        'HostName = "mail.example.test"',
        f'SmartHost = "[127.0.0.1]:{free_port()}"',
    ]
    destination.write_text("\n".join(lines) + "\n")
    os.chmod(destination, 0o644)
    return destination


class InstalledDaemon:
    """``/usr/sbin/postroom-mta -bD`` from a root; waits for its listeners, stops by pid."""

    def __init__(self, root: Path, config: Path, names: list[str], timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            ["/usr/sbin/postroom-mta", "-bD", "-C", str(config)],
            executable=resolve(root, "/usr/sbin/postroom-mta"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.output: list[str] = []
        self._wait_for(set(names), timeout)

    def _wait_for(self, wanted: set[str], timeout: float) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        pending = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while wanted:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    self.stop()
                    raise AssertionError(f"the installed daemon did not start: {self.output}")
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.stop()
                    raise AssertionError(f"the installed daemon exited: {self.output}")
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode(errors="replace")
                    self.output.append(line)
                    wanted = {n for n in wanted if not line.startswith(f"postroom-mta: {n} ")}

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
