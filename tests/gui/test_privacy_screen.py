"""The Privacy screen against a real daemon: the checklist rules, Apply with its diff, the probe."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.gui.models.privacy_flags import ISSUE_FLAGS, FlagState, PrivacyFlags
from postroom.gui.settings import Settings
from postroom.gui.views.busy_bar import BusyBar
from postroom.gui.views.diff_dialog import DiffDialog, summary
from postroom.gui.views.privacy_screen import PrivacyScreen
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from tests.support.mta import MtaSetup

from .background_mta import BackgroundMta
from .conftest import open_session

WAIT = 30_000
NOVRFY = "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery (or try finger)"


@pytest.fixture
def mta(tmp_path: Path) -> Iterator[BackgroundMta]:
    setup = MtaSetup(tmp_path / "mta")
    setup.write()
    with BackgroundMta(setup) as daemon:
        yield daemon


@pytest.fixture
def screen(qtbot: QtBot, mta: BackgroundMta, settings: Settings) -> Iterator[PrivacyScreen]:
    session = open_session(qtbot, mta.setup.config_path)
    widget = PrivacyScreen(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()  # showing it reads privacy.get
    qtbot.waitUntil(lambda: widget.flags is not None, timeout=WAIT)
    yield widget
    session.stop()


def check_state(screen: PrivacyScreen, name: str) -> Qt.CheckState:
    item = screen.item(name)
    assert item is not None
    return item.checkState(0)


def test_the_checklist_lists_every_flag_with_its_explanations(screen: PrivacyScreen) -> None:
    names = [screen.tree.topLevelItem(i).text(0) for i in range(screen.tree.topLevelItemCount())]
    assert names[: len(ISSUE_FLAGS)] == list(ISSUE_FLAGS)
    novrfy = screen.item("novrfy")
    assert novrfy is not None
    assert novrfy.text(1) == "Refuse to verify addresses with VRFY."
    assert NOVRFY in novrfy.toolTip(0)  # the longer explanation, on demand
    screen.tree.setCurrentItem(novrfy)
    assert NOVRFY in screen.about.text()
    assert check_state(screen, "authwarnings") == Qt.CheckState.Checked  # from the file
    assert "authwarnings" in screen.effective.text()
    assert not screen.apply_button.isEnabled()  # nothing changed yet


def test_goaway_ticks_exactly_its_flags_and_public_clears_them(screen: PrivacyScreen) -> None:
    screen.set_flag("goaway", True)
    goaway = {"needmailhelo", "needexpnhelo", "noexpn", "needvrfyhelo", "novrfy", "noverb",
              "authwarnings", "noreflection"}  # fmt: skip
    for name in (*ISSUE_FLAGS, "noactualrecipient", "noreflection"):
        want = name in goaway or name == "goaway"
        state = check_state(screen, name)
        assert (state == Qt.CheckState.Checked) == want, name
    screen.set_flag("noverb", False)
    assert check_state(screen, "goaway") == Qt.CheckState.PartiallyChecked
    screen.set_flag("goaway", True)  # a click on a partly ticked goaway ticks it all
    assert check_state(screen, "noverb") == Qt.CheckState.Checked
    assert screen.flags is not None and screen.flags.names() == ["goaway"]
    screen.set_flag("noetrn", True)
    assert screen.flags.names() == ["goaway", "noetrn"]
    screen.set_flag("public", True)
    assert screen.flags.effective() == []
    assert all(
        check_state(screen, n) == Qt.CheckState.Unchecked for n in ISSUE_FLAGS if n != "public"
    )
    assert check_state(screen, "public") == Qt.CheckState.Checked
    assert screen.apply_button.isEnabled()  # authwarnings was cleared: a change


def test_flag_rules_without_widgets() -> None:
    answer = {
        "value": 0x20,
        "flags": [
            {"name": "public", "bits": 0},
            {"name": "novrfy", "bits": 0x10},
            {"name": "noexpn", "bits": 0x8},
            {"name": "goaway", "bits": 0xFFFF | 0x800000},
            {"name": "authwarnings", "bits": 0x20},
        ],
    }
    flags = PrivacyFlags(answer)
    assert flags.state("goaway") is FlagState.PARTIAL
    flags.toggle("goaway")
    assert flags.names() == ["goaway"]
    flags.toggle("goaway")
    assert flags.names() == ["public"] and flags.state("public") is FlagState.ON


def test_applying_novrfy_shows_the_diff_reloads_and_the_probe_sees_the_refusal(
    qtbot: QtBot, screen: PrivacyScreen, mta: BackgroundMta
) -> None:
    config = mta.setup.config_path
    before = config.read_text()
    with smtplib.SMTP("127.0.0.1", mta.setup.ports["MTA"], timeout=10) as smtp:
        smtp.ehlo("client.example.org")
        assert smtp.verify("alice")[0] == 250  # answered before the change
    screen.set_flag("novrfy", True)
    assert "novrfy" in screen.effective.text()
    screen.apply_button.click()
    qtbot.waitUntil(lambda: screen.flow.dialog is not None, timeout=WAIT)
    dialog = screen.flow.dialog
    assert isinstance(dialog, DiffDialog)
    assert '+PrivacyOptions = ["authwarnings", "novrfy"]' in dialog.diff
    assert '-PrivacyOptions = ["authwarnings"]' in dialog.diff
    assert config.read_text() == before  # nothing written before Apply
    dialog.apply_button.click()
    qtbot.waitUntil(
        lambda: (
            screen.probe_view.result is not None
            and bool(screen.probe_view.result.get("matches_config"))
        ),
        timeout=WAIT,
    )
    replies = screen.probe_view.replies()
    assert replies["after EHLO VRFY postmaster"] == NOVRFY
    assert replies["before HELO VRFY postmaster"] == NOVRFY
    assert replies["after EHLO EXPN postmaster"].startswith("250 ")  # noexpn not set
    assert "enforces the configuration" in screen.probe_view.title.text()
    text = config.read_text()
    assert text.startswith("# written by tests/support/mta.py\n")  # comments kept
    assert 'PrivacyOptions = ["authwarnings", "novrfy"]' in text
    assert text.replace('"authwarnings", "novrfy"', '"authwarnings"') == before  # order kept
    with smtplib.SMTP("127.0.0.1", mta.setup.ports["MTA"], timeout=10) as smtp:
        smtp.ehlo("client.example.org")
        code, message = smtp.verify("alice")
    assert (code, message.decode()) == (252, NOVRFY[4:])
    qtbot.waitUntil(lambda: "novrfy" in screen.effective.text().split("After Apply")[0])
    assert 'PrivacyOptions = ["authwarnings", "novrfy"]' in screen.effective.text()  # file order


def test_cancel_in_the_diff_writes_nothing(qtbot: QtBot, screen: PrivacyScreen) -> None:
    config = screen.flags.path if screen.flags is not None else ""
    before = Path(config).read_bytes()
    screen.set_flag("noexpn", True)
    screen.apply_button.click()
    qtbot.waitUntil(lambda: screen.flow.dialog is not None, timeout=WAIT)
    assert screen.flow.dialog is not None
    screen.flow.dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not screen.flow.running, timeout=WAIT)
    assert screen.status.text() == "Not applied; nothing was written."
    assert Path(config).read_bytes() == before


def test_the_busy_bar_shows_only_after_300_ms_and_cancels(qtbot: QtBot) -> None:
    bar = BusyBar()
    qtbot.addWidget(bar)
    cancelled: list[bool] = []
    bar.start("Working…", lambda: cancelled.append(True))
    assert not bar.isVisible()  # a quick answer never shows it
    started = time.monotonic()
    qtbot.waitUntil(bar.isVisible, timeout=5000)
    assert time.monotonic() - started >= 0.25
    bar.cancel_button.click()
    assert cancelled == [True] and not bar.isVisible() and not bar.busy
    bar.start("Quick", lambda: cancelled.append(False))
    bar.stop()
    assert not bar._timer.isActive()  # stopped work never shows the bar later
    assert not bar.isVisible() and cancelled == [True]


def test_the_diff_dialog_colours_lines_and_refuses_an_empty_diff(qtbot: QtBot) -> None:
    diff = "--- a (in force)\n+++ a (proposed)\n@@ -1 +1 @@\n-old\n+new\n"
    dialog = DiffDialog("Change X", diff, warnings=["careful"])
    qtbot.addWidget(dialog)
    assert dialog.apply_button.isEnabled()
    assert "1 line added, 1 removed" in dialog.findChild(QLabel, "diffHeading").text()
    assert dialog.warnings.text() == "Warning: careful"
    block = dialog.text.document().findBlockByNumber(4)  # "+new"
    formats = block.layout().formats()
    assert formats and formats[0].format.background().color().name() == "#dafbe1"
    empty = DiffDialog("Change X", "")
    qtbot.addWidget(empty)
    assert not empty.apply_button.isEnabled()
    assert summary("") == "no change"
