"""The Ports screen against a real daemon: validation as you type, the preset, Apply and bind."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.gui.models.ports_rows import ListenerRow, check_rows, row_warnings
from postroom.gui.settings import Settings
from postroom.gui.views.ports_screen import PortsScreen
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from pytestqt.qtbot import QtBot

from tests.support.mta import MtaSetup, free_port

from .background_mta import BackgroundMta
from .conftest import open_session

WAIT = 30_000


@pytest.fixture
def mta(tmp_path: Path) -> Iterator[BackgroundMta]:
    setup = MtaSetup(tmp_path / "mta")
    setup.write()
    with BackgroundMta(setup) as daemon:
        yield daemon


@pytest.fixture
def screen(qtbot: QtBot, mta: BackgroundMta, settings: Settings) -> Iterator[PortsScreen]:
    session = open_session(qtbot, mta.setup.config_path)
    widget = PortsScreen(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1400, 700)
    widget.show()  # showing it reads ports.get, then ports.status
    qtbot.waitUntil(lambda: len(widget.table.widgets) == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: widget.table.widgets[1].bound.text() == "● bound", timeout=WAIT)
    yield widget
    session.stop()


def retype(qtbot: QtBot, screen: PortsScreen, row: int, field: str, text: str) -> None:
    editor = screen.table.widgets[row].field_widget(field)
    assert editor is not None
    editor.clear()  # type: ignore[attr-defined]
    qtbot.keyClicks(editor, text)


def message(screen: PortsScreen, row: int) -> str:
    """The message shown under ``row``, as plain text ("" while it is hidden)."""
    label = screen.table.widgets[row].message
    plain = QTextDocumentFragment.fromHtml(label.text()).toPlainText()
    return plain if label.isVisibleTo(screen) else ""


def greeting(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        return sock.recv(512)


def test_listeners_are_shown_with_their_modifiers_and_bound(screen: PortsScreen) -> None:
    mta_row, msa_row = screen.table.widgets
    assert mta_row.name.text() == "MTA" and msa_row.name.text() == "MSA"
    assert msa_row.addr.text() == "127.0.0.1" and msa_row.family.currentText() == "inet"
    assert msa_row.boxes["E"].isChecked() and msa_row.boxes["a"].isChecked()
    assert not mta_row.boxes["a"].isChecked()
    assert "Require SMTP AUTH" in msa_row.boxes["a"].toolTip()  # each modifier explained
    assert "Refuse ETRN" in screen.legend.text()
    assert mta_row.bound.text() == "● bound"
    assert not screen.apply_button.isEnabled()


@pytest.mark.parametrize(
    ("field", "text", "wanted"),
    [
        ("port", "70000", "Port 70000 is out of range: use 1-65535"),
        ("addr", "300.1.1.1", 'Addr "300.1.1.1" is not an IP address'),
        ("addr", "::1", "Addr ::1 is an IPv6 address but Family is inet; use inet6"),
        ("name", "MTA", 'Name "MTA" is also listener 1\'s'),
        ("port", "x y", 'Port "x y" is neither a number'),
    ],
)
def test_invalid_input_is_refused_beside_the_field_and_nothing_is_written(
    qtbot: QtBot, screen: PortsScreen, mta: BackgroundMta, field: str, text: str, wanted: str
) -> None:
    before = mta.setup.config_path.read_bytes()
    retype(qtbot, screen, 1, field, text)
    assert wanted in message(screen, 1)
    editor = screen.table.widgets[1].field_widget(field)
    assert editor is not None and "b00020" in editor.styleSheet()  # the field is outlined
    assert not screen.apply_button.isEnabled()
    screen.apply()  # even called directly, nothing happens
    assert not screen.flow.running
    assert mta.setup.config_path.read_bytes() == before


def test_a_with_A_conflicts_and_a_on_port_25_warns(qtbot: QtBot, screen: PortsScreen) -> None:
    screen.table.widgets[1].boxes["A"].setChecked(True)
    assert "contradict each other" in message(screen, 1)
    assert not screen.apply_button.isEnabled()
    screen.table.widgets[1].boxes["A"].setChecked(False)
    assert message(screen, 1) == ""
    retype(qtbot, screen, 1, "port", "25")
    assert "never require AUTH on a public MTA" in message(screen, 1)
    assert "b00020" not in screen.table.widgets[1].port.styleSheet()  # a warning, not an error


def test_the_msa_preset(qtbot: QtBot, screen: PortsScreen) -> None:
    screen.table.remove_row(1)
    screen.preset_button.click()
    row = screen.table.rows[-1]
    assert (row.name, row.port, row.addr, sorted(row.modifiers)) == ("MSA", "587", "", ["E", "a"])
    widgets = screen.table.widgets[-1]
    assert widgets.boxes["E"].isChecked() and widgets.boxes["a"].isChecked()
    assert screen.table.widgets[0].bound.text() == "● bound"  # kept when rows are laid out
    assert "not loopback" in message(screen, 1)  # a on every address: the advice is shown
    assert screen.apply_button.isEnabled()


def test_rules_without_widgets() -> None:
    rows = [ListenerRow("MTA", "25"), ListenerRow("Other", "smtp", "127.0.0.1")]
    assert "already bound by listener MTA" in check_rows(rows)[(1, "port")]
    assert check_rows([ListenerRow("A", "25", "::1", "inet6")]) == {}
    assert row_warnings(ListenerRow("Sub", "587", "127.0.0.1", modifiers="a")) == []
    assert check_rows([])[(-1, "")].startswith("At least one listener")


def test_a_new_listener_is_written_and_bound_after_reload(
    qtbot: QtBot, screen: PortsScreen, mta: BackgroundMta
) -> None:
    config = mta.setup.config_path
    before = config.read_text()
    port = free_port()
    screen.add_button.click()
    retype(qtbot, screen, 2, "name", "Extra")
    retype(qtbot, screen, 2, "port", str(port))
    retype(qtbot, screen, 2, "addr", "127.0.0.1")
    screen.table.widgets[2].boxes["E"].setChecked(True)
    assert message(screen, 2) == ""
    assert screen.table.widgets[2].bound.text() == "not applied"
    qtbot.waitUntil(lambda: not screen.server_check.pending, timeout=WAIT)
    assert screen.apply_button.isEnabled()
    screen.apply_button.click()
    qtbot.waitUntil(lambda: screen.flow.dialog is not None, timeout=WAIT)
    assert screen.flow.dialog is not None
    assert f'"Name=Extra, Port={port}, Addr=127.0.0.1, M=E"' in screen.flow.dialog.diff
    assert config.read_text() == before
    screen.flow.dialog.apply_button.click()
    qtbot.waitUntil(lambda: len(screen.table.widgets) == 3, timeout=WAIT)
    qtbot.waitUntil(lambda: screen.table.widgets[2].bound.text() == "● bound", timeout=WAIT)
    assert greeting(port).startswith(b"220 mail.example.test ESMTP Postroom")
    text = config.read_text()
    assert text.startswith("# written by tests/support/mta.py\n")
    assert f"Name=Extra, Port={port}, Addr=127.0.0.1, M=E" in text
    changed = [
        (old, new)
        for old, new in zip(before.splitlines(), text.splitlines(), strict=True)
        if old != new
    ]
    assert len(changed) == 1 and changed[0][0].startswith("DaemonPortOptions = [")  # order kept
    assert not screen.changed and not screen.apply_button.isEnabled()
    assert screen.table.widgets[2].bound.toolTip().startswith(f"bound: 127.0.0.1 port {port}")


def test_the_server_check_refuses_what_only_it_knows(qtbot: QtBot, screen: PortsScreen) -> None:
    retype(qtbot, screen, 1, "port", "nosuchservice")  # a service-name shape, unknown
    assert message(screen, 1) == ""
    qtbot.waitUntil(lambda: "The server refuses this" in message(screen, 1), timeout=WAIT)
    assert "nosuchservice" in message(screen, 1)
    assert not screen.apply_button.isEnabled()
    screen.table.widgets[1].boxes["E"].setChecked(False)  # any edit re-checks
    assert Qt.CheckState.Unchecked == screen.table.widgets[1].boxes["E"].checkState()
