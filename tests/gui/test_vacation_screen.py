"""The Vacation screen against a real daemon: a reply once per sender, forget, refusals.

The daemon (``-bD -q1s``, LogLevel 15) logs each vacation decision of the delivery
agent (``vacation for alice: reply to ...`` / ``already replied to ...``); the tests
wait on those lines and on the mailboxes, never on time.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from postroom.gui.views.vacation_screen import VacationScreen
from PySide6.QtCore import QDateTime, Qt
from pytestqt.qtbot import QtBot

from tests.support.mta import HOST_NAME, MtaSetup, RunningMta

from .conftest import open_session
from .test_aliases_screen import mbox_subjects, mta_for

WAIT = 60_000


@pytest.fixture
def mta(tmp_path: Path) -> Iterator[RunningMta]:
    with RunningMta(mta_for(tmp_path / "mta"), "-q1s") as running:
        yield running


@pytest.fixture
def screen(qtbot: QtBot, mta: RunningMta, settings: Settings) -> Iterator[VacationScreen]:
    session: Session = open_session(qtbot, mta.setup.config_path)
    widget = VacationScreen(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.users.count() == 3, timeout=WAIT)
    yield widget
    session.stop()


def open_user(qtbot: QtBot, screen: VacationScreen, user: str) -> None:
    row = next(
        i for i in range(screen.users.count()) if screen.users.item(i).text().startswith(user)
    )
    screen.users.setCurrentRow(row)
    qtbot.waitUntil(lambda: screen.user == user and screen.editor.isEnabled(), timeout=WAIT)


def send(port: int, subject: str, sender: str = "bob@example.test") -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "alice@example.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '.')}@example.test>"
    message.set_content("Are you there?")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message, sender, ["alice@example.test"])


def decisions(setup: MtaSetup) -> list[str]:
    text = setup.log_file.read_text() if setup.log_file.exists() else ""
    marker = "vacation for alice: "
    return [line.split(marker, 1)[1] for line in text.splitlines() if marker in line]


def test_vacation_on_replies_once_per_sender_and_forget_answers_again(
    qtbot: QtBot, screen: VacationScreen, mta: RunningMta, qtmodeltester: object
) -> None:
    setup = mta.setup
    assert [screen.users.item(i).text() for i in range(3)] == [
        "alice — not set",
        "bob — not set",
        "root — not set",
    ]
    open_user(qtbot, screen, "alice")
    assert "no settings file yet" in screen.title.text()
    qtbot.mouseClick(screen.editor.enabled, Qt.MouseButton.LeftButton)
    screen.editor.subject.clear()
    qtbot.keyClicks(screen.editor.subject, "Away: $SUBJECT")
    qtbot.keyClicks(screen.editor.message, "I am away until Monday.")
    preview = screen.preview.text
    qtbot.waitUntil(
        lambda: "Subject: Away: Lunch on Friday?" in preview.toPlainText(), timeout=WAIT
    )
    shown = preview.toPlainText()
    assert shown.startswith("MAIL FROM:<>   RCPT TO:<friend@example.org>\n\n")
    assert f"From: alice@{HOST_NAME}\nTo: friend@example.org\n" in shown
    assert "Auto-Submitted: auto-replied\n" in shown and "\n\nI am away until Monday.\n" in shown
    assert "would get this reply now" in screen.preview.verdict.text()
    qtbot.waitUntil(screen.apply_button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(screen.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.diff_dialog is not None, timeout=WAIT)
    dialog = screen.diff_dialog
    assert dialog is not None and '+  "enabled": true,' in dialog.diff
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is on and replying now" in screen.status.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: screen.users.item(0).text() == "alice — on, replying now", timeout=WAIT)
    assert (setup.base / "vacation" / "alice.json").exists()

    send(mta.port(), "first")
    qtbot.waitUntil(lambda: mbox_subjects(setup, "bob") == ["Away: first"], timeout=WAIT)
    send(mta.port(), "second")
    qtbot.waitUntil(lambda: len(decisions(setup)) == 2, timeout=WAIT)
    assert decisions(setup) == ["reply to bob@example.test", "already replied to bob@example.test"]
    assert mbox_subjects(setup, "alice") == ["first", "second"]
    assert mbox_subjects(setup, "bob") == ["Away: first"]  # exactly one reply

    screen.refresh()
    memory = screen.memory
    qtbot.waitUntil(lambda: memory.model.rowCount() == 1, timeout=WAIT)
    assert memory.model.row_at(0).sender == "bob@example.test"
    qtmodeltester.check(memory.model)  # type: ignore[attr-defined]
    assert memory.model.index(0, 2).data() in ("just now", "1 min")
    memory.table.selectRow(0)
    qtbot.mouseClick(memory.forget_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Forgot 1 sender" in screen.status.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: memory.model.rowCount() == 0, timeout=WAIT)
    send(mta.port(), "third")
    both = ["Away: first", "Away: third"]
    qtbot.waitUntil(lambda: mbox_subjects(setup, "bob") == both, timeout=WAIT)
    assert decisions(setup)[-1] == "reply to bob@example.test"


def test_invalid_values_are_refused_next_to_the_field_and_nothing_is_written(
    qtbot: QtBot, screen: VacationScreen, mta: RunningMta
) -> None:
    settings_file = mta.setup.base / "vacation" / "bob.json"
    open_user(qtbot, screen, "bob")
    editor = screen.editor
    qtbot.mouseClick(editor.enabled, Qt.MouseButton.LeftButton)
    start = QDateTime(datetime(2030, 7, 10, 9, 0))
    qtbot.mouseClick(editor.start.used, Qt.MouseButton.LeftButton)
    editor.start.edit.setDateTime(start)
    qtbot.mouseClick(editor.end.used, Qt.MouseButton.LeftButton)
    editor.end.edit.setDateTime(start.addDays(-3))  # ends before it starts
    qtbot.waitUntil(lambda: editor.error_text("end") == "must be after start", timeout=WAIT)
    assert editor.errors["end"].isVisible()
    assert "value is refused" in screen.preview.verdict.text()
    assert not screen.apply_button.isEnabled()
    screen.apply()  # asked anyway: the server's dry run refuses it too
    qtbot.waitUntil(lambda: "Not saved" in screen.status.text(), timeout=WAIT)
    assert screen.diff_dialog is None and not settings_file.exists()
    editor.end.edit.setDateTime(start.addDays(14))
    qtbot.waitUntil(lambda: editor.error_text("end") == "", timeout=WAIT)
    assert "would not be answered now: vacation is off or outside its dates" in (
        screen.preview.verdict.text()
    )
    qtbot.keyClicks(editor.exclusions, "boss@example.com")
    qtbot.keyClick(editor.exclusions, Qt.Key.Key_Return)
    qtbot.keyClicks(editor.exclusions, "not an address")
    refused = "is neither an address nor @domain"
    qtbot.waitUntil(lambda: refused in editor.error_text("exclusions"), timeout=WAIT)
    assert not screen.apply_button.isEnabled()
    editor.exclusions.setPlainText("boss@example.com\n@lists.example.org")
    qtbot.waitUntil(lambda: screen.apply_button.isEnabled(), timeout=WAIT)
    assert editor.error_text("exclusions") == ""
    assert not settings_file.exists()  # nothing is written before Apply


def test_a_server_without_vacation_directory_says_so(
    qtbot: QtBot, session: Session, settings: Settings
) -> None:
    widget = VacationScreen(session, settings)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.stack.currentWidget() is widget.unavailable, timeout=WAIT)
    text = widget.unavailable.text()
    assert "VacationDirectory is not set in the configuration" in text
    assert "Set <tt>VacationDirectory</tt>" in text
