"""The Queue screen: filter bar, actions, the table with its detail pane, the shape view.

It wires the pieces together: :class:`~postroom.gui.models.queue_loader.QueueLoader`
feeds the :class:`~postroom.gui.models.queue_model.QueueModel`; the selection drives the
detail pane (``queue.show``) and the actions (:mod:`.queue_actions`); ``queue.changed``
events refresh the list in place (debounced; deferred while the screen is hidden); a
lost connection greys the table and marks it stale until the session is back.  A load
that takes longer than 300 ms shows progress and a Cancel button.
"""

from __future__ import annotations

import time
from typing import Any

from postroom.gui.models.queue_loader import QueueLoader
from postroom.gui.models.queue_model import Column, QueueModel
from postroom.gui.models.session import Session
from postroom.gui.models.shape_model import CellFilter
from postroom.gui.qt_client import ConnectionState, Request
from postroom.gui.settings import Settings
from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .queue_actions import QueueActions
from .queue_detail import QueueDetail
from .queue_filter_bar import QueueFilterBar
from .queue_shape import ShapeView

WIDTHS = {
    Column.ID: 126,
    Column.SIZE: 60,
    Column.ARRIVED: 116,
    Column.AGE: 56,
    Column.SENDER: 160,
    Column.RECIPIENTS: 200,
    Column.STATUS: 250,
    Column.TRIES: 42,
    Column.NEXT: 62,
    Column.HOLD: 120,
}
REFRESH_DEBOUNCE_MS = 700
BUSY_AFTER_MS = 300


