"""A large queue loads completely and correctly, streaming, without freezing the window.

20,000 jobs keep the suite quick; ``bench/gui_queue_load.py`` runs the same check on
100,000 (it asserts the count and the order too) and measures the times.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from postroom.gui.settings import Settings
from postroom.gui.views.queue_screen import QueueScreen
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from tests.control.queuefill import fill_queue
from tests.control.support import write_config

from .conftest import open_session

COUNT = 20_000


def test_a_large_queue_streams_in_completely_and_sorted(
    qtbot: QtBot, tmp_path: Path, settings: Settings
) -> None:
    config = write_config(tmp_path / "big")
    ids = fill_queue(config.parent / "mqueue", COUNT)
    session = open_session(qtbot, config)
    screen = QueueScreen(session, settings)
    qtbot.addWidget(screen)
    screen.show()
    events: list[str] = []
    screen.model.rowsInserted.connect(lambda *_: events.append("rows"))
    screen.loader.finished.connect(lambda _s: events.append("finished"))
    ticks: list[float] = []
    heartbeat = QTimer(interval=20)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start()
    with qtbot.waitSignal(screen.loader.finished, timeout=110_000):
        screen.reload()
    heartbeat.stop()
    assert events.index("rows") < events.index("finished")  # first rows before the end
    assert events.count("rows") > 2  # inserted in batches
    rows = screen.model.rows()
    assert len(rows) == COUNT
    assert sorted(r.qid for r in rows) == sorted(ids)
    arrivals = [r.arrival for r in rows]
    assert arrivals == sorted(arrivals)  # the default sort, applied once loaded
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert gaps and max(gaps) < 1.0  # the event loop kept running throughout
    session.stop()
