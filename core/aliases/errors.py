"""The exception tree of :mod:`postroom.core.aliases`.

Every failure of this package is an :class:`AliasError`:

- :class:`AliasFileError`: a text file (aliases, ``:include:``, a makemap source)
  has problems; ``problems`` holds every one with its line, ``str()`` prints
  them as Sendmail does (``<file>: line <n>: <text>``, one per line).  Nothing
  was changed: the previous compiled table stays active.
- :class:`AliasDatabaseError`: a compiled table cannot be read, written or
  locked (the message is one line, ready for the CLI).
- :class:`MapError`: a map lookup or makemap problem outside a text file.

The CLI maps them to sysexits codes (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

from dataclasses import dataclass

EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CANTCREAT = 73
EX_IOERR = 74
EX_TEMPFAIL = 75


@dataclass(frozen=True)
class Problem:
    """One problem in a text file: 1-based ``line`` (0: the file as a whole) and ``text``."""

    line: int
    text: str

    def render(self, path: str) -> str:
        """Sendmail's form: ``<file>: line <n>: <text>`` (or ``<file>: <text>`` for line 0)."""
        if self.line <= 0:
            return f"{path}: {self.text}"
        return f"{path}: line {self.line}: {self.text}"


class AliasError(Exception):
    """Root of this package's exceptions."""

    exit_code = EX_SOFTWARE


class AliasFileError(AliasError):
    """A text file was refused; ``problems`` lists every reason with its line."""

    exit_code = EX_DATAERR

    def __init__(self, path: str, problems: tuple[Problem, ...] | list[Problem]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__("\n".join(p.render(path) for p in self.problems))

    @property
    def lines(self) -> tuple[str, ...]:
        """Each problem as a printable line."""
        return tuple(p.render(self.path) for p in self.problems)


class AliasDatabaseError(AliasError):
    """A compiled table could not be opened, locked, read or written."""

    def __init__(self, message: str, *, exit_code: int = EX_UNAVAILABLE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class MapError(AliasError):
    """A map problem outside a text file (unknown type, unreadable compiled map)."""

    def __init__(self, message: str, *, exit_code: int = EX_CANTCREAT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
