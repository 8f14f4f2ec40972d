"""The Log screen against a real daemon: live tail, LogLevel filter, search, traffic log."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.control.log_levels import line_level
from postroom.gui.models.log_lines import MAX_LINES, LogLines
from postroom.gui.settings import Settings
from postroom.gui.views.log_screen import TRAFFIC_LOG, LogScreen
from PySide6.QtGui import QStandardItemModel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.support.mta import MtaSetup

from .background_mta import BackgroundMta
from .conftest import open_session

WAIT = 30_000


@pytest.fixture
def mta(tmp_path: Path) -> Iterator[BackgroundMta]:
    setup = MtaSetup(tmp_path / "mta")
    setup.write()
    with BackgroundMta(setup, "-X", "traffic.log") as daemon:
        yield daemon


@pytest.fixture
def screen(qtbot: QtBot, mta: BackgroundMta, settings: Settings) -> Iterator[LogScreen]:
    session = open_session(qtbot, mta.setup.config_path)
    widget = LogScreen(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()  # showing it starts the tail
    qtbot.waitUntil(lambda: widget.offset is not None, timeout=WAIT)
    yield widget
    session.stop()


def shown(screen: LogScreen) -> list[str]:
    model = screen.lines
    return [str(model.index(row, 0).data()) for row in range(model.rowCount())]


def vrfy(port: int, who: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("client.example.org")
        smtp.verify(who)


def test_a_line_the_daemon_just_logged_appears(qtbot: QtBot, screen: LogScreen) -> None:
    assert any("starting daemon" in line for line in shown(screen))  # the initial tail
    assert str(screen.path).endswith("maillog")
    vrfy(screen_port(screen), "bob")
    wanted = "localhost [127.0.0.1]: VRFY bob"
    qtbot.waitUntil(lambda: any(line.endswith(wanted) for line in shown(screen)), timeout=WAIT)
    last = screen.view.indexAt(screen.view.viewport().rect().bottomLeft())
    assert last.isValid() or screen.lines.rowCount() < 20  # follow kept the newest in view


def screen_port(screen: LogScreen) -> int:
    daemon = screen.session.daemon or {}
    text = daemon["listeners"][0]
    return int(text.split("Port=")[1].split(",")[0])


def test_loglevel_filter_and_search(qtbot: QtBot, screen: LogScreen) -> None:
    vrfy(screen_port(screen), "alice")
    qtbot.waitUntil(lambda: any("VRFY alice" in line for line in shown(screen)), timeout=WAIT)
    connect = [line for line in shown(screen) if "connect from localhost" in line]
    assert connect, "LogLevel 15 logs connections"
    screen.level.setCurrentIndex(screen.level.findData(6))
    lines = shown(screen)
    assert any(line.endswith(": VRFY alice") for line in lines)  # level 6 kept
    assert not any("connect from" in line for line in lines)  # level 12 hidden
    assert not any("<-- " in line for line in lines)  # level 15 hidden
    assert "hidden by the filter" in screen.status.text()
    screen.level.setCurrentIndex(screen.level.findData(5))
    assert not any(line.endswith(": VRFY alice") for line in shown(screen))
    screen.level.setCurrentIndex(0)  # all lines
    screen.search.setText("vrfy ALICE")
    assert len(shown(screen)) == 2  # the command and the VRFY line, whatever their case
    assert all("vrfy alice" in line.lower() for line in shown(screen))


def test_the_traffic_log_when_the_daemon_writes_one(qtbot: QtBot, screen: LogScreen) -> None:
    model = screen.source.model()
    assert isinstance(model, QStandardItemModel)
    qtbot.waitUntil(lambda: model.item(1).isEnabled(), timeout=WAIT)
    vrfy(screen_port(screen), "root")
    screen.source.setCurrentIndex(screen.source.findData(TRAFFIC_LOG))
    assert not screen.level.isEnabled()  # traffic lines have no level
    qtbot.waitUntil(
        lambda: any(line.lower().endswith(" <<< vrfy root") for line in shown(screen)), timeout=WAIT
    )
    assert any(" >>> 220 mail.example.test ESMTP" in line for line in shown(screen))
    assert screen.path.endswith("traffic.log")


def test_levels_are_recognised() -> None:
    prefix = "Nov 25 22:49:52 vm postroom-mta[24831]: "
    assert line_level(prefix + "connect from localhost [127.0.0.1] on MTA") == 12
    assert line_level(prefix + "localhost [127.0.0.1]: VRFY root [rejected]") == 6
    assert line_level(prefix + "6APITkJh015270: from=<a@b.example>, size=12, class=0") == 5
    line = "6APITkJh015270: to=<x@y>, delay=00:00:01, mailer=esmtp, dsn=4.0.0, stat=Deferred"
    assert line_level(prefix + line) == 9
    assert line_level(prefix + line.replace("dsn=4", "dsn=2")) == 8
    assert line_level(prefix + "<-- QUIT") == 15
    assert line_level(prefix + "something new") is None


def test_unrecognised_lines_are_never_hidden(qtmodeltester: ModelTester) -> None:
    lines = LogLines()
    qtmodeltester.check(lines, force_py=True)
    lines.append(["a", "b", "c"], [1, None, 15])
    lines.set_filter(5, "")
    assert lines.shown_lines() == ["a", "b"]
    lines.set_filter(None, "C")
    assert lines.shown_lines() == ["c"]


def test_the_oldest_lines_go_and_the_filter_follows() -> None:
    lines = LogLines()
    lines.set_filter(5, "")
    lines.append([f"line {i}" for i in range(MAX_LINES)], [i % 10 for i in range(MAX_LINES)])
    assert lines.rowCount() == MAX_LINES * 6 // 10
    lines.append(["new, level 3", "new, level 9"], [3, 9])
    assert lines.total() == MAX_LINES
    assert lines.shown_lines()[0] == "line 2"  # lines 0 and 1 were dropped
    assert lines.shown_lines()[-1] == "new, level 3"
