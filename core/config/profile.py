"""The embedded profile: a complete, private mail setup for a user without root.

Owns where the config lives by default (``default_config_path``: root uses
``/etc/postroom/postroom.toml``, everyone else ``$XDG_DATA_HOME/postroom/postroom.toml``)
and ``ensure_embedded_profile``, which creates on first use, under one folder: the
commented config, the queue (``mqueue`` with ``.hoststat``), statistics file, aliases,
mail spool, log, vacation folder, a self-signed certificate and key, and an
AuthUsersFile whose one user is the login name, with a random password written to
``credentials.txt``.  It is idempotent: existing files are never changed or replaced,
and every new file appears atomically with its final mode (folders 0700, files 0600,
the certificate 0644).
"""

from __future__ import annotations

import os
import pwd
import secrets
from pathlib import Path

from ..policy.auth_users import hash_password
from ..policy.files import atomic_write
from .certs import generate_self_signed
from .errors import ConfigError
from .profile_text import aliases_text, config_text, credentials_text

__all__ = [
    "CONFIG_NAME",
    "default_config_path",
    "embedded_profile_dir",
    "ensure_embedded_profile",
    "generate_self_signed",
]

CONFIG_NAME = "postroom.toml"
SYSTEM_CONFIG = Path("/etc/postroom") / CONFIG_NAME
_DIRS = ("mqueue", "mqueue/.hoststat", "spool", "vacation", "certs")


def embedded_profile_dir() -> Path:
    """``$XDG_DATA_HOME/postroom``, or ``~/.local/share/postroom`` when that is unset."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    root = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return root / "postroom"


def default_config_path(euid: int | None = None) -> Path:
    """The config file used without ``-C``: the system file for root, else the profile's."""
    if (os.geteuid() if euid is None else euid) == 0:
        return SYSTEM_CONFIG
    return embedded_profile_dir() / CONFIG_NAME


def login_name() -> str:
    """The current user's login name; ValueError when it cannot be used in the files."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = os.environ.get("USER", "")
    if not name or any(not c.isprintable() or c.isspace() or c in ':@,"#' for c in name):
        raise ValueError(f"cannot build a profile for the login name {name!r}")
    return name


def _create(path: Path, data: bytes, mode: int) -> bool:
    """Create ``path`` with ``data`` unless it exists; True when this call created it."""
    if path.exists():
        return False
    try:
        atomic_write(path, data, mode, exclusive=True)
    except FileExistsError:
        return False
    return True


def _mkdir(path: Path) -> None:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return
    os.chmod(path, 0o700)


def ensure_embedded_profile(base: Path | None = None) -> Path:
    """Create whatever is missing of the profile under ``base``; return the config's path.

    ``base`` defaults to ``embedded_profile_dir()`` (also for root: the system file is
    never created here).
    """
    base = Path(base) if base is not None else embedded_profile_dir()
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        _mkdir(base)
        for name in _DIRS:
            _mkdir(base / name)
        try:
            user = login_name()
        except ValueError as exc:
            raise ConfigError(base, 0, "", str(exc)) from None
        _create(base / "statistics", b"", 0o600)
        _create(base / "postroom.log", b"", 0o600)
        _create(base / "aliases", aliases_text(user).encode(), 0o600)
        cert, key = base / "certs" / "server.pem", base / "certs" / "server.key"
        if not cert.exists() and not key.exists():
            try:
                generate_self_signed(cert, key, ["localhost", "127.0.0.1"], exclusive=True)
            except FileExistsError:
                pass  # another process made them first
        password = secrets.token_urlsafe(18)
        users = f"# AUTH users: user:scrypt$N$r$p$salt$hash\n{user}:{hash_password(password)}\n"
        if _create(base / "authusers", users.encode(), 0o600):
            _create(base / "credentials.txt", credentials_text(user, password).encode(), 0o600)
        config = base / CONFIG_NAME
        _create(config, config_text(user).encode(), 0o600)
    except OSError as exc:
        where = exc.filename if exc.filename else base
        message = f"cannot create the embedded profile: {exc.strerror or exc}"
        raise ConfigError(where, 0, "", message) from None
    return config
