"""The Aliases screen against a real daemon: edits reach the file, newaliases and delivery.

Each test runs ``postroom-mta -bD -q1s`` on loopback with a private aliases file
(comments, a continuation line, a loop) and opens a real RPC session on the same
configuration, so what the screen applies is what the daemon delivers by.
"""

from __future__ import annotations

import hashlib
import mailbox
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from postroom.gui.models.alias_document import AliasDocument, compose_target, render_entry
from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from postroom.gui.views.aliases_screen import AliasesScreen
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.mta import MtaSetup, RunningMta

from .conftest import open_session

WAIT = 60_000
CLI = [sys.executable, "-m", "postroom.core.cli"]
ALIASES = (
    b"# Aliases under test: these comments and the order must survive every edit.\n"
    b"postmaster: root\n"
    b"\n"
    b"# the staff list, with a continuation line\n"
    b"staff: alice,\n"
    b"\tbob\n"
    b"a1: a2\n"
    b"# trailing comment\n"
)


def mta_for(base: Path) -> MtaSetup:
    """An MTA setup with AliasFile (compiled) and VacationDirectory under ``base``."""
    setup = MtaSetup(base)
    setup.base.mkdir(parents=True, exist_ok=True)
    aliases = setup.base / "aliases"
    aliases.write_bytes(ALIASES)
    aliases.chmod(0o644)
    setup.options["AliasFile"] = str(aliases)
    setup.options["VacationDirectory"] = str(setup.base / "vacation")
    setup.write()
    subprocess.run([*CLI, "-C", str(setup.config_path), "-bi"], check=True, capture_output=True)
    return setup


@pytest.fixture
def mta(tmp_path: Path) -> Iterator[RunningMta]:
    with RunningMta(mta_for(tmp_path / "mta"), "-q1s") as running:
        yield running


