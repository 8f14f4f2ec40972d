"""The reply memory of one vacation user (``vacation.memory``): who was answered, and when.

:class:`MemoryModel` has one row per remembered sender (an address or ``@domain``):
when the last reply went out (local time) and how long ago, or "never answered" for
an exclusion (time 0, as ``vacation -x`` stores it).  A sender in the memory is not
answered again until the interval has passed (never, with interval 0); "forget"
removes the row so the next message gets a reply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Sender", "Last reply", "Ago")


@dataclass(frozen=True)
class MemoryRow:
    sender: str
    time: int
    excluded: bool

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> MemoryRow:
        return cls(
            str(data.get("sender", "")), int(data.get("time") or 0), bool(data.get("excluded"))
        )


def ago(seconds: float) -> str:
    """``3 d 4 h``, ``5 h 2 min``, ``12 min``, ``just now``."""
    s = max(0, int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "just now"


class MemoryModel(QAbstractTableModel):
    """Rows of :class:`MemoryRow`."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[MemoryRow] = []
        self.now = time.time()

    def set_rows(self, rows: list[MemoryRow], now: float | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.now = time.time() if now is None else now
        self.endResetModel()

    def rows(self) -> list[MemoryRow]:
        return list(self._rows)

    def row_at(self, row: int) -> MemoryRow:
        return self._rows[row]

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
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self._rows[index.row()]
        if index.column() == 0:
            return row.sender
        if row.excluded:
            return "never answered (excluded)" if index.column() == 1 else ""
        if index.column() == 1:
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(row.time))
        return ago(self.now - row.time)