class QueueScreen(QWidget):
    """The queue browser of one connection."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.model = QueueModel()
        self.loader = QueueLoader(session.request, self.model)
        self.filter_bar = QueueFilterBar()
        self.table = self._make_table()
        self.detail = QueueDetail()
        self.shape = ShapeView(session)
        self.ops = QueueActions(session, settings, self, self.detail.log_delivery)
        self.status = QLabel("")
        self.status.setStyleSheet("color: #57606a;")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.cancel = QPushButton("Cancel")
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.table)
        self.split.addWidget(self.detail)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.split)
        self.pages.addWidget(self.shape)
        self.buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter_bar)
        layout.addLayout(self._make_toolbar())
        layout.addWidget(self.pages, 1)
        self._dirty = False
        self._detail_req: Request | None = None
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._refresh.timeout.connect(self._refresh_now)
        self._busy = QTimer(self, singleShot=True, interval=BUSY_AFTER_MS)
        self._busy.timeout.connect(self._show_busy)
        self._show_detail = QTimer(self, singleShot=True, interval=120)
        self._show_detail.timeout.connect(self._load_detail)
        self._ages = QTimer(self, interval=30_000)
        self._ages.timeout.connect(self.model.tick)
        self._ages.start()
        self._wire()
        self._set_busy(False)
        self._update_actions()

    # -- construction -----------------------------------------------------------------

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("queueTable")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        vertical = table.verticalHeader()
        vertical.hide()
        vertical.setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        for column, width in WIDTHS.items():
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        header.setSortIndicator(Column.ARRIVED, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        return table

    def _make_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.list_toggle = QPushButton("List")
        self.shape_toggle = QPushButton("Shape")
        for i, button in enumerate((self.list_toggle, self.shape_toggle)):
            button.setCheckable(True)
            button.setAutoExclusive(True)
            button.clicked.connect(lambda _c=False, page=i: self.show_page(page))
            row.addWidget(button)
        self.list_toggle.setChecked(True)
        row.addSpacing(12)
        specs = (
            ("deliver", "Deliver now", "Ctrl+D", lambda: self.ops.deliver(self.selected_ids())),
            ("hold", "Hold…", "Ctrl+H", lambda: self.ops.hold(self.selected_ids())),
            ("release", "Release", "Ctrl+R", lambda: self.ops.release(self.held_ids())),
            ("delete", "Delete", "Del", lambda: self.ops.delete(self.selected_ids())),
            ("export", "Export .eml", "Ctrl+E", lambda: self.ops.export(self.selected_ids())),
            ("all", "Select all matching", "Ctrl+A", self.table.selectAll),
            ("refresh", "Refresh", "F5", self.reload),
        )
        for key, label, shortcut, slot in specs:
            button = QPushButton(label)
            button.setToolTip(f"{label.rstrip('…')} ({shortcut})")
            button.clicked.connect(slot)
            action = QAction(label, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            self.buttons[key] = button
            row.addWidget(button)
            if key == "export":
                row.addSpacing(12)
        find = QAction("Find", self)
        find.setShortcut(QKeySequence("Ctrl+F"))
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self.focus_filter)
        self.addAction(find)
        row.addStretch(1)
        row.addWidget(self.status)
        row.addWidget(self.progress)
        row.addWidget(self.cancel)
        return row

    def _wire(self) -> None:
        self.filter_bar.filterChanged.connect(self._on_filter)
        self.cancel.clicked.connect(self._cancel_load)
        self.loader.started.connect(lambda: self._set_busy(True))
        self.loader.progress.connect(lambda n: self._show_status(f"loading… {n:,} rows"))
        self.loader.finished.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._on_selection)
        selection.currentRowChanged.connect(lambda _c, _p: self._show_detail.start())
        self.model.modelReset.connect(self._on_reset)
        self.ops.message.connect(self._show_status)
        self.ops.queueEdited.connect(self.reload_in_place)
        self.shape.cellChosen.connect(self._on_shape_cell)
        self.session.queueChanged.connect(self._on_queue_changed)
        self.session.connectedAgain.connect(self._on_connected)
        self.session.changed.connect(self._on_session)

    # -- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        if self.session.connected:
            self.loader.load()
            if self.pages.currentIndex() == 1:
                self.shape.refresh()

    def reload_in_place(self) -> None:
        if self.session.connected:
            self.loader.load(merge=self.model.rowCount() > 0)
            self.shape.refresh()

    def _refresh_now(self) -> None:
        if self.loader.busy or not self.isVisible():
            self._dirty = True
            return
        self.reload_in_place()

    def _on_queue_changed(self, _data: Any) -> None:
        self._refresh.start()

    def _on_connected(self) -> None:
        self.model.set_stale(False)
        if self.model.rowCount() == 0 and not self.loader.busy:
            self.reload()
        else:
            self.reload_in_place()

    def _on_session(self) -> None:
        if self.session.state == ConnectionState.LOST:
            self.loader.cancel()
            self.model.set_stale(True)
            when = self.loader.fetched_at
            fetched = time.strftime("%H:%M:%S", time.localtime(when)) if when else "never"
            self._show_status(f"stale — connection lost; data fetched {fetched}")
            self.shape.mark_stale(True)
        self._update_actions()

    def _on_filter(self, _new: object) -> None:
        self.loader.set_filter(self.filter_bar.current)
        self.reload()

    def _on_loaded(self, summary: Any) -> None:
        self._set_busy(False)
        shown = self.model.rowCount()
        matched = summary.get("matched", shown) if isinstance(summary, dict) else shown
        extra = f" of {matched:,} matched by the server" if matched != shown else ""
        self._show_status(f"{shown:,} messages{extra} · fetched {time.strftime('%H:%M:%S')}")
        if self._dirty:
            self._dirty = False
            self._refresh.start()

    def _on_load_failed(self, error: Any) -> None:
        self._set_busy(False)
        self._show_status(f"queue.list failed: {error}")

    def _cancel_load(self) -> None:
        self.loader.cancel()
        self._set_busy(False)
        self._show_status(f"cancelled — {self.model.rowCount():,} rows shown")

    def _set_busy(self, busy: bool) -> None:
        if busy:
            self._busy.start()
        else:
            self._busy.stop()
            self.progress.hide()
            self.cancel.hide()

    def _show_busy(self) -> None:
        if self.loader.busy:
            self.progress.show()
            self.cancel.show()

    def _show_status(self, text: str) -> None:
        self.status.setText(text)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty and not self.loader.busy:
            self._dirty = False
            self._refresh.start()

    # -- selection, detail, actions ---------------------------------------------------

    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.row_at(r).qid for r in rows]

    def held_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.row_at(r).qid for r in rows if self.model.row_at(r).held]

    def _on_selection(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self._update_actions()

    def _on_reset(self) -> None:
        self._update_actions()
        self.detail.clear_job("Select a message to see it here.")

    def _update_actions(self) -> None:
        live = self.session.connected
        count = len(self.table.selectionModel().selectedRows())
        for key in ("hold", "delete", "export"):
            self.buttons[key].setEnabled(live and count > 0)
        self.buttons["release"].setEnabled(live and bool(self.held_ids()))
        self.buttons["deliver"].setEnabled(live)
        self.buttons["refresh"].setEnabled(live)
        self.buttons["deliver"].setText(f"Deliver {count} now" if count else "Deliver all now")

    def _load_detail(self) -> None:
        if self._detail_req is not None:
            self._detail_req.cancel()
        index = self.table.currentIndex()
        if not index.isValid():
            self.detail.clear_job("Select a message to see it here.")
            return
        qid = self.model.row_at(index.row()).qid
        req = self.session.request("queue.show", {"id": qid}, timeout=30.0)
        self._detail_req = req
        req.finished.connect(self.detail.show_job)
        req.failed.connect(lambda error: self.detail.show_error(f"{qid}: {error}"))

    # -- views ------------------------------------------------------------------------

    def show_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        (self.list_toggle if page == 0 else self.shape_toggle).setChecked(True)
        if page == 1:
            self.shape.refresh()

    def _on_shape_cell(self, cell: CellFilter) -> None:
        fields = dict.fromkeys(self.filter_bar.edits, "")
        if cell.domain:
            if self.shape.by_sender():
                fields["sender"] = f"@{cell.domain}"
            else:
                fields["domain"] = cell.domain
        ages = []
        if cell.min_age:
            ages.append(f">{cell.min_age}s")
        if cell.max_age:
            ages.append(f"<{cell.max_age}s")
        fields["age"] = " ".join(ages)
        self.show_page(0)
        self.filter_bar.set_fields(fields)

    def restore_state(self) -> None:
        header = self.settings.state("queue/header")
        if header is not None:
            self.table.horizontalHeader().restoreState(header)
        split = self.settings.state("queue/splitter")
        if split is not None:
            self.split.restoreState(split)

    def save_state(self) -> None:
        self.settings.save_state("queue/header", self.table.horizontalHeader().saveState())
        self.settings.save_state("queue/splitter", self.split.saveState())

    def focus_filter(self) -> None:
        self.filter_bar.edits["sender"].setFocus()

    def current_index(self) -> QModelIndex:
        return self.table.currentIndex()
