"""The queue shape (``queue.shape``): recipient domains by age buckets, like qshape.

:class:`ShapeModel` shows one row per domain the server ranked, then the rest summed
as one row and the total; columns are the domain, its total and one per age bucket
(buckets double: 0-5m, 5-10m, 10-20m ...).  :meth:`ShapeModel.cell_filter` says which
list filter a clicked cell stands for: the row's domain (none for the total and the
rest row) and the column's age range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

Index = QModelIndex | QPersistentModelIndex
FIXED_COLUMNS = ("Domain", "Total")


@dataclass(frozen=True)
class ShapeRow:
    label: str
    domain: str | None  # None for the "other" and "total" rows
    total: int
    counts: tuple[int, ...]
    summary: bool = False


@dataclass(frozen=True)
class CellFilter:
    domain: str | None
    min_age: int | None
    max_age: int | None


class ShapeModel(QAbstractTableModel):
    """The shape table; ``set_shape`` replaces it with a new ``queue.shape`` result."""

    def __init__(self) -> None:
        super().__init__()
        self.buckets: list[str] = []
        self.starts: list[int] = []
        self._rows: list[ShapeRow] = []
        self._peak = 0
        self._bold = QFont()
        self._bold.setBold(True)

    def set_shape(self, shape: dict[str, Any]) -> None:
        self.beginResetModel()
        self.buckets = [str(b) for b in shape.get("buckets", [])]
        self.starts = [int(s) for s in shape.get("bucket_starts", [])]
        rows = [
            ShapeRow(
                str(r["domain"]) or "(no domain)",
                str(r["domain"]),
                int(r["total"]),
                tuple(int(c) for c in r["counts"]),
            )
            for r in shape.get("rows", [])
        ]
        other = shape.get("other") or {}
        if other.get("domains"):
            label = f"({other['domains']} more domains)"
            counts = tuple(int(c) for c in other["counts"])
            rows.append(ShapeRow(label, None, int(other["total"]), counts, summary=True))
        total = shape.get("total") or {}
        if total:
            counts = tuple(int(c) for c in total["counts"])
            rows.append(ShapeRow("Total messages", None, int(total["total"]), counts, True))
        self._rows = rows
        self._peak = max((max(r.counts, default=0) for r in rows if not r.summary), default=0)
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def cell_filter(self, index: Index) -> CellFilter | None:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        bucket = index.column() - len(FIXED_COLUMNS)
        if bucket < 0:
            return CellFilter(row.domain, None, None)
        low = self.starts[bucket] if bucket < len(self.starts) else None
        high = self.starts[bucket + 1] if bucket + 1 < len(self.starts) else None
        return CellFilter(row.domain, low or None, high)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self.buckets)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section < len(FIXED_COLUMNS):
            return FIXED_COLUMNS[section]
        bucket = section - len(FIXED_COLUMNS)
        return self.buckets[bucket] if bucket < len(self.buckets) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.label
            value = row.total if column == 1 else row.counts[column - 2]
            return str(value) if value else "·"
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and (row.summary or column == 1):
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and column > 1:
            peak = max(row.counts, default=0) if row.summary else self._peak
            return _heat(row.counts[column - 2], peak)
        if role == Qt.ItemDataRole.ToolTipRole and column > 0:
            return "Click to list these messages"
        return None


def _heat(value: int, peak: int) -> QBrush | None:
    if not value or not peak:
        return None
    strength = value / peak
    return QBrush(QColor(255, int(245 - 90 * strength), int(230 - 150 * strength)))
