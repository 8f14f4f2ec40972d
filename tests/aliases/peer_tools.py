"""Sendmail's ``makemap`` and ``praliases`` from the cached Sendmail 8.17 peer packages."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from tests.peers.sendmail import TIMEOUT, PeerUnavailable, SendmailInstall, cache_root


def ensure_tool(install: SendmailInstall, name: str) -> Path:
    """``usr/libexec/sendmail/<name>`` copied out once (no setgid bit, so LD_LIBRARY_PATH works)."""
    base = cache_root() / "sendmail-8.17"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        binary = base / "bin" / name
        if not binary.exists():
            source = base / "root" / "usr/libexec/sendmail" / name
            if not source.exists():
                raise PeerUnavailable(f"no {name} in the Sendmail packages ({source})")
            temp = binary.with_name(f"{name}.tmp")
            shutil.copyfile(source, temp)
            temp.chmod(0o755)
            temp.rename(binary)
        return binary


def run_tool(
    install: SendmailInstall, name: str, args: list[str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run the real tool with the peer's libraries."""
    return subprocess.run(
        [str(ensure_tool(install, name)), *args],
        input=stdin,
        capture_output=True,
        env={"LD_LIBRARY_PATH": str(install.lib_dir), "PATH": "/usr/bin:/bin"},
        timeout=TIMEOUT,
        check=False,
    )
