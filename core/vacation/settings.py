"""Per-user vacation settings, one JSON file per user under ``VacationDirectory``.

:class:`VacationSettings` is what the GUI's editor manages (``vacation.get`` /
``vacation.set``): on/off, subject (``$SUBJECT`` stands for the incoming
subject), message text, interval in seconds (default 7 days; 0 = reply once
per sender; otherwise at least one day, BAD-INPUTS 78), extra addresses the
user receives mail for, exclusions (addresses or ``@domain``) and an optional
start/end (timezone-aware; the end is exclusive).

:func:`load_settings` / :func:`save_settings` / :func:`delete_settings` /
:func:`list_users` work on ``<directory>/<user>.json``; :func:`settings_text` is
the file's exact text for given settings (for a diff before saving).  Every value is
validated on the way in and on the way out (:meth:`VacationSettings.validate`):
no control characters in the subject or addresses (they end up in headers),
bounded sizes, unknown keys refused.  A file is written atomically (temp file,
fsync, rename) with mode 0640; a missing file means "off".
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..policy.files import atomic_write
from .errors import SettingsError

DAY = 86400
DEFAULT_INTERVAL = 7 * DAY
MAX_INTERVAL = 365 * DAY
MAX_SUBJECT = 200
MAX_MESSAGE = 64 * 1024
MAX_ADDRESSES = 50
MAX_EXCLUSIONS = 1000
DEFAULT_SUBJECT = "Out of office: $SUBJECT"
USER_NAME = re.compile(r"[a-z0-9_][a-z0-9._-]{0,63}")
_ADDRESS = re.compile(r"[^\s@<>()\[\]\\,;:\"]{1,64}@[A-Za-z0-9.-]{1,253}")
_DOMAIN = re.compile(r"@[A-Za-z0-9.-]{1,253}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class VacationSettings:
    """One user's built-in vacation responder."""

    enabled: bool = False
    subject: str = DEFAULT_SUBJECT
    message: str = ""
    interval: int = DEFAULT_INTERVAL
    addresses: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    def active(self, now: float) -> bool:
        """On, and ``now`` (epoch seconds) within [start, end)."""
        if not self.enabled:
            return False
        if self.start is not None and now < self.start.timestamp():
            return False
        return self.end is None or now < self.end.timestamp()

    def validate(self) -> VacationSettings:
        """Return ``self`` when every value is acceptable; raise :class:`SettingsError`."""
        if _CONTROL.search(self.subject) or len(self.subject) > MAX_SUBJECT:
            raise SettingsError(
                f"at most {MAX_SUBJECT} characters, no control characters", field="subject"
            )
        body = self.message
        if len(body.encode("utf-8")) > MAX_MESSAGE:
            raise SettingsError(f"at most {MAX_MESSAGE} bytes", field="message")
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", body):
            raise SettingsError("control characters other than tab and newline", field="message")
        if not isinstance(self.interval, int) or isinstance(self.interval, bool):
            raise SettingsError("must be a whole number of seconds", field="interval")
        if self.interval != 0 and not DAY <= self.interval <= MAX_INTERVAL:
            raise SettingsError(
                f"0 (reply once) or between {DAY} and {MAX_INTERVAL} seconds", field="interval"
            )
        if len(self.addresses) > MAX_ADDRESSES:
            raise SettingsError(f"at most {MAX_ADDRESSES}", field="addresses")
        for address in self.addresses:
            if not _ADDRESS.fullmatch(address):
                raise SettingsError(f"{address!r} is not an address", field="addresses")
        if len(self.exclusions) > MAX_EXCLUSIONS:
            raise SettingsError(f"at most {MAX_EXCLUSIONS}", field="exclusions")
        for item in self.exclusions:
            if not (_ADDRESS.fullmatch(item) or _DOMAIN.fullmatch(item)):
                raise SettingsError(
                    f"{item!r} is neither an address nor @domain", field="exclusions"
                )
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise SettingsError("needs a time zone", field=name)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise SettingsError("must be after start", field="end")
        return self

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO 8601 strings)."""
        data = asdict(self)
        data["addresses"] = list(self.addresses)
        data["exclusions"] = list(self.exclusions)
        data["start"] = self.start.isoformat() if self.start else None
        data["end"] = self.end.isoformat() if self.end else None
        return data

    @classmethod
    def from_json(cls, data: object) -> VacationSettings:
        """Build and validate from a dict as :meth:`to_json` writes it (missing keys: defaults)."""
        if not isinstance(data, dict):
            raise SettingsError("settings must be a JSON object")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}", field=unknown[0])
        values: dict[str, Any] = {}
        for key, value in data.items():
            values[key] = _convert(key, value)
        return cls(**values).validate()


def _convert(key: str, value: object) -> object:
    if key == "enabled":
        if not isinstance(value, bool):
            raise SettingsError("must be true or false", field=key)
        return value
    if key in ("subject", "message"):
        if not isinstance(value, str):
            raise SettingsError("must be text", field=key)
        return value.replace("\r\n", "\n") if key == "message" else value
    if key == "interval":
        if not isinstance(value, int) or isinstance(value, bool):
            raise SettingsError("must be a whole number of seconds", field=key)
        return value
    if key in ("addresses", "exclusions"):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError("must be a list of text", field=key)
        return tuple(v.strip() for v in value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError("must be an ISO 8601 date and time", field=key)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise SettingsError(f"{exc}", field=key) from exc


def settings_path(directory: Path, user: str) -> Path:
    """``<directory>/<user>.json``; the name must be a plain lower-case user name."""
    if not USER_NAME.fullmatch(user):
        raise SettingsError(f"{user!r} is not a valid user name", field="user")
    return Path(directory) / f"{user}.json"


def load_settings(directory: Path, user: str) -> VacationSettings:
    """The settings of ``user``; defaults (off) when there is no file."""
    path = settings_path(directory, user)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return VacationSettings()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(str(exc), path=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"line {exc.lineno}: {exc.msg}", path=path) from exc
    try:
        return VacationSettings.from_json(data)
    except SettingsError as exc:
        raise SettingsError(str(exc), field=exc.field, path=path) from exc


def save_settings(directory: Path, user: str, settings: VacationSettings) -> Path:
    """Validate and write ``settings`` for ``user`` atomically; returns the file."""
    path = settings_path(directory, user)
    data = settings_text(settings)
    Path(directory).mkdir(mode=0o750, parents=True, exist_ok=True)
    atomic_write(path, data.encode("utf-8"), 0o640)
    return path


def settings_text(settings: VacationSettings) -> str:
    """The exact text :func:`save_settings` writes for ``settings`` (validated first)."""
    settings.validate()
    return json.dumps(settings.to_json(), indent=2, ensure_ascii=False) + "\n"


def delete_settings(directory: Path, user: str) -> bool:
    """Remove the settings file of ``user``; False when there was none."""
    try:
        os.unlink(settings_path(directory, user))
    except FileNotFoundError:
        return False
    return True


def list_users(directory: Path) -> list[str]:
    """Users that have a settings file, sorted."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n[:-5] for n in names if n.endswith(".json") and USER_NAME.fullmatch(n[:-5]))


def with_changes(settings: VacationSettings, **changes: Any) -> VacationSettings:
    """``settings`` with some fields replaced, validated."""
    return replace(settings, **changes).validate()
