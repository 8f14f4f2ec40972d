"""The Log screen: a live tail of the mail log (or the daemon's -X traffic log).

While the screen is shown it asks ``log.tail`` for what was appended since the last
answer (``offset``) every ``POLL_MS``; the first request fetches the last
``INITIAL_LINES``.  "Follow" keeps the newest line in view.  The LogLevel box shows only
the lines a daemon at that LogLevel would have written: Sendmail's lines carry no
level, so the server recognises what each line reports and the level Sendmail logs it
at (``postroom.core.control.log_levels``); lines it does not recognise are always
shown.  Search keeps the lines that contain the text.  "Traffic log" reads the file the
running daemon was started with ``-X`` for (offered only when ``daemon.status`` names
one); its lines are SMTP as sent and received and have no level.  A rotated log is
noted and read from its start.  Slow reads show progress with Cancel; nothing blocks
the UI thread.
"""

from __future__ import annotations

from typing import Any

from postroom.gui.models.log_lines import LEVELS, LogLines
from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from postroom.gui.settings import Settings
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QFontDatabase,
    QFontMetrics,
    QHideEvent,
    QShowEvent,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .busy_bar import BusyBar
from .config_apply import error_text
from .screen_requests import ScreenRequests

POLL_MS = 1000
INITIAL_LINES = 2000
MAIL_LOG = "log"
TRAFFIC_LOG = "traffic"
LEVEL_HELP = (
    "Sendmail's log lines carry no level. Postroom recognises what each line reports and "
    "the LogLevel Sendmail writes it at (5 from= lines, 6 VRFY/EXPN, 8 deliveries, "
    "12 connections, 15 commands ...) and shows the lines a daemon at the chosen level "
    "would have written. Lines it does not recognise are always shown."
)


class LogScreen(QWidget):
    """The mail log of one connection, followed live."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.requests = ScreenRequests(self)
        self.lines = LogLines()
        self.view = QTableView()  # fixed-height rows: 50,000 lines scroll and update cheaply
        self.view.setObjectName("logLines")
        self.view.setModel(self.lines)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().hide()
        self.view.verticalHeader().hide()
        self.view.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.view.setFont(font)
        metrics = QFontMetrics(font)
        self.char_width = metrics.horizontalAdvance("M")
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(metrics.height() + 2)
        self.source = QComboBox()
        self.source.addItem("Mail log", MAIL_LOG)
        self.source.addItem("Traffic log (-X)", TRAFFIC_LOG)
        self.source.setToolTip("The traffic log exists when the daemon was started with -X file")
        self.source.currentIndexChanged.connect(self._source_changed)
        self.level = QComboBox()
        self.level.setObjectName("logLevel")
        self.level.addItem("All lines", None)
        for level, text in LEVELS:
            self.level.addItem(f"LogLevel {level} — {text}", level)
        self.level.setToolTip(LEVEL_HELP)
        self.level.currentIndexChanged.connect(self._filter_changed)
        self.search = QLineEdit()
        self.search.setObjectName("logSearch")
        self.search.setPlaceholderText("Search: queue id, address, host, text")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter_changed)
        self.follow = QCheckBox("Follow")
        self.follow.setToolTip("Keep the newest line in view")
        self.follow.setChecked(True)
        self.follow.toggled.connect(self._follow_toggled)
        self.busy = BusyBar()
        self.status = QLabel("")
        self.status.setObjectName("logStatus")
        self.status.setStyleSheet("color: #57606a;")
        bar = QHBoxLayout()
        bar.addWidget(self.source)
        bar.addWidget(self.level)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.follow)
        bar.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.offset: int | None = None
        self.path = ""
        self._request: Request | None = None
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        session.connectedAgain.connect(self.poll)
        session.changed.connect(self._offer_traffic)
        self._offer_traffic()

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self.view.scrollToBottom()

    @property
    def source_name(self) -> str:
        return str(self.source.currentData())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.session.refresh_daemon()  # is there a traffic log now?
        self._timer.start()
        self.poll()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def _offer_traffic(self) -> None:
        """Offer the traffic log only while the running daemon writes one."""
        daemon = self.session.daemon if isinstance(self.session.daemon, dict) else {}
        traffic = daemon.get("traffic_log")
        model = self.source.model()
        if isinstance(model, QStandardItemModel):
            item = model.item(1)
            item.setEnabled(bool(traffic))
            item.setToolTip(
                f"The daemon writes its -X traffic log to {traffic}"
                if traffic
                else "No traffic log: the running daemon was not started with -X file"
            )
        if not traffic and self.source_name == TRAFFIC_LOG:
            self.source.setCurrentIndex(0)

    # -- reading ------------------------------------------------------------------------

    def poll(self) -> None:
        """Ask for what was appended (or, the first time, the last lines)."""
        if self._request is not None or not self.session.connected or not self.isVisible():
            return
        params: dict[str, Any] = {"source": self.source_name}
        if self.offset is None:
            params["lines"] = INITIAL_LINES
        else:
            params["offset"] = self.offset
        req = self.requests.track(self.session.request("log.tail", params, timeout=60.0))
        self._request = req
        req.finished.connect(lambda result: self._read(req, result))
        req.failed.connect(lambda error: self._failed(req, error))
        self.busy.start("Reading the log…", self._cancel)

    def _cancel(self) -> None:
        req, self._request = self._request, None
        if req is not None:
            req.cancel()
        self._timer.stop()
        self.status.setText("Stopped; show the screen again or change the source to resume.")

    def _read(self, req: Request, result: Any) -> None:
        if req is not self._request or not isinstance(result, dict):
            return
        self._request = None
        self.busy.stop()
        lines = [str(line) for line in result.get("lines") or []]
        levels = [lv if isinstance(lv, int) else None for lv in result.get("levels") or []]
        if result.get("rotated"):
            lines.insert(0, "— the log was rotated; reading the new file from its start —")
            levels.insert(0, None)
        self.lines.append(lines, levels)
        self._fit_column()
        self.offset = int(result.get("offset") or 0)
        self.path = str(result.get("path") or "")
        if lines and self.follow.isChecked():
            self.view.scrollToBottom()
        self._show_counts()

    def _failed(self, req: Request, error: object) -> None:
        if req is not self._request:
            return
        self._request = None
        self.busy.stop()
        self.status.setText(f"log.tail failed: {error_text(error)}")

    def _fit_column(self) -> None:
        width = max(self.view.viewport().width(), self.char_width * (self.lines.longest + 2))
        if self.view.columnWidth(0) != width:
            self.view.setColumnWidth(0, width)

    def _show_counts(self) -> None:
        shown, total = self.lines.rowCount(), self.lines.total()
        what = "traffic log" if self.source_name == TRAFFIC_LOG else "mail log"
        hidden = f" ({total - shown:,} hidden by the filter)" if shown != total else ""
        self.status.setText(f"{what} {self.path} · {shown:,} lines shown{hidden}")

    # -- filters and source -------------------------------------------------------------

    def _filter_changed(self) -> None:
        level = self.level.currentData()
        self.lines.set_filter(level if isinstance(level, int) else None, self.search.text())
        if self.follow.isChecked():
            self.view.scrollToBottom()
        self._show_counts()

    def _source_changed(self) -> None:
        if self._request is not None:
            self._request.cancel()
            self._request = None
            self.busy.stop()
        self.lines.clear()
        self.offset = None
        traffic = self.source_name == TRAFFIC_LOG
        self.level.setEnabled(not traffic)
        if self.isVisible():
            self._timer.start()
        self.poll()
