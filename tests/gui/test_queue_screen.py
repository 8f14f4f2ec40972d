"""The Queue screen on a real queue: shows, sorts, filters, acts (the files change on disk)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postroom.core.queue import QueueStore
from postroom.gui.models.queue_model import Column
from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from postroom.gui.views import queue_actions
from postroom.gui.views.queue_screen import QueueScreen
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.control.support import CONFIG, write_config
from tests.deliver.servers import Script, responder
from tests.support.mta import free_port

from .conftest import open_session
from .realistic import BuiltQueue, _write, build_queue

WAIT = 30_000


@pytest.fixture
def screen(qtbot: QtBot, session: Session, settings: Settings) -> Iterator[QueueScreen]:
    widget = QueueScreen(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    with qtbot.waitSignal(widget.loader.finished, timeout=WAIT):
        widget.reload()
    yield widget
    widget.loader.cancel()


def ids(screen: QueueScreen) -> list[str]:
    return [r.qid for r in screen.model.rows()]


def select(screen: QueueScreen, wanted: list[str]) -> None:
    selection = screen.table.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for qid in wanted:
        selection.select(screen.model.index(screen.model.find(qid), 0), flags)


def refilter(qtbot: QtBot, screen: QueueScreen, **fields: str) -> None:
    with qtbot.waitSignal(screen.loader.finished, timeout=WAIT):
        screen.filter_bar.set_fields(fields)


def test_shows_every_message_with_its_status(screen: QueueScreen, built: BuiltQueue) -> None:
    assert sorted(ids(screen)) == sorted(built.all)
    held = screen.model.row_at(screen.model.find(built.held[0]))
    assert held.held and "spam" in held.hold.lower()
    row = screen.model.find(built.deferred[0])
    status = screen.model.index(row, Column.STATUS).data()
    assert status.startswith("Deferred: ")
    assert "1 of" not in screen.status.text() and "29 messages" in screen.status.text()


def test_sorts_by_any_column(screen: QueueScreen) -> None:
    screen.table.sortByColumn(Column.SIZE, Qt.SortOrder.DescendingOrder)
    sizes = [r.size for r in screen.model.rows()]
    assert sizes == sorted(sizes, reverse=True)
    screen.table.sortByColumn(Column.SENDER, Qt.SortOrder.AscendingOrder)
    senders = [r.sender.lower() for r in screen.model.rows()]
    assert senders == sorted(senders)


def test_filters_on_the_server_and_negates_locally(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue
) -> None:
    refilter(qtbot, screen, domain="partner-corp.example")
    shown = ids(screen)
    assert shown and all(
        any("partner-corp.example" in a for a in screen.model.row_at(i).recipients)
        for i in range(len(shown))
    )
    refilter(qtbot, screen, domain="!partner-corp.example")
    assert sorted(shown + ids(screen)) == sorted(built.all)
    refilter(qtbot, screen, age=">1h")
    now = time.time()
    assert screen.model.rows() and all(now - r.arrival >= 3600 for r in screen.model.rows())
    refilter(qtbot, screen, size=">1k", status="greylisted")
    assert screen.model.rows() and all(
        r.size > 1024 and "greylisted" in r.status.lower() for r in screen.model.rows()
    )
    refilter(qtbot, screen)
    assert len(ids(screen)) == len(built.all)


def test_a_bad_filter_is_marked_and_keeps_the_last_good_one(screen: QueueScreen) -> None:
    before = screen.loader.filter
    screen.filter_bar.set_fields({"age": ">soon"})
    assert "border" in screen.filter_bar.edits["age"].styleSheet()
    assert screen.loader.filter == before


def test_hold_and_release_rewrite_the_files(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue, queue_dir: Path, monkeypatch: Any
) -> None:
    targets = built.fresh[:2]
    monkeypatch.setattr(
        queue_actions.QInputDialog, "getText", lambda *a, **k: ("looks like phishing", True)
    )
    select(screen, targets)
    screen.buttons["hold"].click()
    qtbot.waitUntil(lambda: all((queue_dir / f"hf{q}").exists() for q in targets), timeout=WAIT)
    assert not any((queue_dir / f"qf{q}").exists() for q in targets)
    qtbot.waitUntil(
        lambda: all(screen.model.row_at(screen.model.find(q)).held for q in targets),
        timeout=WAIT,
    )
    assert screen.model.row_at(screen.model.find(targets[0])).hold == "looks like phishing"
    select(screen, targets)
    assert screen.buttons["release"].isEnabled()
    screen.buttons["release"].click()
    qtbot.waitUntil(lambda: all((queue_dir / f"qf{q}").exists() for q in targets), timeout=WAIT)


def test_delete_asks_then_removes_the_files(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue, queue_dir: Path, monkeypatch: Any
) -> None:
    target = built.deferred[0]
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(queue_actions.QMessageBox, "exec", lambda self: answers.pop(0))
    select(screen, [target])
    screen.buttons["delete"].click()  # answered Cancel
    assert (queue_dir / f"qf{target}").exists()
    screen.buttons["delete"].click()  # answered Yes
    qtbot.waitUntil(lambda: not (queue_dir / f"qf{target}").exists(), timeout=WAIT)
    assert not (queue_dir / f"df{target}").exists()
    qtbot.waitUntil(lambda: screen.model.find(target) == -1, timeout=WAIT)


def test_detail_pane_shows_the_job(qtbot: QtBot, screen: QueueScreen, built: BuiltQueue) -> None:
    row = screen.model.find(built.fresh[0])
    screen.table.setCurrentIndex(screen.model.index(row, 0))
    qtbot.waitUntil(lambda: "Subject: Quarterly figures" in screen.detail.headers.toPlainText())
    assert "Line 0 of the message" in screen.detail.body.toPlainText()
    assert "bob@example.org" in screen.detail.recipients.toPlainText()


def test_deliver_now_streams_the_transcript_and_the_job_leaves(
    qtbot: QtBot, tmp_path: Path, settings: Settings
) -> None:
    with responder(Script()) as peer:
        text = CONFIG.format(mta=free_port(), msa=free_port())
        config = write_config(tmp_path / "relay", text + f'SmartHost = "[127.0.0.1]:{peer.port}"\n')
        queue_dir = config.parent / "mqueue"
        built = build_queue(queue_dir, repeat=1)
        session = open_session(qtbot, config)
        screen = QueueScreen(session, settings)
        qtbot.addWidget(screen)
        screen.show()
        with qtbot.waitSignal(screen.loader.finished, timeout=WAIT):
            screen.reload()
        target = built.fresh[0]
        select(screen, [target])
        assert screen.buttons["deliver"].text() == "Deliver 1 now"
        screen.buttons["deliver"].click()
        qtbot.waitUntil(lambda: "< {" in screen.detail.delivery.toPlainText(), timeout=60_000)
        transcript = screen.detail.delivery.toPlainText()
        assert "> queue.run: deliver 1 selected message(s) now" in transcript
        assert "250" in transcript  # the SMTP dialogue, line by line
        assert not (queue_dir / f"qf{target}").exists()
        assert any(b"Quarterly figures" in m for m in peer.messages)
        qtbot.waitUntil(lambda: screen.model.find(target) == -1, timeout=WAIT)
        session.stop()


def test_export_writes_an_eml_file(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue, tmp_path: Path, monkeypatch: Any
) -> None:
    target = tmp_path / "out.eml"
    monkeypatch.setattr(
        queue_actions.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "")
    )
    select(screen, [built.fresh[1]])
    screen.buttons["export"].click()
    qtbot.waitUntil(target.exists, timeout=WAIT)
    text = target.read_text()
    assert "Return-Path: <billing@invoices.example.net>" in text
    assert "Subject: Invoice 2024-1187\n" in text and "\n\nLine 0 of" in text


def test_shape_cell_click_filters_the_list(qtbot: QtBot, screen: QueueScreen) -> None:
    screen.show_page(1)
    qtbot.waitUntil(lambda: screen.shape.model.rowCount() > 0, timeout=WAIT)
    index = screen.shape.model.index(0, 1)  # the busiest domain, all ages
    domain = screen.shape.model.cell_filter(index)
    assert domain is not None and domain.domain
    with qtbot.waitSignal(screen.loader.finished, timeout=WAIT):
        screen.shape.table.clicked.emit(index)
    assert screen.pages.currentIndex() == 0
    assert screen.filter_bar.edits["domain"].text() == domain.domain
    assert screen.model.rows() and all(
        any(a.endswith(domain.domain) for a in r.recipients) for r in screen.model.rows()
    )


def test_a_new_message_appears_through_queue_changed(
    qtbot: QtBot, screen: QueueScreen, queue_dir: Path, built: BuiltQueue
) -> None:
    qid = _write(
        QueueStore(queue_dir, fsync=False),
        "late@corp.example",
        [("zed@example.org", None)],
        "Arrived later",
        age=5,
    )
    qtbot.waitUntil(lambda: screen.model.find(qid) >= 0, timeout=WAIT)
    assert screen.model.rowCount() == len(built.all) + 1
