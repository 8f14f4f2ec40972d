"""The queue browser's table model: streamed rows in, batched insertion, sorting, merging.

:class:`QueueModel` holds field tuples (:data:`~.queue_rows.Fields`; ``row_at`` and
``rows`` name them as :class:`~.queue_rows.QueueRow`) and knows nothing of the RPC: a
loader feeds it.  A fresh load (``begin_load()``, ``add_rows()`` per chunk,
``end_load()``) shows the first rows at once and then inserts the rest in batches,
the ``canFetchMore``/``fetchMore`` way -- the view may pull a batch, and a timer drains
the rest every ``drain_ms``, so 100,000 rows never block the window and the view
repaints a few times a second, not once per chunk.  A
refresh (``begin_load(merge=True)``) collects the new list aside and merges it on
``end_load``: rows gone are removed, changed rows updated, new ones appended, so the
selection and scroll position survive a ``queue.changed`` event.  Sorting builds the
column's key list in one pass (C ``itemgetter``/``str.lower`` where it can), sorts row
numbers on it and keeps persistent indexes (the selection) on their rows; a sort chosen
while rows stream in is applied again when the load ends.  ``data()`` formats only the
cells a view asks for, from the row tuple's slots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from enum import IntEnum
from operator import itemgetter
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
    ARRIVAL,
    ATTEMPTS,
    ERROR,
    HOLD,
    NEXT_TRY,
    QID,
    QUEUE_NAME,
    RECIPIENTS,
    SENDER,
    SIZE,
    STATUS,
    Fields,
    QueueRow,
    as_row,
    fmt_age,
    fmt_next,
    fmt_recipients,
    fmt_size,
    fmt_time,
    mark,
    status_text,
)

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row as a QueueRow


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
_NEVER = 2**62


def _field(number: int) -> Callable[[list[Fields]], list[Any]]:
    pick = itemgetter(number)
    return lambda rows: list(map(pick, rows))


def _lowered(number: int) -> Callable[[list[Fields]], list[Any]]:
    pick = itemgetter(number)
    return lambda rows: list(map(str.lower, map(pick, rows)))


_pick_rcpts, _pick_error, _pick_status = (
    itemgetter(RECIPIENTS),
    itemgetter(ERROR),
    itemgetter(STATUS),
)
_pick_arrival, _pick_next = itemgetter(ARRIVAL), itemgetter(NEXT_TRY)
_KEYS: dict[Column, Callable[[list[Fields]], list[Any]]] = {
    Column.ID: _field(QID),
    Column.SIZE: _field(SIZE),
    Column.ARRIVED: _field(ARRIVAL),
    Column.AGE: lambda rows: [-a for a in map(_pick_arrival, rows)],
    Column.SENDER: _lowered(SENDER),
    Column.RECIPIENTS: lambda rows: [r[0].lower() if r else "" for r in map(_pick_rcpts, rows)],
    Column.STATUS: lambda rows: [
        (e or s).lower()
        for e, s in zip(map(_pick_error, rows), map(_pick_status, rows), strict=True)
    ],
    Column.TRIES: _field(ATTEMPTS),
    Column.NEXT: lambda rows: [_NEVER if n is None else n for n in map(_pick_next, rows)],
    Column.HOLD: _lowered(HOLD),
}
"""Per column, the sort keys of a list of rows, built in one pass (mostly in C)."""
_PLAIN = {
    Column.ID: itemgetter(QID),
    Column.SIZE: itemgetter(SIZE),
    Column.ARRIVED: itemgetter(ARRIVAL),
    Column.TRIES: itemgetter(ATTEMPTS),
}
"""Columns whose key is a field as it is: those rows can be sorted in place."""
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
        batch_rows: int = 25_000,
        first_rows: int = 500,
        drain_ms: int = 100,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.batch_rows = batch_rows
        self.first_rows = first_rows
        self.now = clock()
        self.loading = False
        self.stale = False
        self._rows: list[Fields] = []
        self._pending: list[Fields] = []
        self._pending_at = 0
        self._incoming: list[Fields] | None = None
        self._inserting = False
        self._sort: tuple[Column, Qt.SortOrder] | None = None
        self._drain = QTimer(self)
        self._drain.setSingleShot(True)
        self._drain.setInterval(drain_ms)
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

    def add_rows(self, rows: Sequence[Fields]) -> None:
        """Rows of the stream: the first ones at once, the rest in batches.

        The chunks that arrive within ``drain_ms`` go in together with one
        ``beginInsertRows`` (up to ``batch_rows`` at a time), so the view relayouts and
        repaints a few times a second rather than once per chunk.
        """
        if self._incoming is not None:
            self._incoming.extend(rows)
            return
        self._pending.extend(rows)
        if len(self._rows) < self.first_rows:
            self._insert(self.first_rows - len(self._rows))
        if self._pending_at < len(self._pending) and not self._drain.isActive():
            self._drain.start()

    def end_load(self) -> None:
        """The stream is complete: show everything, apply the sort, emit ``loadFinished``."""
        self._drain.stop()
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
        self._drain.stop()
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
            if self._pending_at == 0 and count == len(self._pending):
                self._rows.extend(self._pending)
            else:
                self._rows.extend(self._pending[self._pending_at : self._pending_at + count])
            self._pending_at += count
            self.endInsertRows()
        finally:
            self._inserting = False
        if self._pending_at >= len(self._pending):
            self._pending, self._pending_at = [], 0

    def _merge(self, incoming: list[Fields]) -> None:
        fresh = {row[QID]: row for row in incoming}
        index = len(self._rows)
        while index > 0:  # remove vanished rows, range by range, from the end
            index -= 1
            if self._rows[index][QID] in fresh:
                continue
            end = index
            while index > 0 and self._rows[index - 1][QID] not in fresh:
                index -= 1
            self.beginRemoveRows(QModelIndex(), index, end)
            del self._rows[index : end + 1]
            self.endRemoveRows()
        last_column = len(Column) - 1
        for i, row in enumerate(self._rows):
            new = fresh.pop(row[QID])
            if new != row:
                self._rows[i] = new
                self.dataChanged.emit(self.index(i, 0), self.index(i, last_column))
        if fresh:
            added = list(fresh.values())
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()

    # -- reading ----------------------------------------------------------------------

    def row_at(self, row: int) -> QueueRow:
        return as_row(self._rows[row])

    def rows(self) -> list[QueueRow]:
        return list(map(as_row, self._rows))

    def ids_at(self, numbers: Sequence[int], *, held_only: bool = False) -> list[str]:
        """The queue ids of these rows (only the held ones with ``held_only``)."""
        rows = self._rows
        if held_only:
            return [rows[n][QID] for n in numbers if rows[n][QUEUE_NAME] == "hold"]
        return [rows[n][QID] for n in numbers]

    def any_held(self, numbers: Sequence[int]) -> bool:
        rows = self._rows
        return any(rows[n][QUEUE_NAME] == "hold" for n in numbers)

    def find(self, qid: str) -> int:
        """The row showing job ``qid``, or -1."""
        for number, row in enumerate(self._rows):
            if row[QID] == qid:
                return number
        return -1

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
        number = index.row()
        if not index.isValid() or number >= len(self._rows):
            return None
        row = self._rows[number]
        column = index.column()
        if role == _DISPLAY:
            return self._text(row, column)
        if role == _TOOLTIP:
            return self._tip(row, column)
        if role == ROW_ROLE:
            return as_row(row)
        if role == _ALIGN and column in _RIGHT:
            return _RIGHT_ALIGNED
        if role == _FONT and column == Column.ID:
            return self._fixed
        if role == _BACKGROUND and row[QUEUE_NAME] == "hold":
            return _HELD
        if role == _FOREGROUND:
            if self.stale:
                return _STALE
            if column == Column.STATUS:
                if row[ERROR]:
                    return _ERROR
                if row[STATUS][:8].lower() == "deferred":
                    return _DEFERRED
        return None

    def _text(self, row: Fields, column: int) -> str:
        now = self.now
        if column == Column.ID:
            return f"{row[QID]}{mark(row, now)}"
        if column == Column.SIZE:
            return fmt_size(row[SIZE])
        if column == Column.ARRIVED:
            return fmt_time(row[ARRIVAL], now)
        if column == Column.AGE:
            return fmt_age(now - row[ARRIVAL]) if row[ARRIVAL] else ""
        if column == Column.SENDER:
            return row[SENDER] or "<>"
        if column == Column.RECIPIENTS:
            return fmt_recipients(row[RECIPIENTS])
        if column == Column.STATUS:
            return status_text(row)
        if column == Column.TRIES:
            return str(row[ATTEMPTS])
        if column == Column.NEXT:
            return "held" if row[QUEUE_NAME] == "hold" else fmt_next(row[NEXT_TRY], now)
        return str(row[HOLD])

    def _tip(self, row: Fields, column: int) -> str | None:
        if column == Column.RECIPIENTS and len(row[RECIPIENTS]) > 1:
            return "\n".join(row[RECIPIENTS])
        if column in (Column.STATUS, Column.HOLD, Column.SENDER):
            return self._text(row, column) or None
        return None

    # -- sorting ----------------------------------------------------------------------

    @property
    def sort_key(self) -> tuple[Column, Qt.SortOrder] | None:
        return self._sort

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort on one column's keys; rows with equal keys keep their order.

        Persistent indexes (the selection, the current row) follow their rows: then the
        row numbers are sorted on the column's key list, built in one pass; without any,
        a plain field sorts the rows in place with a C key.
        """
        if not 0 <= column < len(Column):
            return
        self._sort = (Column(column), order)
        rows = self._rows
        count = len(rows)
        if count < 2:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        plain = _PLAIN.get(Column(column))
        if plain is not None and not old:
            rows.sort(key=plain, reverse=descending)
        else:
            keys = _KEYS[Column(column)](rows)
            moves = sorted(range(count), key=keys.__getitem__, reverse=descending)
            del keys
            self._rows = list(map(rows.__getitem__, moves))
            if old:
                place = [0] * count
                for new_row, old_row in enumerate(moves):
                    place[old_row] = new_row
                index = self.index
                new = [index(place[i.row()], i.column()) for i in old]
                self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
