"""The table of aliases: name, targets, line and the server's verdict, sortable and searchable.

:class:`AliasTableView` wraps :class:`~postroom.gui.models.alias_model.AliasTableModel`
in a sort/filter proxy (file order by default; :meth:`set_filter` searches names and
targets) and a table.  :meth:`set_rows` swaps the rows in and keeps the alias being
edited selected without reporting it as a new choice; ``chosen`` carries the block id
of a row the user picks.
"""

from __future__ import annotations

from typing import Any

from postroom.gui.models.alias_model import (
    BLOCK_ROLE,
    SORT_ROLE,
    AliasColumn,
    AliasRow,
    AliasTableModel,
)
from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTableView, QVBoxLayout, QWidget

WIDTHS = {AliasColumn.NAME: 150, AliasColumn.TARGETS: 300, AliasColumn.LINE: 48}


class AliasTableView(QWidget):
    """The aliases as a table."""

    chosen = Signal(int)  # the block id of the row the user selected

    def __init__(self) -> None:
        super().__init__()
        self.model = AliasTableModel()
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView()
        self.table.setObjectName("aliasesTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(AliasColumn.LINE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in WIDTHS.items():
            header.resizeSection(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self._quiet = False

    def set_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)

    def set_rows(self, rows: list[AliasRow], current: int | None) -> None:
        """Show ``rows``; the row of block ``current`` stays selected."""
        self._quiet = True
        try:
            self.model.set_rows(rows)
            if current is not None:
                self.select(current)
        finally:
            self._quiet = False

    def select(self, block_id: int) -> bool:
        row = self.model.row_of(block_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        flags |= QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        return True

    def _on_row(self, current: Any, _previous: Any) -> None:
        if not self._quiet and current.isValid():
            self.chosen.emit(int(self.proxy.data(current, BLOCK_ROLE)))