@pytest.fixture
def screen(qtbot: QtBot, mta: RunningMta, settings: Settings) -> Iterator[AliasesScreen]:
    session: Session = open_session(qtbot, mta.setup.config_path)
    widget = AliasesScreen(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitUntil(lambda: all_checked(widget, 3), timeout=WAIT)
    yield widget
    session.stop()


def all_checked(screen: AliasesScreen, count: int) -> bool:
    rows = screen.model.rows()
    return len(rows) == count and all(r.checked for r in rows) and not screen.checker.busy


def select(qtbot: QtBot, screen: AliasesScreen, name: str) -> None:
    row = next(i for i, r in enumerate(screen.model.rows()) if r.name == name)
    index = screen.proxy.mapFromSource(screen.model.index(row, 0))
    screen.table.setCurrentIndex(index)
    qtbot.waitUntil(lambda: screen.editor.isEnabled() and screen.editor.name.text() == name)


def mbox_subjects(setup: MtaSetup, user: str) -> list[str]:
    path = setup.spool_dir / user
    if not path.exists():
        return []
    box = mailbox.mbox(str(path), create=False)
    try:
        return [str(m["Subject"]) for m in box]
    finally:
        box.close()


def send(port: int, rcpt: str, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "sender@example.org"
    message["To"] = rcpt
    message["Subject"] = subject
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message, "sender@example.org", [rcpt])


def test_document_edits_touch_only_their_lines() -> None:
    text = ALIASES.decode()
    doc = AliasDocument(text, [("postmaster", 2, 2), ("staff", 5, 6), ("a1", 7, 7)])
    assert doc.text() == text
    staff = doc.find("STAFF")
    assert staff is not None and doc.span(staff.id) == (5, 6)
    doc.replace(staff.id, "staff", render_entry("staff", ["alice", "carol"]))
    added = doc.append("team", render_entry("team", ["bob", compose_target("program", "/bin/x y")]))
    assert doc.text() == text.replace("staff: alice,\n\tbob\n", "staff: alice, carol\n") + (
        'team: bob, "|/bin/x y"\n'
    )
    doc.remove(added.id)
    assert doc.text().endswith("# trailing comment\n")
    long = render_entry("list", [f"member{i}@example.org" for i in range(6)])
    assert long[0] == "list: member0@example.org," and long[1].startswith("\t")
    assert compose_target("include", "/etc/lists/a b") == ':include:"/etc/lists/a b"'
    assert compose_target("error", "5.1.1:550 gone") == "error:5.1.1:550 gone"


def test_adding_an_alias_writes_rebuilds_and_delivers(
    qtbot: QtBot, screen: AliasesScreen, mta: RunningMta, qtmodeltester: object
) -> None:
    aliases = Path(str(mta.setup.options["AliasFile"]))
    qtmodeltester.check(screen.model)  # type: ignore[attr-defined]
    screen.add_button.click()
    qtbot.keyClicks(screen.editor.name, "team")
    qtbot.keyClicks(screen.editor.rows[0].value, "bob")
    screen.editor.add_target.click()
    qtbot.keyClicks(screen.editor.rows[1].value, "alice")
    qtbot.waitUntil(lambda: screen.apply_button.isEnabled(), timeout=WAIT)
    assert "bob... deliverable: mailer local, user bob" in screen.editor.expands.text()
    assert [r.state for r in screen.model.rows()] == ["", "", "", "new"]
    qtbot.mouseClick(screen.apply_button, Qt.MouseButton.LeftButton)
    dialog = screen.diff_dialog
    assert dialog is not None and dialog.isVisible()
    assert "+team: bob, alice\n" in dialog.diff and "\n-" not in dialog.diff
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Written and rebuilt" in screen.status.text(), timeout=WAIT)
    assert aliases.read_bytes() == ALIASES + b"team: bob, alice\n"  # comments and order kept
    assert f"{aliases}: 4 aliases" in screen.last_summary
    assert screen.compare.comparison.same
    assert "matches the file (4 aliases)" in screen.compare.summary.text()
    assert [r.name for r in screen.model.rows()] == ["postmaster", "staff", "a1", "team"]
    send(mta.port(), "team@example.test", "to the new alias")
    qtbot.waitUntil(
        lambda: (
            mbox_subjects(mta.setup, "bob") == ["to the new alias"]
            and mbox_subjects(mta.setup, "alice") == ["to the new alias"]
        ),
        timeout=WAIT,
    )
    qtbot.waitUntil(lambda: all_checked(screen, 4), timeout=WAIT)
    assert screen.select_alias("team")
    qtbot.waitUntil(lambda: screen.editor.name.text() == "team", timeout=WAIT)
    screen.delete_button.click()
    qtbot.waitUntil(lambda: screen.apply_button.isEnabled(), timeout=WAIT)
    screen.apply()
    dialog = screen.diff_dialog
    assert dialog is not None and "-team: bob, alice\n" in dialog.diff
    dialog.apply_button.click()
    matches = "matches the file (3 aliases)"
    qtbot.waitUntil(lambda: matches in screen.compare.summary.text(), timeout=WAIT)
    assert aliases.read_bytes() == ALIASES
    with pytest.raises(smtplib.SMTPRecipientsRefused):  # the daemon reloaded the table
        send(mta.port(), "team@example.test", "gone")


def test_invalid_targets_are_refused_next_to_the_field_and_nothing_is_written(
    qtbot: QtBot, screen: AliasesScreen, mta: RunningMta
) -> None:
    aliases = Path(str(mta.setup.options["AliasFile"]))
    before = hashlib.sha256(aliases.read_bytes()).hexdigest()
    select(qtbot, screen, "staff")
    row = screen.editor.rows[1]
    assert (row.kind_name(), row.value.text()) == ("address", "bob")
    row.value.clear()
    qtbot.keyClicks(row.value, "<bob@example.test")
    qtbot.waitUntil(lambda: "Unbalanced '<'" in row.problem.plain_text(), timeout=WAIT)
    assert row.problem.isVisible() and not screen.apply_button.isEnabled()
    screen.apply()
    assert screen.diff_dialog is None and "Not applied" in screen.status.text()
    row.value.clear()
    qtbot.keyClicks(row.value, "bob@exa mple.org")
    qtbot.waitUntil(lambda: "bad address" in row.problem.plain_text(), timeout=WAIT)
    assert not screen.apply_button.isEnabled()
    row.value.clear()
    qtbot.keyClicks(row.value, "nosuchuser")  # an unknown local user: a warning only
    qtbot.waitUntil(lambda: "User unknown" in row.problem.plain_text(), timeout=WAIT)
    assert "Warning" in row.problem.plain_text()
    qtbot.waitUntil(lambda: screen.apply_button.isEnabled(), timeout=WAIT)
    screen.revert_button.click()
    qtbot.waitUntil(lambda: all_checked(screen, 3) and not screen.state.dirty, timeout=WAIT)
    screen.add_button.click()  # a2 -> a1 -> a2: a loop
    qtbot.keyClicks(screen.editor.name, "a2")
    qtbot.keyClicks(screen.editor.rows[0].value, "a1")
    loop = screen.editor.rows[0].problem
    qtbot.waitUntil(lambda: "loop broken" in loop.plain_text(), timeout=WAIT)
    assert not screen.apply_button.isEnabled()
    screen.editor.name.clear()
    qtbot.keyClicks(screen.editor.name, "a b")
    qtbot.waitUntil(lambda: "illegal alias name" in screen.editor.name_problem.plain_text())
    screen.editor.rows[0].kind.setCurrentIndex(2)  # |program
    screen.editor.rows[0].value.setText("")
    qtbot.keyClicks(screen.editor.rows[0].value, "/bin/cat")
    qtbot.waitUntil(lambda: "a b: |/bin/cat\n" in screen.state.pending_text(), timeout=WAIT)
    assert not screen.apply_button.isEnabled()
    assert hashlib.sha256(aliases.read_bytes()).hexdigest() == before


def test_text_page_and_database_view(qtbot: QtBot, screen: AliasesScreen, mta: RunningMta) -> None:
    aliases = Path(str(mta.setup.options["AliasFile"]))
    screen.search.setText("bob")
    assert [screen.proxy.index(r, 0).data() for r in range(screen.proxy.rowCount())] == ["staff"]
    screen.search.clear()
    screen.pages.setCurrentWidget(screen.text_page)
    assert screen.text_page.text() == ALIASES.decode()
    screen.text_page.editor.appendPlainText("broken line without colon")
    qtbot.waitUntil(lambda: "missing colon" in screen.text_page.problems.text(), timeout=WAIT)
    assert "line 10: missing colon" in screen.text_page.problems.text()
    assert not screen.apply_button.isEnabled() and not screen.add_button.isEnabled()
    screen.text_page.editor.setPlainText(ALIASES.decode() + "ops: root\n")
    qtbot.waitUntil(lambda: all_checked(screen, 4) and screen.state.raw_text is None, timeout=WAIT)
    assert screen.model.rows()[-1].state == "new"
    # The file changes behind the screen's back: the database view marks it, Rebuild fixes it.
    aliases.write_bytes(ALIASES.replace(b"a1: a2\n", b"a1: a2\nextra: bob\n"))
    screen.refresh(keep_edits=True)
    qtbot.waitUntil(lambda: "only in the file" in screen.compare.summary.text(), timeout=WAIT)
    assert screen.compare.comparison.keys == {"extra": "only in the file"}
    assert screen.state.dirty  # the edit made on the Text page is still there
    qtbot.mouseClick(screen.compare.rebuild_button, Qt.MouseButton.LeftButton)
    matches = "matches the file (4 aliases)"
    qtbot.waitUntil(lambda: matches in screen.compare.summary.text(), timeout=WAIT)
    assert f"newaliases: {aliases}: 4 aliases" in screen.status.text()
    screen.apply()  # the file changed since it was read: the write is refused
    dialog = screen.diff_dialog
    assert dialog is not None
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: "changed since you read it" in screen.status.text(), timeout=WAIT)
    assert b"ops: root" not in aliases.read_bytes()
    screen.refresh()  # Cancel drops the request: its answer, when it comes, is ignored
    screen.busy.cancel()
    assert screen.status.text() == "Cancelled." and screen.revert_button.isEnabled()
