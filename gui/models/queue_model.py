"""The queue browser's table model: streamed rows in, batched insertion, sorting, merging.

:class:`QueueModel` holds :class:`~.queue_rows.QueueRow` objects and knows nothing of
the RPC: a loader feeds it.  A fresh load (``begin_load()``, ``add_rows()`` per chunk,
``end_load()``) shows the first rows at once and then inserts the rest in batches,
the ``canFetchMore``/``fetchMore`` way -- the view may pull a batch, and a zero-delay
timer drains the rest between events, so 100,000 rows never block the window.  A
refresh (``begin_load(merge=True)``) collects the new list aside and merges it on
``end_load``: rows gone are removed, changed rows updated, new ones appended, so the
selection and scroll position survive a ``queue.changed`` event.  Sorting keeps
persistent indexes (the selection) on their rows; a sort chosen while rows stream in
is applied again when the load ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFontDatabase

from .queue_rows import (
    QueueRow,
    fmt_age,
    fmt_next,
    fmt_recipients,
    fmt_size,
    fmt_time,
)

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the QueueRow itself


class Column(IntEnum):
    ID = 0
    SIZE = 1
    ARRIVED = 2
    AGE = 3
    SENDER = 4
    RECIPIENTS = 5
    STATUS = 6
    TRIES = 7
    NEXT = 8
    HOLD = 9


HEADERS = (
    "Queue ID",
    "Size",
    "Arrived",
    "Age",
    "Sender",
    "Recipients",
    "Status",
    "Tries",
    "Next try",
    "Hold reason",
)
HEADER_TIPS = (
    "Queue id with mailq's mark: * being delivered, ? damaged, - not due yet",
    "Size of the message body (df file)",
    "When the message entered the queue",
    "Time since arrival",
    "Envelope sender",
    "Number of recipients and the first one",
    "Status text of the last delivery attempt",
    "Delivery attempts so far",
    "Earliest next delivery attempt",
    "Why the message is held (quarantined)",
)
_KEYS: dict[Column, Callable[[QueueRow], Any]] = {
    Column.ID: lambda r: r.qid,
    Column.SIZE: lambda r: (r.size, r.qid),
    Column.ARRIVED: lambda r: (r.arrival, r.qid),
    Column.AGE: lambda r: (-r.arrival, r.qid),
    Column.SENDER: lambda r: (r.sender.lower(), r.qid),
    Column.RECIPIENTS: lambda r: (r.recipients[0].lower() if r.recipients else "", r.qid),
    Column.STATUS: lambda r: (r.status_text().lower(), r.qid),
    Column.TRIES: lambda r: (r.attempts, r.qid),
    Column.NEXT: lambda r: (r.next_try if r.next_try is not None else 2**62, r.qid),
    Column.HOLD: lambda r: (r.hold.lower(), r.qid),
}
_RIGHT = {Column.SIZE, Column.TRIES}
_HELD = QBrush(QColor(255, 243, 205))
_ERROR = QBrush(QColor(176, 0, 32))
_DEFERRED = QBrush(QColor(150, 60, 0))
_STALE = QBrush(QColor(140, 149, 159))


class QueueModel(QAbstractTableModel):
    """Rows of the queue; fed by a loader, never by the network directly."""

    loadFinished = Signal()

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        batch_rows: int = 5000,
        first_rows: int = 500,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.batch_rows = batch_rows
        self.first_rows = first_rows
        self.now = clock()
        self.loading = False
        self.stale = False
        self._rows: list[QueueRow] = []
        self._pending: list[QueueRow] = []
        self._pending_at = 0
        self._incoming: list[QueueRow] | None = None
        self._inserting = False
        self._sort: tuple[Column, Qt.SortOrder] | None = None
        self._drain = QTimer(self)
        self._drain.setSingleShot(True)
        self._drain.setInterval(0)
        self._drain.timeout.connect(self._drain_some)
        self._fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    # -- feeding ----------------------------------------------------------------------

    def begin_load(self, *, merge: bool = False) -> None:
        """Start a load: a fresh one empties the model; a merge keeps it until the end."""
        self._drain.stop()
        self._pending, self._pending_at = [], 0
        self.loading = True
        if merge:
            self._incoming = []
            return
        self._incoming = None
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def add_rows(self, rows: Sequence[QueueRow]) -> None:
        if self._incoming is not None:
            self._incoming.extend(rows)
            return
        self._pending.extend(rows)
        if len(self._rows) < self.first_rows:
            self._insert(self.first_rows - len(self._rows))
        if self._pending_at < len(self._pending):
            self._drain.start()

    def end_load(self) -> None:
        """The stream is complete: show everything, apply the sort, emit ``loadFinished``."""
        self.now = self.clock()
        if self._incoming is not None:
            incoming, self._incoming = self._incoming, None
            self._merge(incoming)
        else:
            self._insert(len(self._pending) - self._pending_at)
        self.loading = False
        if self._sort is not None:
            self.sort(*self._sort)
        self.loadFinished.emit()

    def abort_load(self) -> None:
        """The stream broke or was cancelled: keep what arrived and stop loading."""
        self._incoming = None
        self._insert(len(self._pending) - self._pending_at)
        self.loading = False

    def tick(self) -> None:
        """Time moved on: ages, next tries and marks are redrawn."""
        self.now = self.clock()
        if self._rows:
            last = len(self._rows) - 1
            for column in (Column.ID, Column.AGE, Column.NEXT):
                self.dataChanged.emit(self.index(0, column), self.index(last, column))

    def set_stale(self, stale: bool) -> None:
        """Mark the rows as last known data (drawn grey) while the connection is lost."""
        if stale != self.stale:
            self.stale = stale
            if self._rows:
                last = len(self._rows) - 1
                self.dataChanged.emit(self.index(0, 0), self.index(last, len(Column) - 1))

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._pending_at < len(self._pending)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._insert(self.batch_rows)

    def _drain_some(self) -> None:
        self.fetchMore()
        if self._pending_at < len(self._pending):
            self._drain.start()

    def _insert(self, count: int) -> None:
        count = min(count, len(self._pending) - self._pending_at)
        if count <= 0 or self._inserting:
            return  # nothing to do, or asked again by a view while inserting
        self._inserting = True
        try:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + count - 1)
            self._rows.extend(self._pending[self._pending_at : self._pending_at + count])
            self._pending_at += count
            self.endInsertRows()
        finally:
            self._inserting = False
        if self._pending_at >= len(self._pending):
            self._pending, self._pending_at = [], 0

    def _merge(self, incoming: list[QueueRow]) -> None:
        fresh = {row.qid: row for row in incoming}
        index = len(self._rows)
        while index > 0:  # remove vanished rows, range by range, from the end
            index -= 1
            if self._rows[index].qid in fresh:
                continue
            end = index
            while index > 0 and self._rows[index - 1].qid not in fresh:
                index -= 1
            self.beginRemoveRows(QModelIndex(), index, end)
            del self._rows[index : end + 1]
            self.endRemoveRows()
        for i, row in enumerate(self._rows):
            new = fresh.pop(row.qid)
            if new != row:
                self._rows[i] = new
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(Column) - 1))
        if fresh:
            added = [row for row in incoming if row.qid in fresh]
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()

    # -- reading ----------------------------------------------------------------------

    def row_at(self, row: int) -> QueueRow:
        return self._rows[row]

    def rows(self) -> list[QueueRow]:
        return list(self._rows)

    def find(self, qid: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.qid == qid), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(row, column)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and column == Column.ID:
            return self._fixed
        if role == Qt.ItemDataRole.BackgroundRole and row.held:
            return _HELD
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return _STALE
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.STATUS:
            if row.error:
                return _ERROR
            if row.status.lower().startswith("deferred"):
                return _DEFERRED
        return None

    def _text(self, row: QueueRow, column: Column) -> str:
        now = self.now
        if column == Column.ID:
            return f"{row.qid}{row.mark(now)}"
        if column == Column.SIZE:
            return fmt_size(row.size)
        if column == Column.ARRIVED:
            return fmt_time(row.arrival, now)
        if column == Column.AGE:
            return fmt_age(now - row.arrival) if row.arrival else ""
        if column == Column.SENDER:
            return row.sender or "<>"
        if column == Column.RECIPIENTS:
            return fmt_recipients(row.recipients)
        if column == Column.STATUS:
            return row.status_text()
        if column == Column.TRIES:
            return str(row.attempts)
        if column == Column.NEXT:
            return "held" if row.held else fmt_next(row.next_try, now)
        return row.hold

    def _tip(self, row: QueueRow, column: Column) -> str | None:
        if column == Column.RECIPIENTS and len(row.recipients) > 1:
            return "\n".join(row.recipients)
        if column in (Column.STATUS, Column.HOLD, Column.SENDER):
            return self._text(row, column) or None
        return None

    # -- sorting ----------------------------------------------------------------------

    @property
    def sort_key(self) -> tuple[Column, Qt.SortOrder] | None:
        return self._sort

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(Column):
            return
        self._sort = (Column(column), order)
        key = _KEYS[Column(column)]
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        kept = [(id(self._rows[i.row()]), i.column()) for i in old]
        self._rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        if old:
            where = {id(r): n for n, r in enumerate(self._rows)}
            new = [self.index(where[obj], col) for obj, col in kept]
            self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()
