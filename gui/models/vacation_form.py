"""Between the vacation editor's fields and the settings the server stores (``vacation.*``).

:class:`VacationForm` is what the editor's fields hold: on/off, subject, message, the
interval in whole days (0 = reply once), extra addresses and exclusions as text (one
per line or separated by commas), and optional start/end as time-zone-aware
datetimes.  :meth:`VacationForm.to_settings` gives the JSON object ``vacation.set`` and
``vacation.preview`` take; :meth:`VacationForm.from_settings` reads what
``vacation.get`` returns.  Nothing is validated here: the server's
``VacationSettings.validate`` is the one judge, and its ``field`` names which editor
field a refusal belongs to (:data:`FIELDS`).

:class:`UserEntry` is one line of the users list (``vacation.users``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DAY = 86400
DEFAULT_SUBJECT = "Out of office: $SUBJECT"
FIELDS = ("enabled", "subject", "message", "interval", "addresses", "exclusions", "start", "end")
_SPLIT = re.compile(r"[\s,;]+")


def split_list(text: str) -> list[str]:
    """Items separated by new lines, commas, semicolons or spaces; empty ones dropped."""
    return [item for item in _SPLIT.split(text.strip()) if item]


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone()
    except ValueError:
        return None


@dataclass(frozen=True)
class VacationForm:
    """The editor's values."""

    enabled: bool = False
    subject: str = DEFAULT_SUBJECT
    message: str = ""
    days: int = 7
    addresses: str = ""
    exclusions: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def to_settings(self) -> dict[str, Any]:
        """The settings object for ``vacation.set`` / ``vacation.preview``."""
        return {
            "enabled": self.enabled,
            "subject": self.subject,
            "message": self.message,
            "interval": self.days * DAY,
            "addresses": split_list(self.addresses),
            "exclusions": split_list(self.exclusions),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    @classmethod
    def from_settings(cls, data: dict[str, Any]) -> VacationForm:
        """The form for settings as ``vacation.get`` returns them."""
        interval = data.get("interval")
        seconds = interval if isinstance(interval, int) else 7 * DAY
        return cls(
            enabled=bool(data.get("enabled")),
            subject=str(data.get("subject", DEFAULT_SUBJECT)),
            message=str(data.get("message", "")),
            days=round(seconds / DAY),
            addresses="\n".join(str(a) for a in data.get("addresses") or []),
            exclusions="\n".join(str(e) for e in data.get("exclusions") or []),
            start=_date(data.get("start")),
            end=_date(data.get("end")),
        )


@dataclass(frozen=True)
class UserEntry:
    """One user in the list: a settings file (on/off, active now) or just an account."""

    user: str
    has_settings: bool
    enabled: bool = False
    active: bool = False
    error: str = ""

    def label(self) -> str:
        if self.error:
            return f"{self.user} — settings refused"
        if not self.has_settings:
            return f"{self.user} — not set"
        if self.active:
            return f"{self.user} — on, replying now"
        return f"{self.user} — on, outside its dates" if self.enabled else f"{self.user} — off"


def user_entries(result: dict[str, Any]) -> list[UserEntry]:
    """The users list from a ``vacation.users`` answer: settings first, then other accounts."""
    entries = []
    seen = set()
    for row in result.get("users") or []:
        if not isinstance(row, dict):
            continue
        name = str(row.get("user", ""))
        seen.add(name)
        entries.append(
            UserEntry(
                name,
                True,
                bool(row.get("enabled")),
                bool(row.get("active")),
                str(row.get("error") or ""),
            )
        )
    for name in result.get("accounts") or []:
        if str(name) not in seen:
            entries.append(UserEntry(str(name), False))
    return entries
