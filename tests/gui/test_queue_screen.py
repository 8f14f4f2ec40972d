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
from postroom.gui.views.queue_actions import CONFIRM_DELETE
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


def test_detail_pane_shows_the_transcript(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue, queue_dir: Path
) -> None:
    target, other, long, planted = built.deferred[:4]
    (queue_dir / f"xf{target}").write_text(
        "... while talking to mx1.partner-corp.example.:\n>>> RCPT To:<user0@partner-corp"
        ".example>\n<<< 452 4.2.2 Mailbox full\n"
    )
    (queue_dir / f"xf{long}").write_text("x" * 70_000)
    (queue_dir / f"xf{planted}").symlink_to(queue_dir / f"xf{target}")  # never followed
    focus_table(qtbot, screen)
    screen.table.setCurrentIndex(screen.model.index(screen.model.find(target), 0))
    qtbot.waitUntil(lambda: "<<< 452 4.2.2 Mailbox full" in transcript(screen), timeout=WAIT)
    assert screen.detail.tabText(screen.detail.indexOf(screen.detail.transcript)) == "Transcript"
    screen.table.setCurrentIndex(screen.model.index(screen.model.find(other), 0))
    qtbot.waitUntil(lambda: transcript(screen).startswith("(no transcript"), timeout=WAIT)
    screen.table.setCurrentIndex(screen.model.index(screen.model.find(long), 0))
    qtbot.waitUntil(lambda: "truncated" in transcript(screen), timeout=WAIT)
    assert transcript(screen).count("x") == 64 * 1024  # capped by the server
    screen.table.setCurrentIndex(screen.model.index(screen.model.find(planted), 0))
    qtbot.waitUntil(lambda: "cannot be read" in transcript(screen), timeout=WAIT)
    assert "Mailbox full" not in transcript(screen)


def transcript(screen: QueueScreen) -> str:
    return screen.detail.transcript.toPlainText()


def envelope(screen: QueueScreen) -> str:
    return screen.detail.envelope.toPlainText()


def focus_table(qtbot: QtBot, screen: QueueScreen) -> None:
    screen.activateWindow()
    screen.table.setFocus()
    qtbot.waitUntil(screen.table.hasFocus, timeout=WAIT)


def test_ctrl_a_selects_every_message_the_filter_matches(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue
) -> None:
    refilter(qtbot, screen, domain="partner-corp.example")
    shown = ids(screen)
    assert 1 < len(shown) < len(built.all)
    focus_table(qtbot, screen)
    qtbot.keyClick(screen.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(screen.selected_ids()) == sorted(shown)
    assert screen.buttons["deliver"].text() == f"Deliver {len(shown)} now"
    assert screen.buttons["delete"].isEnabled()


def test_arrow_keys_move_the_selection_and_the_detail_follows(
    qtbot: QtBot, screen: QueueScreen
) -> None:
    first, second = screen.model.row_at(0).qid, screen.model.row_at(1).qid
    focus_table(qtbot, screen)
    screen.table.setCurrentIndex(screen.model.index(0, 0))
    qtbot.waitUntil(lambda: first in envelope(screen), timeout=WAIT)
    qtbot.keyClick(screen.table, Qt.Key.Key_Down)
    assert screen.table.currentIndex().row() == 1
    assert screen.selected_ids() == [second]
    qtbot.waitUntil(lambda: second in envelope(screen), timeout=WAIT)
    qtbot.keyClick(screen.table, Qt.Key.Key_Up)
    assert screen.selected_ids() == [first]
    qtbot.waitUntil(lambda: first in envelope(screen), timeout=WAIT)


def test_enter_opens_the_detail_and_escape_goes_back_to_the_list(
    qtbot: QtBot, screen: QueueScreen
) -> None:
    screen.split.setSizes([800, 0])  # the user dragged the detail pane shut
    assert screen.split.sizes()[1] == 0
    qid = screen.model.row_at(2).qid
    focus_table(qtbot, screen)
    screen.table.setCurrentIndex(screen.model.index(2, 0))
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    assert screen.split.sizes()[1] > 0
    qtbot.waitUntil(lambda: qid in envelope(screen), timeout=WAIT)
    assert screen.detail.currentWidget().hasFocus()
    qtbot.keyClick(screen.detail.currentWidget(), Qt.Key.Key_Escape)
    assert screen.table.hasFocus()


def test_delete_key_asks_then_deletes(
    qtbot: QtBot, screen: QueueScreen, built: BuiltQueue, queue_dir: Path, monkeypatch: Any
) -> None:
    asked: list[str] = []

    def answer(box: QMessageBox) -> QMessageBox.StandardButton:
        asked.append(box.text())
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(queue_actions.QMessageBox, "exec", answer)
    target = built.deferred[1]
    focus_table(qtbot, screen)
    screen.table.setCurrentIndex(screen.model.index(screen.model.find(target), 0))
    qtbot.keyClick(screen.table, Qt.Key.Key_Delete)
    assert asked == ["Delete 1 message(s) from the queue?"]
    qtbot.waitUntil(lambda: not (queue_dir / f"qf{target}").exists(), timeout=WAIT)
    qtbot.waitUntil(lambda: screen.model.find(target) == -1, timeout=WAIT)


def test_the_delete_confirmation_can_be_turned_off_and_on_again(
    qtbot: QtBot,
    screen: QueueScreen,
    built: BuiltQueue,
    queue_dir: Path,
    settings: Settings,
    monkeypatch: Any,
) -> None:
    asked: list[str] = []

    def answer_and_tick_do_not_ask_again(box: QMessageBox) -> QMessageBox.StandardButton:
        asked.append(box.text())
        box.checkBox().setChecked(True)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(queue_actions.QMessageBox, "exec", answer_and_tick_do_not_ask_again)
    first, second, third = built.deferred[2:5]
    assert screen.confirm_delete.isChecked()
    focus_table(qtbot, screen)

    def delete_with_key(qid: str) -> None:
        screen.table.setCurrentIndex(screen.model.index(screen.model.find(qid), 0))
        qtbot.keyClick(screen.table, Qt.Key.Key_Delete)
        qtbot.waitUntil(lambda: not (queue_dir / f"qf{qid}").exists(), timeout=WAIT)
        qtbot.waitUntil(lambda: screen.model.find(qid) == -1, timeout=WAIT)

    delete_with_key(first)
    assert len(asked) == 1
    assert not settings.flag(CONFIRM_DELETE, True) and not screen.confirm_delete.isChecked()
    delete_with_key(second)
    assert len(asked) == 1  # not asked this time
    screen.confirm_delete.trigger()  # "Ask before deleting" in the list's context menu
    assert settings.flag(CONFIRM_DELETE, False)
    delete_with_key(third)
    assert len(asked) == 2
