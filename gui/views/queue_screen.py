"""The Queue screen: filter bar, actions, the table with its detail pane, the shape view.

It wires the pieces together: :class:`~postroom.gui.models.queue_loader.QueueLoader`
feeds the :class:`~postroom.gui.models.queue_model.QueueModel`; the selection drives the
detail pane (``queue.show``) and the actions (:mod:`.queue_actions`); ``queue.changed``
events refresh the list in place (debounced; deferred while the screen is hidden); a
lost connection greys the table and marks it stale until the session is back.  A load
that takes longer than 300 ms shows progress and a Cancel button.

Keyboard: arrows move the selection (the detail pane follows), Enter opens the current
job in the detail pane (shown if it was collapsed, focused; Esc goes back to the list),
Del deletes (after a confirmation the user can turn off, and on again from the list's
context menu), Ctrl+A selects every message the filter matches, Ctrl+F goes to the
filter bar, F5 reloads; each action button names its key in its tooltip.
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
from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .queue_actions import CONFIRM_DELETE, QueueActions
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
PROGRESS_EVERY_S = 0.2


class QueueScreen(QWidget):
    """The queue browser of one connection."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.model = QueueModel()
        self.loader = QueueLoader(session.request, self.model, server_info=lambda: session.info)
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
        self.actions_by_key: dict[str, QAction] = {}
        self.confirm_delete = QAction("Ask before deleting", self)
        self.confirm_delete.setCheckable(True)
        self.confirm_delete.setToolTip("Ask for confirmation before messages are deleted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter_bar)
        layout.addLayout(self._make_toolbar())
        layout.addWidget(self.pages, 1)
        self._dirty = False
        self._detail_req: Request | None = None
        self._detail_qid = ""
        self._progress_shown = 0.0
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
            ("delete", "Delete", "Del", self.delete_selected),
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
            self.actions_by_key[key] = action
            self.buttons[key] = button
            row.addWidget(button)
            if key == "export":
                row.addSpacing(12)
        find = QAction("Find", self)
        find.setShortcut(QKeySequence("Ctrl+F"))
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self.focus_filter)
        self.addAction(find)
        back = QAction("Back to the list", self.detail)
        back.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        back.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back.triggered.connect(self.table.setFocus)
        self.detail.addAction(back)
        row.addStretch(1)
        row.addWidget(self.status)
        row.addWidget(self.progress)
        row.addWidget(self.cancel)
        return row

    def _wire(self) -> None:
        self.filter_bar.filterChanged.connect(self._on_filter)
        self.cancel.clicked.connect(self._cancel_load)
        self.loader.started.connect(self._on_load_started)  # bound slots, not lambdas: a
        # lambda holding self in a connection keeps the whole screen alive
        self.loader.progress.connect(self._on_progress)
        self.loader.finished.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._on_selection)
        selection.currentRowChanged.connect(self._on_current_row)
        self.table.activated.connect(self.open_detail)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.confirm_delete.setChecked(self.settings.flag(CONFIRM_DELETE, True))
        self.confirm_delete.toggled.connect(self._on_confirm_toggled)
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

    def _on_load_started(self) -> None:
        self._set_busy(True)

    def _on_progress(self, received: int) -> None:
        now = time.monotonic()
        if now - self._progress_shown >= PROGRESS_EVERY_S:  # not a relayout per chunk
            self._progress_shown = now
            self._show_status(f"loading… {received:,} rows")

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

    def selected_rows(self) -> list[int]:
        """The selected row numbers, in order, read from the selection's ranges.

        Cheap even when Ctrl+A selected 100,000 rows (``selectedRows()`` would build an
        index object per row).
        """
        numbers: set[int] = set()
        selection = self.table.selectionModel().selection()
        for number in range(selection.count()):
            part = selection.at(number)
            numbers.update(range(part.top(), part.bottom() + 1))
        return sorted(numbers)

    def selected_ids(self) -> list[str]:
        return self.model.ids_at(self.selected_rows())

    def held_ids(self) -> list[str]:
        return self.model.ids_at(self.selected_rows(), held_only=True)

    def _on_selection(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self._update_actions()

    def _on_reset(self) -> None:
        self._update_actions()
        self.detail.clear_job("Select a message to see it here.")

    def _update_actions(self) -> None:
        live = self.session.connected
        rows = self.selected_rows()
        count = len(rows)
        enabled = {key: live and count > 0 for key in ("hold", "delete", "export")}
        enabled["release"] = live and self.model.any_held(rows)
        enabled["deliver"] = enabled["refresh"] = live
        for key, on in enabled.items():
            self.buttons[key].setEnabled(on)
            self.actions_by_key[key].setEnabled(on)
        self.buttons["deliver"].setText(f"Deliver {count} now" if count else "Deliver all now")

    def _on_current_row(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_detail.start()

    def _on_confirm_toggled(self, on: bool) -> None:
        self.settings.set_flag(CONFIRM_DELETE, bool(on))

    def delete_selected(self) -> None:
        """Delete the selected jobs (asking first unless the user turned that off)."""
        self.ops.delete(self.selected_ids())
        self.confirm_delete.setChecked(self.settings.flag(CONFIRM_DELETE, True))

    def open_detail(self, index: QModelIndex | None = None) -> None:
        """Enter (or a double-click) on a row: its job in the detail pane, now, focused."""
        if index is not None and index.isValid() and index != self.table.currentIndex():
            self.table.setCurrentIndex(index)
        sizes = self.split.sizes()
        if len(sizes) == 2 and sizes[1] == 0:
            total = sum(sizes) or self.split.height()
            self.split.setSizes([total * 3 // 5, total - total * 3 // 5])
        self._show_detail.stop()
        self._load_detail()
        self.detail.currentWidget().setFocus()

    def _context_menu(self, where: QPoint) -> None:
        menu = QMenu(self)
        for key in ("deliver", "hold", "release", "delete", "export", "all"):
            menu.addAction(self.actions_by_key[key])
        menu.addSeparator()
        self.confirm_delete.setChecked(self.settings.flag(CONFIRM_DELETE, True))
        menu.addAction(self.confirm_delete)
        menu.popup(self.table.viewport().mapToGlobal(where))

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
        self._detail_qid = qid
        req.finished.connect(self.detail.show_job)  # bound slots: dropped with the widget
        req.failed.connect(self._on_detail_failed)

    def _on_detail_failed(self, error: Any) -> None:
        self.detail.show_error(f"{self._detail_qid}: {error}")

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
