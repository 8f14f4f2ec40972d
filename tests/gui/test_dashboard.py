"""The Dashboard on real traffic: a daemon receives, a queue run delivers, defers and bounces.

One module-wide daemon gets real SMTP traffic: local mail, mail for a domain whose smart
host refuses connections, a relaying attempt that is refused, and a message for a user
whose mailbox is a symbolic link (refused for good).  ``queue.run`` over the RPC then
delivers, defers and bounces.  Each test opens its own connection and Dashboard.
"""

from __future__ import annotations

import csv
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control.client import RpcClient
from postroom.gui.models.session import Session
from postroom.gui.models.stats_mailers import MailerStatsModel
from postroom.gui.models.stats_series import SeriesBuffer
from postroom.gui.settings import Settings
from postroom.gui.transport import LocalTransport
from postroom.gui.views.dashboard_screen import DashboardScreen
from postroom.gui.views.hosts_screen import HostsScreen
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtGui import QImage
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.control.support import connect
from tests.support.mta import MtaSetup, RunningMta

from .conftest import open_session

WAIT = 30_000
CLI = [sys.executable, "-m", "postroom.core.cli"]
LOCAL = ("alice", "bob", "alice")
REMOTE = ("carol@partner.example", "dave@partner.example")


@dataclass
class Traffic:
    setup: MtaSetup
    config: Path
    mta: RunningMta


def smtp_send(port: int, sender: str, to: str, source: str = "127.0.0.1") -> None:
    body = f"From: {sender}\r\nTo: {to}\r\nSubject: dashboard test\r\n\r\nhello\r\n"
    with smtplib.SMTP("127.0.0.1", port, source_address=(source, 0), timeout=30) as smtp:
        smtp.sendmail(sender, [to], body.encode())


def wait_for(check: Any, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def series_total(client: RpcClient, name: str) -> int:
    series = client.call("stats.series", {"start": time.time() - 3600})
    return int(sum(series["counters"][name]))


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traffic]:
    setup = MtaSetup(tmp_path_factory.mktemp("dash") / "mta", {"HostStatusDirectory": ".hoststat"})
    config = setup.write()
    (setup.queue_dir / ".hoststat").mkdir()  # Sendmail records host status only if it exists
    with RunningMta(setup) as mta:
        port = mta.port()
        for user in LOCAL:
            smtp_send(port, "zoe@example.test", f"{user}@mail.example.test")
        for to in REMOTE:  # 127.0.0.2 may relay; the smart host is a closed port
            smtp_send(port, "alice@mail.example.test", to, source="127.0.0.2")
        with pytest.raises(smtplib.SMTPRecipientsRefused):  # 127.0.0.1 may not relay
            smtp_send(port, "spam@example.test", "victim@elsewhere.example")
        (setup.spool_dir / "root").symlink_to(setup.base / "elsewhere")  # refused: a bounce
        smtp_send(port, "alice@mail.example.test", "root@mail.example.test")
        client = connect(config)
        try:
            wait_for(lambda: series_total(client, "received") == 6, "6 messages counted")
            client.call("queue.run")
        finally:
            client.close()
        yield Traffic(setup, config, mta)


@pytest.fixture
def live(qtbot: QtBot, traffic: Traffic) -> Iterator[Session]:
    session = open_session(qtbot, traffic.config)
    yield session
    session.stop()


@pytest.fixture
def dashboard(qtbot: QtBot, live: Session, settings: Settings) -> DashboardScreen:
    screen = DashboardScreen(live, settings)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitUntil(lambda: screen.loaded_at is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: screen.mailers.rowCount() > 2, timeout=WAIT)
    return screen


def curve_total(screen: DashboardScreen, name: str) -> float:
    _x, y = screen.plots.curves[name].getData()
    return float(sum(v for v in y if v == v))


def test_shows_what_real_deliveries_produced(dashboard: DashboardScreen) -> None:
    buffer = dashboard.buffer
    assert buffer.resolution == 60 and 60 <= len(buffer) <= 62
    assert buffer.total("received") == 6  # the DSN the bounce made is not received mail
    assert buffer.total("delivered") >= 4  # three local messages and the DSN
    assert buffer.total("deferred") == 2
    assert buffer.total("bounced") == 1
    assert buffer.total("rejected") == 1
    assert buffer.total("bytes_in") > 0 and buffer.total("bytes_out") > 0
    for name in ("received", "delivered", "deferred", "bounced", "rejected"):
        assert curve_total(dashboard, name) == buffer.total(name)
    assert dashboard.tiles.value("deferred") == "2"
    assert dashboard.tiles.value("rejected") == "1"
    assert dashboard.tiles.tiles["deferred"].note.text() == "last 1 h"
    assert dashboard.graphs.currentIndex() == 0
    assert "60" in dashboard.status.text() or "61" in dashboard.status.text()


