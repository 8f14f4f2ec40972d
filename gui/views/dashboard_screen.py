"""The Dashboard screen: live graphs of the server's traffic and ``mailstats``' counters.

Tiles on top (queued, oldest message, received and delivered this minute, deferred and
rejected over the range), a range selector (1 h, 24 h, 7 d, 90 d), the four plots of
:mod:`.dashboard_plots` and, below them, the per-mailer table as ``mailstats`` prints it.

Data: ``stats.series`` for the range (minute buckets up to 48 hours, hour buckets
beyond), ``stats.totals`` for the table, ``stats.tick`` events (subscribed when the
connection opens) for the current minute, folded into minute buckets as they come;
hour-bucket ranges are asked again at most once a minute while ticks arrive.  The
queued tile follows ``queue.changed``.  A fetch that takes longer than 300 ms shows
progress and can be cancelled; a server without ``TimeSeriesFile`` answers
``not_available``, which replaces the plots with the server's reason and what to do.
A lost connection greys the figures and marks them stale; they refresh when it is back.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from postroom.core.control.protocol import NOT_AVAILABLE, RpcError
from postroom.gui.models.session import Session
from postroom.gui.models.stats_mailers import SORT_ROLE, MailerStatsModel
from postroom.gui.models.stats_series import RANGES, SeriesBuffer, TimeRange
from postroom.gui.qt_client import ConnectionState, Request
from postroom.gui.settings import Settings
from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .dashboard_export import write_csv, write_png
from .dashboard_plots import DashboardPlots, fmt_age
from .dashboard_tiles import Tiles

BUSY_AFTER_MS = 300
HOUR_REFETCH_S = 60.0
TOTALS_DEBOUNCE_MS = 1500
_NOTICE = (
    "QLabel#seriesNotice { background: #fff8c5; border: 1px solid #d4a72c; "
    "border-radius: 6px; padding: 18px; color: #24292f; }"
)


class DashboardScreen(QWidget):
    """Graphs and counters of one connection."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.buffer = SeriesBuffer()
        self.range = self._saved_range()
        self.loaded_at: float | None = None
        self.last_tick: dict[str, Any] | None = None
        self.live = False
        self.follow = True
        self._series_req: Request | None = None
        self._totals_req: Request | None = None
        self.tiles = Tiles()
        self.plots = DashboardPlots()
        self.notice = QLabel()
        self.notice.setObjectName("seriesNotice")
        self.notice.setStyleSheet(_NOTICE)
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.graphs = QStackedWidget()
        self.graphs.addWidget(self.plots)
        self.graphs.addWidget(self._centred(self.notice))
        self.mailers = MailerStatsModel()
        self.table = self._make_table()
        self.mailers_caption = QLabel("<b>Per mailer</b> (mailstats)")
        self.status = QLabel("")
        self.status.setStyleSheet("color: #57606a;")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(110)
        self.progress.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.hide()
        self.cancel.clicked.connect(self.cancel_fetch)
        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_AFTER_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        self._totals_timer = QTimer(self, singleShot=True, interval=TOTALS_DEBOUNCE_MS)
        self._totals_timer.timeout.connect(self.refresh_totals)
        self._build_layout()
        self.plots.plots["messages"].getPlotItem().vb.sigRangeChangedManually.connect(
            self._on_manual_zoom
        )
        session.connectedAgain.connect(self._on_connected)
        session.changed.connect(self._on_session)
        session.queueChanged.connect(self._on_queue_changed)
        session.client.serverEvent.connect(self._on_event)
        if session.connected and session.info is not None:
            self._on_connected()
        self._on_session()

    # -- construction -------------------------------------------------------------------

    def _saved_range(self) -> TimeRange:
        label = self.settings.text("dashboard/range", RANGES[0].label)
        return next((r for r in RANGES if r.label == label), RANGES[0])

    @staticmethod
    def _centred(widget: QWidget) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout()
        row.addStretch(1)
        widget.setMaximumWidth(680)
        row.addWidget(widget, 3)
        row.addStretch(1)
        layout = QVBoxLayout(holder)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        return holder

    def _make_table(self) -> QTableView:
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.mailers)
        proxy.setSortRole(SORT_ROLE)
        table = QTableView()
        table.setObjectName("mailersTable")
        table.setModel(proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(22)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        return table

    def _build_layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Range:"))
        self.range_buttons = QButtonGroup(self)
        self.range_buttons.setExclusive(True)
        for r in RANGES:
            button = QPushButton(r.label)
            button.setCheckable(True)
            button.setChecked(r == self.range)
            button.setObjectName(f"range_{r.label.replace(' ', '')}")
            button.clicked.connect(lambda _on=False, chosen=r: self.set_range(chosen))
            self.range_buttons.addButton(button)
            bar.addWidget(button)
        bar.addSpacing(12)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel)
        bar.addStretch(1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self._ask_csv)
        for button in (self.refresh_button, self.png_button, self.csv_button):
            bar.addWidget(button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 4, 0, 0)
        lower_layout.setSpacing(2)
        lower_layout.addWidget(self.mailers_caption)
        lower_layout.addWidget(self.table, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.graphs)
        self.split.addWidget(lower)
        self.split.setStretchFactor(0, 4)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([520, 170])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.tiles)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.status)

    # -- fetching -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.loaded_at is None or time.monotonic() - self.loaded_at > HOUR_REFETCH_S:
            self.refresh()

    def set_range(self, chosen: TimeRange) -> None:
        self.range = chosen
        self.follow = True
        self.settings.set_text("dashboard/range", chosen.label)
        for button in self.range_buttons.buttons():
            button.setChecked(button.text() == chosen.label)
        self.refresh_series()

    def refresh(self) -> None:
        self.refresh_series()
        self.refresh_totals()

    def refresh_series(self) -> None:
        if not self.session.connected:
            return
        self.cancel_fetch()
        now = time.time()
        params = {"start": now - self.range.seconds, "end": now}
        req = self.session.request("stats.series", params, timeout=60.0)
        req.finished.connect(lambda result, r=req: self._on_series(r, result))
        req.failed.connect(lambda error, r=req: self._on_series_failed(r, error))
        self._series_req = req
        self._busy_timer.start()

    def refresh_totals(self) -> None:
        if not self.session.connected or self._totals_req is not None:
            return
        req = self.session.request("stats.totals", timeout=60.0)
        req.finished.connect(self._on_totals)
        req.failed.connect(self._on_totals_failed)
        self._totals_req = req

    def cancel_fetch(self) -> None:
        if self._series_req is not None:
            self._series_req.cancel()
            self._series_req = None
        self._busy_timer.stop()
        self.progress.hide()
        self.cancel.hide()

    def busy(self) -> bool:
        return self._series_req is not None

    def _show_busy(self) -> None:
        if self._series_req is not None:
            self.progress.show()
            self.cancel.show()

    def _done_fetching(self, req: Request) -> bool:
        """True when ``req`` is the fetch in progress (and it is now over)."""
        if req is not self._series_req:
            return False
        self._series_req = None
        self._busy_timer.stop()
        self.progress.hide()
        self.cancel.hide()
        return True

    def _on_series(self, req: Request, result: Any) -> None:
        if not self._done_fetching(req):
            return
        try:
            self.buffer.load(result if isinstance(result, dict) else {}, self.range.seconds)
        except ValueError as exc:
            self._set_unavailable(f"stats.series answered something unreadable: {exc}")
            return
        self.loaded_at = time.monotonic()
        self.graphs.setCurrentIndex(0)
        self._draw()
        self._set_status()

    def _on_series_failed(self, req: Request, error: Any) -> None:
        if not self._done_fetching(req):
            return
        if isinstance(error, RpcError) and error.code == NOT_AVAILABLE:
            self._set_unavailable(error.message)
        else:
            text = error.message if isinstance(error, RpcError) else str(error)
            self.status.setText(f"stats.series failed: {text}")

    def _set_unavailable(self, reason: str) -> None:
        self.graphs.setCurrentIndex(1)
        self.notice.setText(
            "<h3>No graphs for this server</h3>"
            f"<p>The server says: <b>{html.escape(reason)}</b>.</p>"
            "<p>The graphs need the time series the daemon records. Set "
            '<tt>TimeSeriesFile = "timeseries"</tt> in the configuration (a path relative '
            "to the config file's folder), then reload the daemon. The per-mailer counters "
            "below come from the StatusFile and do not need it.</p>"
        )
        self.status.setText(f"stats.series: not available — {reason}")

    def _on_totals(self, result: Any) -> None:
        self._totals_req = None
        if not isinstance(result, dict):
            return
        self.mailers.set_totals(result)
        self.mailers.set_stale(False)
        since = self.mailers.since_text()
        self.mailers_caption.setText(
            f"<b>Per mailer</b> (mailstats) · {html.escape(since)} · "
            f"<span style='color:#57606a'>{html.escape(self.mailers.file)}</span>"
        )

    def _on_totals_failed(self, error: Any) -> None:
        self._totals_req = None
        text = error.message if isinstance(error, RpcError) else str(error)
        self.mailers_caption.setText(
            f"<b>Per mailer</b> (mailstats) · <span style='color:#cf222e'>stats.totals: "
            f"{html.escape(text)}</span>"
        )

    # -- drawing ------------------------------------------------------------------------

    def _draw(self) -> None:
        self.plots.show_buffer(self.buffer)
        if self.follow and len(self.buffer):
            end = float(self.buffer.times[-1]) + self.buffer.resolution
            self.plots.set_x_range(end - self.range.seconds, end)
        self._set_tiles()

    def _set_tiles(self) -> None:
        counts = self.session.counts or {}
        queued = int(counts.get("queued", 0) or 0)
        held = int(counts.get("held", 0) or 0)
        self.tiles.set("queued", f"{queued:,}" if counts else "–", f"{held:,} held" if held else "")
        oldest = self._current("oldest_age")
        self.tiles.set("oldest", fmt_age(oldest), "in the queue")
        for key, name in (("in", "received"), ("out", "delivered")):
            value = self._current(name)
            self.tiles.set(key, "–" if value is None else f"{int(value):,}", "this minute")
        label = self.range.label
        for key in ("deferred", "rejected"):
            total = self.buffer.total(key) if len(self.buffer) else None
            shown = "–" if total is None else f"{total:,}"
            self.tiles.set(key, shown, f"last {label}")

    def _current(self, name: str) -> float | None:
        """The current minute's value from the last tick, else the series' latest."""
        tick = self.last_tick
        if tick is not None:
            source = tick.get("gauges" if name == "oldest_age" else "counters")
            if isinstance(source, dict) and isinstance(source.get(name), int | float):
                return float(source[name])
            if name != "oldest_age":
                return 0.0
        if not len(self.buffer):
            return None
        if name == "oldest_age":
            return self.buffer.latest(name)
        return float(self.buffer.values[name][-1]) if self.buffer.resolution == 60 else None

    def _set_status(self) -> None:
        unit = "hour" if self.buffer.resolution >= 3600 else "minute"
        fetched = time.strftime("%H:%M:%S")
        live = " · live" if self.live else ""
        self.status.setText(
            f"{len(self.buffer):,} {unit} buckets over {self.range.label} · fetched {fetched}{live}"
        )

    # -- events -------------------------------------------------------------------------

    def _on_connected(self) -> None:
        req = self.session.request(
            "events.subscribe", {"events": ["stats.tick"], "interval": 1.0}, timeout=30.0
        )
        req.finished.connect(self._on_subscribed)
        if self.isVisible() or self.loaded_at is not None:
            self.refresh()

    def _on_subscribed(self, result: Any) -> None:
        subscribed = result.get("subscribed", []) if isinstance(result, dict) else []
        self.live = "stats.tick" in subscribed
        if self.loaded_at is not None:
            self._set_status()

    def _on_event(self, name: str, data: Any) -> None:
        if name != "stats.tick" or not isinstance(data, dict):
            return
        self.last_tick = data
        if self.buffer.apply_tick(data):
            self._draw()
        else:
            self._set_tiles()
            stale = self.loaded_at is None or time.monotonic() - self.loaded_at > HOUR_REFETCH_S
            if self.buffer.resolution != 60 and stale and not self.busy() and self.isVisible():
                self.refresh_series()

    def _on_queue_changed(self, _data: Any) -> None:
        self._set_tiles()
        self._totals_timer.start()

    def _on_session(self) -> None:
        live = self.session.connected
        for button in (self.refresh_button, *self.range_buttons.buttons()):
            button.setEnabled(live)
        lost = self.session.state == ConnectionState.LOST
        self.tiles.set_stale(lost)
        self.mailers.set_stale(lost)
        if lost:
            self.cancel_fetch()
            self._totals_req = None
            self.live = False
            if not self.status.text().startswith("stale"):
                self.status.setText("stale — connection lost; " + self.status.text())
        self._set_tiles()

    def _on_manual_zoom(self, *_args: Any) -> None:
        self.follow = False

    # -- exports ------------------------------------------------------------------------

    def _ask_png(self) -> None:
        name = time.strftime("postroom-dashboard-%Y%m%d-%H%M.png")
        path, _ = QFileDialog.getSaveFileName(self, "Export the graphs", name, "PNG (*.png)")
        if path:
            self.export_png(Path(path))

    def _ask_csv(self) -> None:
        name = time.strftime("postroom-dashboard-%Y%m%d-%H%M.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export the series", name, "CSV (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_png(self, path: Path) -> bool:
        try:
            write_png(path, self.plots)
        except OSError as exc:
            self.status.setText(f"Export failed: {path}: {exc.strerror or exc}")
            return False
        self.status.setText(f"Saved the graphs as {path}")
        return True

    def export_csv(self, path: Path) -> int | None:
        start, end = self.plots.visible_span()
        names = self.plots.visible_series()
        try:
            count = write_csv(path, self.buffer, names, start, end)
        except OSError as exc:
            self.status.setText(f"Export failed: {path}: {exc.strerror or exc}")
            return None
        self.status.setText(f"Saved {count:,} rows of {len(names)} series as {path}")
        return count
