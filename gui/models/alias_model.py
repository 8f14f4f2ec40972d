"""The alias table: one row per alias, what it expands to, and what the server found wrong.

:class:`AliasRow` is one alias as the screen shows it: name, targets (as written,
joined), its first line in the proposed file, whether it is new or changed since the
file was read, and the problems ``aliases.check`` reported for it (worst severity
first).  :class:`AliasTableModel` holds the rows (``set_rows`` swaps them in one reset)
and colours the Check column: red for errors, amber for warnings.  ``SORT_ROLE`` gives
sortable values and ``BLOCK_ROLE`` the row's document block id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2
HEADERS = ("Alias", "Targets", "Line", "Check")
ERROR_COLOR = QColor(176, 0, 32)
WARNING_COLOR = QColor(154, 103, 0)
OK_COLOR = QColor(26, 127, 55)


class AliasColumn(IntEnum):
    NAME = 0
    TARGETS = 1
    LINE = 2
    CHECK = 3


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    text: str

    @classmethod
    def from_wire(cls, data: Any) -> Problem:
        if not isinstance(data, dict):
            return cls("warning", str(data))
        severity = "error" if data.get("severity") == "error" else "warning"
        return cls(severity, str(data.get("text", "")))


def problems_from(items: Any) -> list[Problem]:
    return [Problem.from_wire(p) for p in items] if isinstance(items, list) else []


@dataclass(frozen=True)
class AliasRow:
    block_id: int
    name: str
    targets: str
    line: int
    state: str = ""  # "", "new" or "changed"
    problems: tuple[Problem, ...] = field(default=())
    checked: bool = True

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")

    def check_text(self) -> str:
        if not self.checked:
            return "…"
        parts = []
        if self.errors:
            parts.append(f"{self.errors} error{'s' if self.errors != 1 else ''}")
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' if self.warnings != 1 else ''}")
        text = ", ".join(parts) or "OK"
        return f"{text} · {self.state}" if self.state else text


class AliasTableModel(QAbstractTableModel):
    """Rows of :class:`AliasRow`."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[AliasRow] = []

    def set_rows(self, rows: list[AliasRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[AliasRow]:
        return list(self._rows)

    def row_at(self, row: int) -> AliasRow:
        return self._rows[row]

    def replace_row(self, row: AliasRow) -> bool:
        """Put ``row`` in place of the row with its block id; False when there is none."""
        index = self.row_of(row.block_id)
        if index is None:
            return False
        self._rows[index] = row
        self.dataChanged.emit(self.index(index, 0), self.index(index, len(HEADERS) - 1))
        return True

    def row_of(self, block_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.block_id == block_id), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == BLOCK_ROLE:
            return row.block_id
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.name, row.targets, str(row.line), row.check_text())[column]
        if role == SORT_ROLE:
            return (row.name, row.targets, row.line, (-row.errors, -row.warnings))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == AliasColumn.CHECK and row.problems:
                return "\n".join(f"{p.severity}: {p.text}" for p in row.problems)
            if column == AliasColumn.TARGETS:
                return row.targets
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == AliasColumn.CHECK:
            if row.errors:
                return QBrush(ERROR_COLOR)
            if row.warnings:
                return QBrush(WARNING_COLOR)
            return QBrush(OK_COLOR) if row.checked else None
        if role == Qt.ItemDataRole.FontRole and row.state and column == AliasColumn.NAME:
            font = QFont()
            font.setBold(True)
            return font
        return None