def test_per_mailer_table_matches_mailstats(
    dashboard: DashboardScreen, traffic: Traffic, tmp_path: Path
) -> None:
    link = tmp_path / "mailstats"
    link.symlink_to(Path(sys.executable).parent / "postroom-mta")
    report = subprocess.run(
        [str(link), "-C", str(traffic.config)], capture_output=True, text=True, check=True
    ).stdout
    expected = []
    for line in report.splitlines()[2:]:
        if line.startswith("="):
            continue
        expected.append(line.replace("K", "").split())
    model = dashboard.mailers
    shown = []
    for row in range(model.rowCount()):
        cells = [model.index(row, c).data() for c in range(model.columnCount())]
        shown.append([c.replace(",", "").replace("K", "") for c in cells if c])
    assert shown == expected
    assert "Statistics from " in dashboard.mailers_caption.text()


def test_ranges_ask_the_right_buckets(qtbot: QtBot, dashboard: DashboardScreen) -> None:
    for label, resolution, low, high in (
        ("24 h", 60, 1440, 1442),
        ("7 d", 3600, 168, 170),
        ("90 d", 3600, 2160, 2162),
        ("1 h", 60, 60, 62),
    ):
        before = dashboard.loaded_at
        button = dashboard.findChild(
            type(dashboard.refresh_button), f"range_{label.replace(' ', '')}"
        )
        assert button is not None
        button.click()
        qtbot.waitUntil(lambda b=before: dashboard.loaded_at != b, timeout=WAIT)
        assert dashboard.buffer.resolution == resolution, label
        assert low <= len(dashboard.buffer) <= high, label
        assert dashboard.buffer.total("received") == 6, label
        assert dashboard.tiles.tiles["rejected"].note.text() == f"last {label}"
        unit = "hour" if resolution == 3600 else "minute"
        assert dashboard.status.text().startswith(f"{len(dashboard.buffer):,} {unit} buckets")
    assert dashboard.settings.text("dashboard/range") == "1 h"


def test_ticks_move_the_same_curves(
    qtbot: QtBot, dashboard: DashboardScreen, traffic: Traffic
) -> None:
    qtbot.waitUntil(lambda: dashboard.live, timeout=WAIT)
    curves = dict(dashboard.plots.curves)
    items = {k: len(p.getPlotItem().listDataItems()) for k, p in dashboard.plots.plots.items()}
    loaded = dashboard.loaded_at
    received = dashboard.buffer.total("received")
    smtp_send(traffic.mta.port(), "zoe@example.test", "bob@mail.example.test")
    qtbot.waitUntil(lambda: dashboard.buffer.total("received") == received + 1, timeout=WAIT)
    assert dashboard.loaded_at == loaded  # the tick did it, not a new stats.series
    assert curve_total(dashboard, "received") == received + 1
    assert dashboard.plots.curves == curves
    assert all(
        a is b for a, b in zip(dashboard.plots.curves.values(), curves.values(), strict=True)
    )
    after = {k: len(p.getPlotItem().listDataItems()) for k, p in dashboard.plots.plots.items()}
    assert after == items == {"messages": 5, "bytes": 2, "queue": 1, "age": 1}
    this_minute = int(dashboard.buffer.values["received"][-1])  # the tile shows the tick's
    assert dashboard.tiles.value("in") == f"{this_minute:,}"
    qtbot.waitUntil(lambda: dashboard.live and "live" in dashboard.status.text(), timeout=WAIT)


def test_values_under_the_cursor(qtbot: QtBot, dashboard: DashboardScreen) -> None:
    buffer = dashboard.buffer
    busiest = max(range(len(buffer)), key=lambda i: buffer.values["received"][i])
    stamp = float(buffer.times[busiest])
    plot = dashboard.plots.plots["messages"]
    view = plot.getPlotItem().vb
    scene_point = view.mapViewToScene(QPointF(stamp + 30, 0.5))
    widget_point = plot.mapFromScene(scene_point)
    qtbot.mouseMove(plot.viewport(), widget_point)
    qtbot.waitUntil(lambda: "received" in dashboard.plots.readout.text(), timeout=WAIT)
    text = dashboard.plots.readout.text()
    count = int(buffer.values["received"][busiest])
    assert f"</span> {count:,}" in text.split("received")[1][:60]
    assert time.strftime("%H:%M", time.localtime(stamp)) in text
    assert all(c.pos().x() == stamp for c in dashboard.plots.cursors)
    assert all(c.isVisible() for c in dashboard.plots.cursors)


def test_export_png_and_csv(dashboard: DashboardScreen, tmp_path: Path) -> None:
    png = tmp_path / "dash.png"
    assert dashboard.export_png(png)
    image = QImage(str(png))
    assert image.width() >= 600 and image.height() >= 300
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dashboard.plots.curves["bounced"].setVisible(False)  # as a click on its legend entry does
    rows_csv = tmp_path / "dash.csv"
    count = dashboard.export_csv(rows_csv)
    with open(rows_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) and 55 <= count <= 62
    assert "bounced" not in rows[0]
    assert {"time", "unix_time", "received", "oldest_age"} <= set(rows[0])
    assert sum(int(r["received"]) for r in rows) == dashboard.buffer.total("received")
    assert "Saved" in dashboard.status.text() and str(rows_csv) in dashboard.status.text()
    assert not dashboard.export_png(tmp_path / "no-such-dir" / "x.png")
    assert dashboard.status.text().startswith("Export failed:")


