"""The queue shape view: ``queue.shape`` as a table, a click filters the list.

Rows are recipient (or sender) domains, columns age buckets that double, like
Postfix's ``qshape``; the busiest cells are shaded.  Clicking a cell emits
``cellChosen`` with the domain and age range it stands for.
"""

from __future__ import annotations

import time
from typing import Any

from postroom.gui.models.session import Session
from postroom.gui.models.shape_model import ShapeModel
from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)


class ShapeView(QWidget):
    """The shape table with its "by recipient / by sender" choice."""

    cellChosen = Signal(object)  # CellFilter
    _by_names = {"Recipient domain": "recipient", "Sender domain": "sender"}

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = ShapeModel()
        self.by = QComboBox()
        self.by.addItems(list(self._by_names))
        self.by.currentIndexChanged.connect(lambda _i: self.refresh())
        self.note = QLabel()
        self.note.setStyleSheet("color: #57606a;")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Messages by"))
        top.addWidget(self.by)
        top.addWidget(QLabel("and age (buckets double, like qshape); click a cell to list it."))
        top.addStretch(1)
        top.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self._pending = False

    def refresh(self) -> None:
        if self._pending or not self.session.connected:
            return
        self._pending = True
        by = self._by_names[self.by.currentText()]
        params = {"by": by, "top": 30, "queues": ["queue", "hold"]}
        req = self.session.request("queue.shape", params, timeout=120.0)
        req.finished.connect(self._on_shape)
        req.failed.connect(self._on_failed)

    def _on_shape(self, shape: Any) -> None:
        self._pending = False
        if isinstance(shape, dict):
            self.model.set_shape(shape)
            self.table.resizeColumnsToContents()
            header = self.table.horizontalHeader()
            header.resizeSection(0, max(header.sectionSize(0), 220))
            for column in range(1, self.model.columnCount()):
                header.resizeSection(column, max(header.sectionSize(column), 72))
            self.note.setText("fetched " + time.strftime("%H:%M:%S"))

    def _on_failed(self, error: Any) -> None:
        self._pending = False
        self.note.setText(f"queue.shape failed: {error}")

    def mark_stale(self, stale: bool) -> None:
        if stale:
            self.note.setText("stale — " + self.note.text().removeprefix("stale — "))

    def _clicked(self, index: QModelIndex) -> None:
        chosen = self.model.cell_filter(index)
        if chosen is not None:
            self.cellChosen.emit(chosen)

    def by_sender(self) -> bool:
        return self._by_names[self.by.currentText()] == "sender"
