"""Known host keys: reading OpenSSH ``known_hosts`` files tolerantly, saving accepted keys.

``load_known_hosts(paths, into)`` merges the user's ``~/.ssh/known_hosts`` and Postroom's own
file into one paramiko ``HostKeys``.  Hashed ``|1|`` names work; a line that cannot be
read (bad base64, an unknown key type, a marker line such as ``@revoked`` or
``@cert-authority``, which paramiko does not implement) is skipped and reported in
``warnings`` with its file and line -- the valid entries are still used, and nothing
falls back to accepting keys automatically.  Names follow OpenSSH: ``host`` on port 22,
``[host]:port`` otherwise (:func:`host_key_name`).

``save_host_key`` appends one accepted key to Postroom's own file (never to
``~/.ssh/known_hosts``), writing a complete new file (mode 0600, folder 0700) and
renaming it into place, so a crash leaves the old file or the new one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paramiko  # type: ignore[import-untyped]
from paramiko.hostkeys import HostKeyEntry  # type: ignore[import-untyped]


def host_key_name(host: str, port: int) -> str:
    """The name a known_hosts file uses for ``host`` on ``port``."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key."""
    return str(key.fingerprint)


@dataclass
class KnownHosts:
    keys: paramiko.HostKeys
    warnings: list[str] = field(default_factory=list)

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        found = self.keys.lookup(name)
        return dict(found) if found is not None else {}


def _read_lines(path: Path, warnings: list[str]) -> list[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        warnings.append(f"{path}: cannot read ({exc.strerror}); its keys are not used")
        return []
    return data.decode("utf-8", "replace").splitlines()


def load_known_hosts(paths: Sequence[Path], into: paramiko.HostKeys | None = None) -> KnownHosts:
    """Every valid key in ``paths`` (missing files are fine), with warnings for the rest.

    The keys are added to ``into`` when given (an ``SSHClient``'s ``get_host_keys()``).
    """
    result = KnownHosts(into if into is not None else paramiko.HostKeys())
    for path in paths:
        for number, raw in enumerate(_read_lines(path, result.warnings), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{path}:{number}"
            if line.startswith("@"):
                marker = line.split(None, 1)[0]
                result.warnings.append(f"{where}: {marker} lines are not supported; ignored")
                continue
            try:
                entry = HostKeyEntry.from_line(line, number)
            except Exception as exc:
                result.warnings.append(f"{where}: unreadable entry ({exc}); ignored")
                continue
            if entry is None or entry.key is None:
                result.warnings.append(f"{where}: unsupported key type or malformed line; ignored")
                continue
            for name in entry.hostnames:
                result.keys.add(name, entry.key.get_name(), entry.key)
    return result


def save_host_key(path: Path, name: str, key: paramiko.PKey) -> None:
    """Add ``name``'s ``key`` to the known-hosts file ``path`` atomically (mode 0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    line = f"{name} {key.get_name()} {key.get_base64()}\n".encode()
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            view = memoryview(old + line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
