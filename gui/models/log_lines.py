"""The lines of a log tail, filtered by LogLevel and search, as one list model.

:class:`LogLines` keeps the last ``MAX_LINES`` lines of one log with the level the
server recovered for each (``log.tail``'s ``levels``; None when it did not recognise the
line, and for the traffic log) and shows the ones that pass the filter:

- LogLevel N shows the lines a daemon running at LogLevel N would have written --
  recognised lines of level <= N, plus the unrecognised ones, which are never hidden;
- a search text keeps the lines containing it (case-insensitive).

The filter runs over plain Python lists (50,000 lines in a few milliseconds) rather than
a ``QSortFilterProxyModel`` calling back into Python per row; appending inserts only the
new visible rows and dropping the oldest removes rows at the top, so the view keeps its
place.  Lines are coloured by level: 0-2 (serious failures) red, 3-4 amber, 12 and above
(connections, commands) grey.  ``longest`` (characters) lets a view size its one column
so long lines scroll sideways instead of being cut.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

Index = QModelIndex | QPersistentModelIndex
LEVEL_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_LINES = 50_000
SERIOUS = QBrush(QColor(176, 0, 32))
MINOR = QBrush(QColor(154, 103, 0))
CHATTY = QBrush(QColor(110, 119, 129))

# Sendmail's LogLevel table (SENDMAIL.md 6.1), for the filter's choices.
LEVELS: tuple[tuple[int, str], ...] = (
    (0, "minimal logging"),
    (1, "serious failures, security problems"),
    (2, "lost communications, protocol failures"),
    (3, "other serious failures, bad addresses"),
    (4, "minor failures, refused by check_ rules"),
    (5, "received messages (from= lines)"),
    (6, "error messages created; VRFY, EXPN, ETRN"),
    (7, "delivery failures"),
    (8, "successful deliveries"),
    (9, "deferred messages (Sendmail's default)"),
    (10, "alias, forward and AUTH details"),
    (11, "end-of-job processing"),
    (12, "every SMTP connection"),
    (13, "questionable situations"),
    (14, "refused connections"),
    (15, "every SMTP command"),
    (20, "locked queue files"),
)


class LogLines(QAbstractListModel):
    """Lines of one log, oldest first; rows are the lines that pass the filter."""

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[str] = []
        self._levels: list[int | None] = []
        self._first = 0  # the absolute number of _lines[0]
        self._shown: list[int] = []  # absolute numbers of the visible lines
        self.longest = 0
        self.max_level: int | None = None
        self.search = ""

    # -- what the view reads ------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._shown):
            return None
        at = self._shown[index.row()] - self._first
        if role == Qt.ItemDataRole.DisplayRole:
            return self._lines[at]
        if role == LEVEL_ROLE:
            return self._levels[at]
        if role == Qt.ItemDataRole.ForegroundRole:
            return _colour(self._levels[at])
        if role == Qt.ItemDataRole.ToolTipRole:
            level = self._levels[at]
            return f"LogLevel {level}" if level is not None else "level not recognised"
        return None

    def shown_lines(self) -> list[str]:
        return [self._lines[n - self._first] for n in self._shown]

    def total(self) -> int:
        return len(self._lines)

    # -- filling ------------------------------------------------------------------------

    def clear(self) -> None:
        self.beginResetModel()
        self._first += len(self._lines)
        self._lines, self._levels, self._shown = [], [], []
        self.longest = 0
        self.endResetModel()

    def append(self, lines: list[str], levels: list[int | None]) -> None:
        if not lines:
            return
        levels = (levels + [None] * len(lines))[: len(lines)]
        lines, levels = lines[-MAX_LINES:], levels[-MAX_LINES:]
        self._drop(len(self._lines) + len(lines) - MAX_LINES)
        start = self._first + len(self._lines)
        self._lines.extend(lines)
        self._levels.extend(levels)
        self.longest = max(self.longest, max(len(line) for line in lines))
        new = [start + i for i in range(len(lines)) if self._passes(lines[i], levels[i])]
        if new:
            row = len(self._shown)
            self.beginInsertRows(QModelIndex(), row, row + len(new) - 1)
            self._shown.extend(new)
            self.endInsertRows()

    def _drop(self, count: int) -> None:
        """Forget the ``count`` oldest lines (and their rows, at the top)."""
        if count <= 0:
            return
        limit = self._first + count
        gone = 0
        while gone < len(self._shown) and self._shown[gone] < limit:
            gone += 1
        if gone:
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
            del self._shown[:gone]
            self.endRemoveRows()
        del self._lines[:count]
        del self._levels[:count]
        self._first = limit

    # -- filtering ----------------------------------------------------------------------

    def set_filter(self, max_level: int | None, search: str) -> None:
        """Show the lines at or below ``max_level`` (None: all) that contain ``search``."""
        self.beginResetModel()
        self.max_level = max_level
        self.search = search.lower()
        self._shown = [
            self._first + i
            for i, (line, level) in enumerate(zip(self._lines, self._levels, strict=True))
            if self._passes(line, level)
        ]
        self.endResetModel()

    def _passes(self, line: str, level: int | None) -> bool:
        if self.max_level is not None and level is not None and level > self.max_level:
            return False
        return not self.search or self.search in line.lower()


def _colour(level: int | None) -> QBrush | None:
    if level is None:
        return None
    if level <= 2:
        return SERIOUS
    if level <= 4:
        return MINOR
    if level >= 12:
        return CHATTY
    return None
