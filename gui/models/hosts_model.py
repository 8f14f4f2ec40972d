"""The host-status table (``hosts.list``), as Sendmail's ``hoststat`` shows it.

:class:`HostsModel` holds one row per host the delivery agents remember: the host (with
``*`` when a delivery holds its lock), how long ago it was last used as
``DD+HH:MM:SS``, the last result (the reply text, else the system error), the DSN
status code and the delivery agent's exit status by its ``sysexits.h`` name.  Failed
hosts are drawn red.  ``SORT_ROLE`` gives sortable values (seconds for the age), so a
``QSortFilterProxyModel`` sorts and filters it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SYSEXITS = {
    0: "EX_OK",
    64: "EX_USAGE",
    65: "EX_DATAERR",
    66: "EX_NOINPUT",
    67: "EX_NOUSER",
    68: "EX_NOHOST",
    69: "EX_UNAVAILABLE",
    70: "EX_SOFTWARE",
    71: "EX_OSERR",
    72: "EX_OSFILE",
    73: "EX_CANTCREAT",
    74: "EX_IOERR",
    75: "EX_TEMPFAIL",
    76: "EX_PROTOCOL",
    77: "EX_NOPERM",
    78: "EX_CONFIG",
}
HEADERS = ("Host", "Age", "Last result", "Status", "Exit status")
_FAILED = QBrush(QColor(176, 0, 32))


class HostColumn(IntEnum):
    HOST = 0
    AGE = 1
    RESULT = 2
    STATUS = 3
    EXIT = 4


@dataclass(frozen=True)
class HostRow:
    host: str
    age: int
    result: str
    dsn: str
    exit_status: int
    locked: bool
    failed: bool

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> HostRow:
        reply = str(data.get("reply") or "")
        error = str(data.get("error") or "")
        return cls(
            host=str(data.get("host", "")),
            age=int(data.get("age") or 0),
            result=reply or error or ("OK" if not data.get("failed") else ""),
            dsn=str(data.get("dsn") or ""),
            exit_status=int(data.get("exit_status") or 0),
            locked=bool(data.get("locked")),
            failed=bool(data.get("failed")),
        )


def fmt_interval(seconds: int) -> str:
    """``DD+HH:MM:SS`` like Sendmail's ``pintvl`` (no day part under a day)."""
    seconds = max(0, seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days}+" if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"


class HostsModel(QAbstractTableModel):
    """Rows from one ``hosts.list`` answer; ``set_hosts`` replaces them."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[HostRow] = []
        self.stale = False

    def set_hosts(self, hosts: list[Any]) -> None:
        self.beginResetModel()
        self._rows = [HostRow.from_wire(h) for h in hosts if isinstance(h, dict)]
        self.endResetModel()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale and self._rows:
            self.stale = stale
            last = len(self._rows) - 1
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(HEADERS) - 1))
        self.stale = stale

    def row_at(self, row: int) -> HostRow:
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
        column = HostColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            if column == HostColumn.AGE:
                return row.age
            if column == HostColumn.EXIT:
                return row.exit_status
            return self._text(row, column).lower()
        if role == Qt.ItemDataRole.ForegroundRole:
            if self.stale:
                return QBrush(QColor(140, 149, 159))
            if row.failed:
                return _FAILED
        if role == Qt.ItemDataRole.ToolTipRole and column == HostColumn.HOST and row.locked:
            return "* a delivery to this host is in progress (its status file is locked)"
        if role == Qt.ItemDataRole.ToolTipRole and column == HostColumn.RESULT:
            return row.result or None
        return None

    def _text(self, row: HostRow, column: HostColumn) -> str:
        if column == HostColumn.HOST:
            return ("*" if row.locked else "") + row.host
        if column == HostColumn.AGE:
            return fmt_interval(row.age)
        if column == HostColumn.RESULT:
            return row.result
        if column == HostColumn.STATUS:
            return row.dsn
        name = SYSEXITS.get(row.exit_status, "")
        return f"{row.exit_status} {name}".strip()
