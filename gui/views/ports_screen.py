"""The Ports screen: DaemonPortOptions as a table of listeners, checked as you type.

The :class:`~.ports_table.ListenerTable` holds one row per listener (``ports.get``);
beside it every modifier letter and key is explained (the server's own help texts).
Each edit is checked at once by :func:`~postroom.gui.models.ports_rows.check_rows`
(port range, address syntax, duplicate name or port, ``a`` with ``A``): the message
appears under the row, the field is outlined and Apply is disabled.  When the local
checks pass, the server checks the same listeners with a ``ports.set`` dry run
(:mod:`.ports_check`), so the real parser has the last word; its refusal is shown the
same way, beside the listener it names.  Warnings (``a`` on port 25 or off loopback)
do not stop Apply.

"Add MSA on 587 that requires authentication" adds Sendmail's submission listener
(``Name=MSA, Port=587, M=Ea``).  Apply goes through :class:`~.config_apply.ConfigApply`
(diff, write, reload); the screen then asks ``ports.status`` every 250 ms, for up to
``BIND_WAIT_S`` seconds, until every listener answers, and shows per row whether it is
bound.  No request blocks the UI thread; slow ones show progress with Cancel.
"""

from __future__ import annotations

import copy
from typing import Any

from postroom.core.control.protocol import BAD_PARAMS, CONFIG_INVALID, RpcError
from postroom.gui.models.ports_rows import (
    MSA_PRESET,
    ListenerRow,
    check_rows,
    row_named,
    row_warnings,
)
from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from postroom.gui.settings import Settings
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .busy_bar import BusyBar
from .config_apply import ConfigApply, error_text
from .poll_until import PollUntil
from .ports_check import ServerCheck
from .ports_table import ERROR_STYLE, ListenerTable, legend_html
from .screen_requests import ScreenRequests

BIND_WAIT_S = 15.0
UNKNOWN = "#57606a"


