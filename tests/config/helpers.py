"""Helpers for the config tests: write a real config file with safe permissions."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path


def write_config(
    folder: Path, text: str, *, mode: int = 0o644, name: str = "postroom.toml"
) -> Path:
    """Write ``text`` (dedented) as a config file in ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    os.chmod(path, mode)
    return path


MINIMAL = """\
QueueDirectory = "mqueue"
HostName = "mail.example.test"
"""
