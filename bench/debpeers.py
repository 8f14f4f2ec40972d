"""Real peers from Debian's packages, unpacked into a private cache (never installed).

``unpacked(package)`` downloads a package with ``apt-get download`` and
extracts it with ``dpkg -x`` under ``~/.cache/postroom-peers``, so benchmarks
can run Postfix's tools without installing (and starting) a Postfix.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("POSTROOM_PEER_CACHE", Path.home() / ".cache" / "postroom-peers"))


def unpacked(package: str) -> Path:
    """Root of the extracted package tree (downloaded on first use)."""
    root = CACHE / package
    if (root / ".done").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    debs = list(root.glob("*.deb"))
    if not debs:
        got = subprocess.run(
            ["apt-get", "download", package], cwd=root, capture_output=True, text=True, check=False
        )
        if got.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "download", package], cwd=root, check=True)
        debs = list(root.glob("*.deb"))
    subprocess.run(["dpkg", "-x", str(debs[0]), str(root / "tree")], check=True)
    (root / ".done").write_text("ok\n")
    return root


def postfix_tool(name: str) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment to run ``smtp-source`` or ``smtp-sink``."""
    tree = unpacked("postfix") / "tree"
    env = {**os.environ, "LD_LIBRARY_PATH": str(tree / "usr/lib/postfix")}
    return [str(tree / "usr/sbin" / name)], env
