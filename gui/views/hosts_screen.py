"""The Hosts screen: persistent host status (``hosts.list``) with purgestat actions.

A sortable, filterable table of :class:`~postroom.gui.models.hosts_model.HostsModel`
(failures red, ``*`` for a host being delivered to), a filter box, "Only failures",
Refresh, and the purge actions: "Purge expired" (``hosts.purge``: entries older than
``Timeout.hoststatus``, like ``purgestat``) and "Purge all" (after a confirmation);
the number of entries purged is shown.  It refreshes when shown, after a purge, after
queue changes (deliveries update host status) and when the connection comes back; a
lost connection greys the table and marks it stale.
"""

from __future__ import annotations

import time
from typing import Any

from postroom.core.control.protocol import RpcError
from postroom.gui.models.hosts_model import SORT_ROLE, HostColumn, HostsModel
from postroom.gui.models.session import Session
from postroom.gui.qt_client import ConnectionState
from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

WIDTHS = {HostColumn.HOST: 260, HostColumn.AGE: 110, HostColumn.RESULT: 520, HostColumn.STATUS: 80}


class _Proxy(QSortFilterProxyModel):
    """Text filter over every column, plus "only failures"."""

    def __init__(self, source: HostsModel) -> None:
        super().__init__()
        self.hosts = source
        self.only_failed = False
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def filterAcceptsRow(self, row: int, parent: Any) -> bool:
        if self.only_failed and not self.hosts.row_at(row).failed:
            return False
        return super().filterAcceptsRow(row, parent)

    def set_only_failed(self, on: bool) -> None:
        self.beginFilterChange()  # Qt >= 6.10; invalidateFilter() is deprecated
        self.only_failed = on
        self.endFilterChange()


class HostsScreen(QWidget):
    """hoststat and purgestat for one connection."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.model = HostsModel()
        self.proxy = _Proxy(self.model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter hosts, results, codes")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.failures = QCheckBox("Only failures")
        self.failures.toggled.connect(self.proxy.set_only_failed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.purge_button = QPushButton("Purge expired")
        self.purge_button.setToolTip("Remove entries older than Timeout.hoststatus (purgestat)")
        self.purge_button.clicked.connect(lambda: self.purge(everything=False))
        self.purge_all_button = QPushButton("Purge all…")
        self.purge_all_button.setToolTip("Remove every host status entry")
        self.purge_all_button.clicked.connect(lambda: self.purge(everything=True))
        self.status = QLabel("")
        self.status.setStyleSheet("color: #57606a;")
        self.table = QTableView()
        self.table.setObjectName("hostsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(HostColumn.AGE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in WIDTHS.items():
            self.table.horizontalHeader().resizeSection(column, width)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.failures)
        bar.addWidget(self.refresh_button)
        bar.addSpacing(12)
        bar.addWidget(self.purge_button)
        bar.addWidget(self.purge_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self._later = QTimer(self, singleShot=True, interval=1500)
        self._later.timeout.connect(self._refresh_if_visible)
        session.connectedAgain.connect(self.refresh)
        session.queueChanged.connect(lambda _d: self._later.start())
        session.changed.connect(self._on_session)
        self._busy = False
        self.note = ""

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def _refresh_if_visible(self) -> None:
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        if self._busy or not self.session.connected:
            return
        self._busy = True
        req = self.session.request("hosts.list", timeout=60.0)
        req.finished.connect(self._on_hosts)
        req.failed.connect(self._on_failed)

    def _on_hosts(self, result: Any) -> None:
        self._busy = False
        hosts = result.get("hosts", []) if isinstance(result, dict) else []
        self.model.set_hosts(hosts)
        self.model.set_stale(False)
        failed = sum(1 for h in hosts if isinstance(h, dict) and h.get("failed"))
        where = result.get("directory", "") if isinstance(result, dict) else ""
        fetched = time.strftime("%H:%M:%S")
        self.status.setText(
            f"{self.note}{len(hosts)} hosts, {failed} failing · {where} · fetched {fetched}"
        )
        self.note = ""

    def _on_failed(self, error: Any) -> None:
        self._busy = False
        text = error.message if isinstance(error, RpcError) else str(error)
        self.status.setText(f"hosts.list failed: {text}")

    def _on_session(self) -> None:
        live = self.session.connected
        for button in (self.refresh_button, self.purge_button, self.purge_all_button):
            button.setEnabled(live)
        if self.session.state == ConnectionState.LOST:
            self._busy = False
            self.model.set_stale(True)
            if not self.status.text().startswith("stale"):
                self.status.setText("stale — connection lost; " + self.status.text())

    def purge(self, *, everything: bool) -> None:
        if everything:
            answer = QMessageBox.question(
                self,
                "Purge all host status",
                "Forget the status of every host? Deferred mail will be retried to all of "
                "them at the next queue run.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        req = self.session.request("hosts.purge", {"all": everything}, timeout=120.0)
        req.finished.connect(self._on_purged)
        req.failed.connect(self._on_failed)

    def _on_purged(self, result: Any) -> None:
        count = result.get("purged", 0) if isinstance(result, dict) else 0
        self.note = f"Purged {count} host status entr{'y' if count == 1 else 'ies'}. "
        self.status.setText(self.note)
        self.refresh()
