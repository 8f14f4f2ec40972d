"""Fixtures for the GUI tests: offscreen Qt, a real RPC server over the real LocalTransport.

``QT_QPA_PLATFORM=offscreen`` is set before any Qt import, so no display is needed.
Each test gets a private config (``tests.control.support.write_config``) with a queue
built by the real ``QueueStore`` (:mod:`.realistic`), private app settings, and -- via
``session`` -- a connected :class:`~postroom.gui.models.session.Session` on its own
server process, shut down after the test.
"""

from __future__ import annotations

import gc
import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postroom.gui.models.session import Session
from postroom.gui.qt_client import QtRpcClient
from postroom.gui.settings import Settings
from postroom.gui.views.openers import local_opener
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.control.support import write_config

from .realistic import BuiltQueue, build_queue

CONNECT_TIMEOUT_MS = 30_000


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path / "mta")


@pytest.fixture
def queue_dir(config_path: Path) -> Path:
    return config_path.parent / "mqueue"


@pytest.fixture
def built(queue_dir: Path) -> BuiltQueue:
    return build_queue(queue_dir)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def open_session(qtbot: QtBot, config: Path, **kw: Any) -> Session:
    session = Session("Local", QtRpcClient(local_opener(config), "local"), **kw)
    with qtbot.waitSignal(session.connectedAgain, timeout=CONNECT_TIMEOUT_MS):
        session.start()
    return session


@pytest.fixture
def session(qtbot: QtBot, config_path: Path, built: BuiltQueue) -> Iterator[Session]:
    s = open_session(qtbot, config_path)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def collect_qt_garbage(qtbot: QtBot) -> Iterator[None]:
    """Collect each GUI test's cyclic garbage while its Qt objects still have their app
    and event loop; left to a later (non-GUI) test, a Qt object finalised by the cyclic
    collector there can abort the interpreter."""
    yield
    qtbot.wait(0)
    gc.collect()
