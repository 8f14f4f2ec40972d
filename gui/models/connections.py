"""The connection list: the local embedded profile first, then saved SSH servers.

:class:`ConnectionListModel` is a list model of :class:`ConnectionEntry` records, each
with the live state of its session (set by the window with :meth:`set_state`), shown
as a coloured dot and a second line of text.  The local entry cannot be removed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from postroom.gui.settings import ServerProfile
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

Index = QModelIndex | QPersistentModelIndex
LOCAL_KEY = "local"
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_COLOURS = {
    "connected": QColor(46, 160, 67),
    "connecting": QColor(219, 171, 9),
    "lost": QColor(207, 34, 46),
    "disconnected": QColor(140, 149, 159),
}


@dataclass(frozen=True)
class ConnectionEntry:
    key: str
    title: str
    profile: ServerProfile | None = None  # None for the local connection
    state: str = "disconnected"
    detail: str = ""

    @property
    def local(self) -> bool:
        return self.profile is None


def local_entry(config: str | None) -> ConnectionEntry:
    title = "Local (embedded)" if config is None else "Local"
    return ConnectionEntry(LOCAL_KEY, title)


def server_entry(profile: ServerProfile) -> ConnectionEntry:
    return ConnectionEntry(profile.key, profile.name or profile.host, profile)


def _dot(colour: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(colour)
    painter.setPen(colour.darker(130))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


class ConnectionListModel(QAbstractListModel):
    """Entries in display order; the first is always the local connection."""

    def __init__(self, entries: list[ConnectionEntry]) -> None:
        super().__init__()
        self._entries = list(entries)
        self._icons: dict[str, QIcon] = {}

    def entries(self) -> list[ConnectionEntry]:
        return list(self._entries)

    def entry(self, row: int) -> ConnectionEntry:
        return self._entries[row]

    def row_of(self, key: str) -> int:
        return next((i for i, e in enumerate(self._entries) if e.key == key), -1)

    def add(self, entry: ConnectionEntry) -> int:
        row = len(self._entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.append(entry)
        self.endInsertRows()
        return row

    def replace_entry(self, row: int, entry: ConnectionEntry) -> None:
        self._entries[row] = entry
        self.dataChanged.emit(self.index(row), self.index(row))

    def remove(self, row: int) -> None:
        if row <= 0 or row >= len(self._entries):
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._entries[row]
        self.endRemoveRows()

    def set_state(self, key: str, state: str, detail: str) -> None:
        row = self.row_of(key)
        if row >= 0:
            self.replace_entry(row, replace(self._entries[row], state=state, detail=detail))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            where = "this computer" if entry.local else entry.key
            return f"{entry.title}\n{where} · {entry.state}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.detail or entry.state
        if role == Qt.ItemDataRole.DecorationRole:
            if entry.state not in self._icons:
                self._icons[entry.state] = _dot(_COLOURS.get(entry.state, QColor("gray")))
            return self._icons[entry.state]
        if role == KEY_ROLE:
            return entry.key
        return None
