"""The Hosts screen on real host status files: shows, sorts, filters, purges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postroom.gui.models.hosts_model import HostColumn, HostsModel, fmt_interval
from postroom.gui.models.session import Session
from postroom.gui.views import hosts_screen
from postroom.gui.views.hosts_screen import HostsScreen
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from .realistic import HOSTS, build_hosts

WAIT = 30_000


@pytest.fixture
def status_dir(queue_dir: Path) -> Path:
    build_hosts(queue_dir / ".hoststat")
    return queue_dir / ".hoststat"


@pytest.fixture
def screen(qtbot: QtBot, status_dir: Path, session: Session) -> Iterator[HostsScreen]:
    widget = HostsScreen(session)
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()  # showing it fetches hosts.list
    qtbot.waitUntil(lambda: widget.model.rowCount() == len(HOSTS), timeout=WAIT)
    yield widget


def shown(screen: HostsScreen, column: HostColumn = HostColumn.HOST) -> list[str]:
    proxy = screen.proxy
    return [proxy.index(r, column).data() for r in range(proxy.rowCount())]


def host_files(status_dir: Path) -> list[Path]:
    return [p for p in status_dir.rglob("*") if p.is_file()]


def test_hosts_model_passes_modeltester(qtmodeltester: ModelTester) -> None:
    model = HostsModel()
    qtmodeltester.check(model, force_py=True)
    model.set_hosts([{"host": "a.example", "age": 5, "failed": True, "reply": "421 busy"}])
    model.set_stale(True)
    assert model.rowCount() == 1


def test_shows_sorts_and_colours(screen: HostsScreen) -> None:
    assert shown(screen)[0] == "smtp.corp.example"  # youngest first
    assert "3+02:02:" in shown(screen, HostColumn.AGE)[-1]
    screen.table.sortByColumn(HostColumn.HOST, Qt.SortOrder.AscendingOrder)
    assert shown(screen) == sorted(shown(screen))
    row = shown(screen).index("mail.example.com")
    index = screen.proxy.index(row, HostColumn.RESULT)
    assert index.data() == "452 4.2.2 Mailbox full"
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None  # a failure, in red
    ok = screen.proxy.index(shown(screen).index("mx.example.org"), HostColumn.RESULT)
    assert ok.data(Qt.ItemDataRole.ForegroundRole) is None
    refused = shown(screen).index("mx1.partner-corp.example")
    assert screen.proxy.index(refused, HostColumn.RESULT).data() == "Connection refused"
    assert screen.proxy.index(refused, HostColumn.EXIT).data() == "75 EX_TEMPFAIL"
    assert fmt_interval(59) == "00:00:59"


def test_filters(screen: HostsScreen) -> None:
    screen.filter.setText("greylist")
    assert shown(screen) == ["mx.greylist.example.org"]
    screen.filter.clear()
    screen.failures.setChecked(True)
    assert len(shown(screen)) == 5 and "mx.example.org" not in shown(screen)


def test_purge_expired_then_all_remove_the_files(
    qtbot: QtBot, screen: HostsScreen, status_dir: Path, monkeypatch: Any
) -> None:
    assert len(host_files(status_dir)) == len(HOSTS)
    screen.purge_button.click()  # Timeout.hoststatus is 30 minutes
    qtbot.waitUntil(lambda: screen.model.rowCount() == len(HOSTS) - 2, timeout=WAIT)
    assert screen.status.text().startswith("Purged 2 host status entries.")
    assert len(host_files(status_dir)) == len(HOSTS) - 2
    monkeypatch.setattr(
        hosts_screen.QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes
    )
    screen.purge_all_button.click()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 0, timeout=WAIT)
    assert screen.status.text().startswith("Purged 5 host status entries.")
    assert host_files(status_dir) == []
