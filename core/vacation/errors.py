"""The exception tree of :mod:`postroom.core.vacation`.

- :class:`VacationError` -- root.
- :class:`SettingsError` -- a per-user settings file or value was refused;
  ``field`` names the offending setting (``subject``, ``interval`` ...) so the
  GUI can show the message next to it; ``path`` is the file when one was read.
- :class:`ReplyMemoryError` -- the reply database cannot be opened or written.
"""

from __future__ import annotations

from pathlib import Path


class VacationError(Exception):
    """Root of this package's exceptions."""


class SettingsError(VacationError):
    """A vacation setting is invalid (``field``) or a settings file is unreadable (``path``)."""

    def __init__(self, message: str, *, field: str | None = None, path: Path | None = None):
        self.field = field
        self.path = path
        where = f"{path}: " if path is not None else ""
        what = f"{field}: " if field else ""
        super().__init__(f"{where}{what}{message}")


class ReplyMemoryError(VacationError):
    """The reply database cannot be opened, read or written."""