class PortsScreen(QWidget):
    """DaemonPortOptions of one connection."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.requests = ScreenRequests(self)
        self.help: dict[str, str] = {}
        self.loaded: list[ListenerRow] = []
        self.sha256 = ""
        self.path = ""
        self.problems: dict[tuple[int, str], str] = {}
        self.server_problem = ""
        self.table = ListenerTable(lambda letter: self.help.get(letter, ""))
        self.table.setObjectName("listenerTable")
        self.table.edited.connect(self._edited)
        self.legend = QLabel("")
        self.legend.setObjectName("portsLegend")
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.general = QLabel("")
        self.general.setObjectName("portsGeneral")
        self.general.setWordWrap(True)
        self.general.setStyleSheet(ERROR_STYLE)
        self.general.hide()
        self.add_button = QPushButton("Add listener")
        self.add_button.clicked.connect(lambda: self.table.add_row(ListenerRow()))
        self.preset_button = QPushButton("Add MSA on 587 that requires authentication")
        self.preset_button.setToolTip("Name=MSA, Port=587, M=Ea (Sendmail's submission port)")
        self.preset_button.clicked.connect(self.add_msa_preset)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("portsApply")
        self.apply_button.clicked.connect(self.apply)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Read DaemonPortOptions from the file again")
        self.reload_button.clicked.connect(self.refresh)
        self.bound_button = QPushButton("Check bound")
        self.bound_button.setToolTip("Try to connect to every listener now")
        self.bound_button.clicked.connect(lambda: self.check_bound(wait=False))
        self.busy = BusyBar()
        self.load_bar = BusyBar()
        self.status = QLabel("")
        self.status.setObjectName("portsStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #57606a;")
        self.flow = ConfigApply(session, self.busy, self, "Change DaemonPortOptions")
        self.flow.message.connect(self.status.setText)
        self.flow.applied.connect(self._after_apply)
        self.flow.failed.connect(self._server_refused)
        self.flow.ended.connect(self._update_buttons)
        self.status_poller = PollUntil(session, self.requests, "ports.status", self.busy, self)
        self.status_poller.answered.connect(self._status)
        self.status_poller.failed.connect(self._status_failed)
        self.status_poller.cancelled.connect(self._update_buttons)
        self.server_check = ServerCheck(session, self.requests, self)
        self.server_check.refused.connect(self._server_refused)
        self.server_check.passed.connect(self._update_buttons)
        self._loading: Request | None = None
        self._wait_for_bind = False
        self._loaded_once = False
        self._replace_next = False
        self._build_layout()
        session.connectedAgain.connect(self._refresh_if_visible)
        session.changed.connect(self._update_buttons)
        self._update_buttons()

    def _build_layout(self) -> None:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.table)
        legend_box = QGroupBox("What the modifiers mean")
        QVBoxLayout(legend_box).addWidget(self.legend)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(legend_box)
        split.setSizes([1000, 380])
        top = QHBoxLayout()
        top.addWidget(self.add_button)
        top.addWidget(self.preset_button)
        top.addStretch(1)
        top.addWidget(self.bound_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.apply_button)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.reload_button)
        bottom.addStretch(1)
        bottom.addWidget(self.load_bar)
        bottom.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.general)
        layout.addLayout(bottom)
        layout.addWidget(self.status)

    # -- loading ------------------------------------------------------------------------

    @property
    def changed(self) -> bool:
        return [r.to_wire() for r in self.table.rows] != [r.to_wire() for r in self.loaded]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once or not self.changed:
            self.refresh()

    def _refresh_if_visible(self) -> None:
        """After a reconnect: read again now if shown, else when next shown."""
        if self.isVisible():
            self.refresh()
        else:
            self._loaded_once = False

    def refresh(self) -> None:
        if not self.session.connected or self._loading is not None:
            return
        req = self.requests.track(self.session.request("ports.get", timeout=30.0))
        self._loading = req
        req.finished.connect(self._loaded)
        req.failed.connect(self._load_failed)
        self.load_bar.start("Reading the configuration…", self._cancel_load)

    def _cancel_load(self) -> None:
        req, self._loading = self._loading, None
        if req is not None:
            req.cancel()
        self.status.setText("Reading cancelled; Reload reads the file again.")

    def _loaded(self, result: Any) -> None:
        self._loading = None
        self.load_bar.stop()
        self._loaded_once = True
        if not isinstance(result, dict):
            return
        self.help = {str(k): str(v) for k, v in (result.get("modifiers") or {}).items()}
        keys = {str(k): str(v) for k, v in (result.get("keys") or {}).items()}
        self.sha256 = str(result.get("sha256") or "")
        self.path = str(result.get("path") or "")
        wire = [r for r in result.get("listeners") or [] if isinstance(r, dict)]
        keep_edits = self.changed and not self._replace_next
        self._replace_next = False
        self.loaded = [ListenerRow.from_wire(r) for r in wire]
        if not keep_edits:  # an answer that crossed the user's edits must not undo them
            self.table.set_rows(copy.deepcopy(self.loaded))
        notes = [str(w) for w in result.get("warnings") or []]
        self.legend.setText(legend_html(self.help, keys, notes))
        self.server_problem = ""
        self._edited()
        self.check_bound(wait=self._wait_for_bind)
        self._wait_for_bind = False

    def _load_failed(self, error: object) -> None:
        self._loading = None
        self.load_bar.stop()
        self.status.setText(f"ports.get failed: {error_text(error)}")

    # -- checking -----------------------------------------------------------------------

    def _edited(self) -> None:
        rows = self.table.rows
        self.problems = check_rows(rows)
        warnings = {i: row_warnings(row) for i, row in enumerate(rows)}
        self.server_problem = ""
        self.table.set_problems(self.problems, warnings)
        self._show_general()
        if not self.problems and self.changed and self.session.connected:
            self.server_check.schedule([r.to_wire() for r in rows])
        else:
            self.server_check.cancel()
        for index in range(len(rows)):
            if index >= len(self.loaded) or rows[index].to_wire() != self.loaded[index].to_wire():
                self.table.set_bound(index, "not applied", "Apply to make it listen", UNKNOWN)
        self._update_buttons()

    def _show_general(self) -> None:
        text = self.problems.get((-1, ""), "") or self.server_problem
        self.general.setText(text)
        self.general.setVisible(bool(text))

    def _server_refused(self, error: object) -> None:
        """Put the server's refusal beside the listener it names, or under the table."""
        if not isinstance(error, RpcError):
            return
        index = error.data.get("index")
        text = f"The server refuses this: {error.message}"
        if not isinstance(index, int):
            index = row_named(self.table.rows, error.message)
        if error.code in (BAD_PARAMS, CONFIG_INVALID) and isinstance(index, int):
            self.problems[(index, "")] = text
            warnings = {i: row_warnings(r) for i, r in enumerate(self.table.rows)}
            self.table.set_problems(self.problems, warnings)
        else:
            self.server_problem = text
            self._show_general()
        self._update_buttons()

    def _update_buttons(self) -> None:
        live = self.session.connected
        idle = not self.flow.running
        valid = not self.problems and not self.server_problem
        self.apply_button.setEnabled(live and idle and valid and self.changed)
        self.apply_button.setToolTip(
            "Show the change as a diff, write it, reload the daemon"
            if valid
            else "Fix the problems shown in red first"
        )
        self.revert_button.setEnabled(idle and self.changed)
        self.reload_button.setEnabled(live and idle)
        self.bound_button.setEnabled(live and not self.status_poller.running)

    # -- actions ------------------------------------------------------------------------

    def add_msa_preset(self) -> None:
        self.table.add_row(copy.deepcopy(MSA_PRESET))

    def revert(self) -> None:
        self.table.set_rows(copy.deepcopy(self.loaded))
        self._edited()
        self.check_bound(wait=False)
        self.status.setText("Reverted to what the file says.")

    def apply(self) -> None:
        if self.problems or not self.changed:
            return
        self.server_check.cancel()
        self.flow.start(
            "ports.set",
            {"listeners": [r.to_wire() for r in self.table.rows]},
            self.sha256,
            "Apply writes this to the file and tells the daemon to reload; it rebinds its "
            "listeners, and the screen then shows whether each one is bound.",
        )
        self._update_buttons()

    def _after_apply(self, result: Any) -> None:
        self._loaded_once = False
        self._replace_next = True  # show the file as the server now reads it
        self.refresh()
        self._wait_for_bind = bool(result.get("reloaded"))

    # -- bound or not -------------------------------------------------------------------

    def check_bound(self, *, wait: bool) -> None:
        """Ask ``ports.status``; with ``wait``, until every listener answers (or time is up)."""
        self.status_poller.start(
            BIND_WAIT_S if wait else 0.0,
            lambda result: bool(result.get("all_bound")),
            "Waiting for the listeners to bind…" if wait else "Checking listeners…",
        )
        self._update_buttons()

    def _status(self, result: dict[str, Any]) -> None:
        by_name = {str(e.get("name")): e for e in result.get("listeners") or []}
        for index, row in enumerate(self.table.rows):
            if index < len(self.loaded) and row.to_wire() == self.loaded[index].to_wire():
                self.table.show_status(index, by_name.get(row.name or f"Daemon{index}"))
        if not result.get("running"):
            self.status.setText(
                "The daemon is not running (no live pid file), so nothing is bound; "
                "start it from the status bar."
            )
        elif not result.get("all_bound"):
            self.status.setText(
                "Not every listener is bound. If this follows an Apply, the daemon may have "
                "refused the new configuration and kept the old one: the Log screen shows why."
            )
        self._update_buttons()

    def _status_failed(self, error: object) -> None:
        self.status.setText(f"ports.status failed: {error_text(error)}")
        self._update_buttons()
