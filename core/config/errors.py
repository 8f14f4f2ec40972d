"""The config package's exception tree.

``ConfigError`` is what every caller sees: a refused file, value or ``-O`` override,
always naming the file and line (or ``-O``), the option and the reason, in the form
``{path}:{line}: {option}: {message}``.  ``BadValue`` is internal: a value parser raises
it with just the reason, and the loader adds where the value came from.
"""

from __future__ import annotations

from pathlib import Path

OVERRIDE = "-O"


class ConfigError(Exception):
    """A configuration problem with its place: file and line, or an ``-O`` override.

    ``str()`` is ``"{path}:{line}: {option}: {message}"``; for an override it is
    ``"-O {option}: {message}"``; without a line (a file-level problem, or a value that
    comes from a default) the ``:{line}`` part is left out, and without an option that
    part too.  ``problems`` holds every error found in the same load (this one first).
    """

    def __init__(self, path: Path | str, line: int, option: str, message: str) -> None:
        self.path: Path | str = path if str(path) == OVERRIDE else Path(path)
        self.line = line
        self.option = option
        self.message = message
        self.problems: tuple[ConfigError, ...] = (self,)
        super().__init__(str(self))

    @property
    def is_override(self) -> bool:
        return str(self.path) == OVERRIDE

    def __str__(self) -> str:
        if self.is_override:
            return f"{OVERRIDE} {self.option}: {self.message}"
        where = f"{self.path}:{self.line}" if self.line > 0 else f"{self.path}"
        if self.option:
            return f"{where}: {self.option}: {self.message}"
        return f"{where}: {self.message}"


class BadValue(Exception):
    """Raised by value parsers with the reason only; never escapes the package.

    ``index`` names the list element at fault, so the loader can point at its line.
    """

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
