"""The per-mailer counters table (``stats.totals``), laid out as ``mailstats`` prints it.

:class:`MailerStatsModel` has Sendmail's columns -- ``M`` (the mailer number),
``msgsfr``, ``bytes_from``, ``msgsto``, ``bytes_to``, ``msgsrej``, ``msgsdis``,
``msgsqur`` and the mailer's name -- with bytes in kilobytes and a ``K`` as mailstats
writes them, one row per mailer that has counts, then the ``T`` row (totals) and the
``C`` row (connections from, to and rejected, under msgsfr, msgsto and msgsrej).
``SORT_ROLE`` gives numbers; the T and C rows are marked so a view can keep them apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
HEADERS = ("M", "msgsfr", "bytes_from", "msgsto", "bytes_to", "msgsrej", "msgsdis", "msgsqur",
           "Mailer")  # fmt: skip
FIELDS = ("msgsfr", "bytes_from", "msgsto", "bytes_to", "msgsrej", "msgsdis", "msgsqur")
_KBYTES = frozenset({"bytes_from", "bytes_to"})
_STALE = QBrush(QColor(140, 149, 159))


class MailerColumn(IntEnum):
    M = 0
    MSGSFR = 1
    BYTES_FROM = 2
    MSGSTO = 3
    BYTES_TO = 4
    MSGSREJ = 5
    MSGSDIS = 6
    MSGSQUR = 7
    MAILER = 8


@dataclass(frozen=True)
class MailerRow:
    """One line of the report; ``label`` is the mailer number, ``T`` or ``C``."""

    label: str
    values: dict[str, int | None]
    name: str = ""

    @property
    def summary(self) -> bool:
        return self.label in ("T", "C")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rows_from_totals(result: dict[str, Any]) -> list[MailerRow]:
    """The report's rows from a ``stats.totals`` answer."""
    rows = []
    for item in result.get("mailers") or []:
        if isinstance(item, dict):
            values: dict[str, int | None] = {f: _int(item.get(f)) for f in FIELDS}
            rows.append(MailerRow(str(_int(item.get("mailer"))), values, str(item.get("name", ""))))
    total = _dict(result.get("total"))
    rows.append(MailerRow("T", {f: _int(total.get(f)) for f in FIELDS}))
    conn = _dict(result.get("connections"))
    connections: dict[str, int | None] = dict.fromkeys(FIELDS)
    connections.update(
        msgsfr=_int(conn.get("from")),
        msgsto=_int(conn.get("to")),
        msgsrej=_int(conn.get("rejected")),
    )
    rows.append(MailerRow("C", connections))
    return rows


class MailerStatsModel(QAbstractTableModel):
    """Rows from one ``stats.totals`` answer; ``set_totals`` replaces them."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[MailerRow] = []
        self.since: int | None = None
        self.file = ""
        self.stale = False

    def set_totals(self, result: dict[str, Any]) -> None:
        self.beginResetModel()
        self._rows = rows_from_totals(result)
        since = result.get("since")
        self.since = since if isinstance(since, int) and not isinstance(since, bool) else None
        self.file = str(result.get("file") or "")
        self.endResetModel()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale and self._rows:
            self.stale = stale
            last = len(self._rows) - 1
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(HEADERS) - 1))
        self.stale = stale

    def since_text(self) -> str:
        """``Statistics from <ctime>`` as mailstats heads its report."""
        return "" if self.since is None else f"Statistics from {time.ctime(self.since)}"

    def row_at(self, row: int) -> MailerRow:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = MailerColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            if column == MailerColumn.MAILER:
                return row.name
            if column == MailerColumn.M:
                return -1 if row.summary else int(row.label)
            return row.values.get(FIELDS[column - 1]) or 0
        if role == Qt.ItemDataRole.TextAlignmentRole and column != MailerColumn.MAILER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and row.summary:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return _STALE
        return None

    def _text(self, row: MailerRow, column: MailerColumn) -> str:
        if column == MailerColumn.M:
            return row.label
        if column == MailerColumn.MAILER:
            return row.name
        field = FIELDS[column - 1]
        value = row.values.get(field)
        if value is None:
            return ""
        return f"{value:,}K" if field in _KBYTES else f"{value:,}"