def test_the_hosts_screen_shows_the_host_real_deliveries_failed_on(
    qtbot: QtBot, live: Session, traffic: Traffic
) -> None:
    hosts = HostsScreen(live)  # issue 7 point 7: hosts from real deliveries, too
    qtbot.addWidget(hosts)
    hosts.show()
    qtbot.waitUntil(lambda: hosts.model.rowCount() >= 1, timeout=WAIT)
    row = hosts.model.row_at(0)
    assert row.host == "127.0.0.1" and row.failed
    assert row.result == "Connection refused" and row.exit_status == 75
    assert list((traffic.setup.queue_dir / ".hoststat").rglob("*"))  # the real file


def test_a_server_without_time_series_says_so(
    qtbot: QtBot, session: Session, settings: Settings
) -> None:
    screen = DashboardScreen(session, settings)  # write_config sets no TimeSeriesFile
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.graphs.currentIndex() == 1, timeout=WAIT)
    assert "TimeSeriesFile is not set in the configuration" in screen.notice.text()
    assert "TimeSeriesFile = &quot;timeseries&quot;" in screen.notice.text() or (
        'TimeSeriesFile = "timeseries"' in screen.notice.text()
    )
    assert screen.status.text().startswith("stats.series: not available")
    qtbot.waitUntil(lambda: "stats.totals:" in screen.mailers_caption.text(), timeout=WAIT)


def test_a_lost_connection_marks_it_stale_and_it_recovers(
    qtbot: QtBot, dashboard: DashboardScreen, live: Session
) -> None:
    transport = live.client.transport
    assert isinstance(transport, LocalTransport)
    loaded = dashboard.loaded_at
    os.kill(transport.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: dashboard.status.text().startswith("stale"), timeout=WAIT)
    assert not dashboard.refresh_button.isEnabled()
    assert dashboard.buffer.total("received") >= 6  # the last data stays
    assert dashboard.mailers.stale
    qtbot.waitUntil(lambda: dashboard.loaded_at != loaded, timeout=WAIT)
    assert not dashboard.mailers.stale or dashboard.mailers.rowCount() > 0
    qtbot.waitUntil(lambda: not dashboard.status.text().startswith("stale"), timeout=WAIT)


LOCAL_ROW = {"msgsfr": 2, "bytes_from": 3, "msgsto": 4, "bytes_to": 5, "msgsrej": 0}


def test_mailer_model_passes_modeltester(qtmodeltester: ModelTester) -> None:
    model = MailerStatsModel()
    qtmodeltester.check(model, force_py=True)
    model.set_totals(
        {
            "since": 1_700_000_000,
            "file": "/x/statistics",
            "mailers": [dict(LOCAL_ROW, mailer=3, name="local")],
            "total": {"msgsfr": 2, "bytes_from": 3, "msgsto": 4, "bytes_to": 5},
            "connections": {"from": 7, "to": 1, "rejected": 2},
        }
    )
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 3
    assert [model.index(2, c).data() for c in range(6)] == ["C", "7", "", "1", "", "2"]
    assert model.index(0, 2).data() == "3K"


def test_series_buffer_folds_ticks_into_minutes() -> None:
    buffer = SeriesBuffer()
    start = 1_700_000_040
    stamps = [start + 60 * i for i in range(61)]
    buffer.load(
        {
            "resolution": 60,
            "timestamps": stamps,
            "counters": {"received": [1] * 61},
            "gauges": {"queue_size": [None] * 60 + [4.0]},
        },
        3600,
    )
    assert buffer.total("received") == 61 and buffer.latest("queue_size") == 4.0
    last = stamps[-1]
    assert buffer.apply_tick({"minute": last, "counters": {"received": 5}, "gauges": {}})
    assert buffer.total("received") == 65 and len(buffer) == 61
    tick = {"minute": last + 120, "counters": {"received": 2}, "gauges": {"queue_size": 9}}
    assert buffer.apply_tick(tick)
    assert len(buffer) == 61 and buffer.times[-1] == last + 120  # two in, two out
    assert buffer.values["received"][-2] == 0 and buffer.latest("queue_size") == 9
    assert buffer.apply_tick({"minute": last + 10 * 86_400, "counters": {"received": 1}})
    assert len(buffer) == 61 and buffer.total("received") == 1  # a long gap: all new
    hourly = SeriesBuffer()
    hourly.load({"resolution": 3600, "timestamps": [3600], "counters": {}, "gauges": {}}, 86_400)
    assert not hourly.apply_tick({"minute": 3660, "counters": {"received": 1}})
    with pytest.raises(ValueError):
        hourly.load({"resolution": 60}, 3600)


def test_settings_keep_the_range(qtbot: QtBot, session: Session, tmp_path: Path) -> None:
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.set_text("dashboard/range", "7 d")
    screen = DashboardScreen(session, settings)
    qtbot.addWidget(screen)
    assert screen.range.label == "7 d"
    checked = [b.text() for b in screen.range_buttons.buttons() if b.isChecked()]
    assert checked == ["7 d"]
