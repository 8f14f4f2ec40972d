"""The policy package's exception tree.

``PolicyError`` is the root: a bad PrivacyOptions name, a bad DaemonPortOptions or
ClientPortOptions string, or a broken AuthUsersFile.  Its text is one line meant for an
administrator: what is wrong and what would be valid.  ``postroom.core.config`` turns it
into a ``ConfigError`` carrying the file, line and option.
"""

from __future__ import annotations

from pathlib import Path


class PolicyError(Exception):
    """A policy value or file was refused; ``str()`` says what is wrong and what is valid."""


class AuthUsersError(PolicyError):
    """The AuthUsersFile is unusable; names the file and, when known, the line."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line > 0:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"
