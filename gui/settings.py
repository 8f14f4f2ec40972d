"""What the app remembers between runs: saved servers, window layout, choices.

:class:`Settings` wraps one ``QSettings`` (passed in, so tests use a private file):
saved SSH servers as :class:`ServerProfile` records, widget state blobs (window
geometry, splitter positions, header column widths) by key, and small preferences.
Passwords are never written here: :class:`SecretStore` keeps them in the system keyring
through the ``keyring`` package when it can be imported, and otherwise keeps nothing, so
the app asks for the password on each connection (and remembers it in memory only for
the session's reconnects).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict, dataclass, fields
from types import ModuleType
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

KEYRING_SERVICE = "postroom"
AUTH_METHODS = ("agent", "key", "password")


@dataclass(frozen=True)
class ServerProfile:
    """A saved SSH server (no secrets in it)."""

    name: str
    host: str
    user: str
    port: int = 22
    auth: str = "agent"  # one of AUTH_METHODS
    key_file: str = ""
    remote_command: str = ""  # path of postroom-mta on the host; "" = the usual places
    remote_config: str = ""  # -C on the host; "" = the host's default

    @property
    def key(self) -> str:
        """A stable identity: ``user@host:port``."""
        return f"{self.user}@{self.host}:{self.port}"

    @classmethod
    def from_json(cls, data: object) -> ServerProfile | None:
        """A profile from saved data; None when the data is unusable."""
        if not isinstance(data, dict):
            return None
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        try:
            profile = cls(**values)
            port = int(profile.port)
        except (TypeError, ValueError):
            return None
        if not profile.host or not profile.user or not 0 < port < 65536:
            return None
        if profile.auth not in AUTH_METHODS:
            return None
        return profile


class Settings:
    """Typed access to the app's ``QSettings``."""

    def __init__(self, store: QSettings) -> None:
        self.store = store

    # -- saved servers ----------------------------------------------------------------

    def servers(self) -> list[ServerProfile]:
        raw = self.store.value("connections/servers", "[]")
        try:
            items = json.loads(str(raw))
        except ValueError:
            return []
        if not isinstance(items, list):
            return []
        return [p for p in (ServerProfile.from_json(item) for item in items) if p is not None]

    def save_servers(self, servers: list[ServerProfile]) -> None:
        self.store.setValue("connections/servers", json.dumps([asdict(s) for s in servers]))

    # -- widget state -----------------------------------------------------------------

    def state(self, key: str) -> QByteArray | None:
        value = self.store.value(f"state/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_state(self, key: str, value: QByteArray) -> None:
        self.store.setValue(f"state/{key}", value)

    # -- preferences ------------------------------------------------------------------

    def flag(self, key: str, default: bool) -> bool:
        value = self.store.value(f"prefs/{key}", default)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def set_flag(self, key: str, value: bool) -> None:
        self.store.setValue(f"prefs/{key}", value)

    def text(self, key: str, default: str = "") -> str:
        value = self.store.value(f"prefs/{key}", default)
        return value if isinstance(value, str) else default

    def set_text(self, key: str, value: str) -> None:
        self.store.setValue(f"prefs/{key}", value)

    def sync(self) -> None:
        self.store.sync()


def _keyring() -> ModuleType | None:
    try:
        return importlib.import_module("keyring")
    except Exception:  # not installed, or no usable backend
        return None


class SecretStore:
    """Passwords in the system keyring, or nowhere when there is none."""

    def __init__(self, backend: Any = None, *, use_keyring: bool = True) -> None:
        self.backend = backend if backend is not None else (_keyring() if use_keyring else None)

    @property
    def available(self) -> bool:
        return self.backend is not None

    def get(self, profile: ServerProfile) -> str | None:
        if self.backend is None:
            return None
        try:
            value = self.backend.get_password(KEYRING_SERVICE, profile.key)
        except Exception:
            return None
        return value if isinstance(value, str) else None

    def put(self, profile: ServerProfile, password: str) -> bool:
        """Store the password; False when there is no keyring (nothing is written)."""
        if self.backend is None:
            return False
        try:
            self.backend.set_password(KEYRING_SERVICE, profile.key, password)
        except Exception:
            return False
        return True

    def forget(self, profile: ServerProfile) -> None:
        if self.backend is None:
            return
        try:
            self.backend.delete_password(KEYRING_SERVICE, profile.key)
        except Exception:
            return
