"""The Privacy screen: PrivacyOptions as a checklist, applied with a diff, then probed.

Every flag ``privacy.get`` knows is a row: the name with its box and the one-line
summary; the longer explanation is the row's tooltip and fills the "About" panel when
the row is selected.  The rules (``goaway`` ticks exactly its flags and shows partly
ticked when only some are set; ``public`` clears the others) live in
:class:`~postroom.gui.models.privacy_flags.PrivacyFlags`.  Beside the list: the flags in
force in the file, the effective set after the edit, and the line that will be written.

Apply runs :class:`~.config_apply.ConfigApply` (dry run, diff, write, reload); after a
reload the screen probes the daemon (``privacy.probe``, :mod:`.poll_until`) every 250 ms
until it answers as the file says, for at most ``PROBE_WAIT_S`` seconds (a probe that
finds no listener, as while the daemon rebinds them, is retried too), and shows "what a
client now sees" either way.  "Probe now" probes once.  Every request is off the UI
thread; anything slower than 300 ms shows progress with Cancel.
"""

from __future__ import annotations

from typing import Any

from postroom.gui.models.privacy_flags import FlagState, PrivacyFlags
from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from postroom.gui.settings import Settings
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .busy_bar import BusyBar
from .config_apply import ConfigApply, error_text
from .poll_until import PollUntil
from .privacy_probe_view import ProbeView
from .screen_requests import ScreenRequests

PROBE_WAIT_S = 15.0
PROBE_EVERY_MS = 250
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
_CHECK = {
    FlagState.ON: Qt.CheckState.Checked,
    FlagState.PARTIAL: Qt.CheckState.PartiallyChecked,
    FlagState.OFF: Qt.CheckState.Unchecked,
}


class PrivacyScreen(QWidget):
    """PrivacyOptions of one connection."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.requests = ScreenRequests(self)
        self.flags: PrivacyFlags | None = None
        self.tree = QTreeWidget()
        self.tree.setObjectName("privacyFlags")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(("Flag", "What it does"))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().resizeSection(0, 170)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(lambda item, _old: self._show_about(item))
        self.about = QLabel("Select a flag to read what it does.")
        self.about.setObjectName("privacyAbout")
        self.about.setWordWrap(True)
        self.about.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.effective = QLabel("")
        self.effective.setObjectName("privacyEffective")
        self.effective.setWordWrap(True)
        self.effective.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.effective.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.probe_view = ProbeView()
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("privacyApply")
        self.apply_button.setToolTip("Show the change as a diff, write it, reload the daemon")
        self.apply_button.clicked.connect(self.apply)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Read PrivacyOptions from the file again")
        self.reload_button.clicked.connect(self.refresh)
        self.probe_button = QPushButton("Probe now")
        self.probe_button.setToolTip("Connect to the daemon over SMTP and show what a client sees")
        self.probe_button.clicked.connect(lambda: self.probe(wait=False))
        self.busy = BusyBar()
        self.load_bar = BusyBar()
        self.status = QLabel("")
        self.status.setObjectName("privacyStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #57606a;")
        self.flow = ConfigApply(session, self.busy, self, "Change PrivacyOptions")
        self.flow.message.connect(self.status.setText)
        self.flow.applied.connect(self._after_apply)
        self.flow.ended.connect(self._update_buttons)
        self.prober = PollUntil(session, self.requests, "privacy.probe", self.busy, self)
        self.prober.every_ms = PROBE_EVERY_MS
        self.prober.answered.connect(self._probed)
        self.prober.failed.connect(self._probe_failed)
        self.prober.cancelled.connect(self._probe_cancelled)
        self._build_layout()
        self._loading: Request | None = None
        self._loaded_once = False
        session.connectedAgain.connect(self._refresh_if_visible)
        session.changed.connect(self._update_buttons)
        self._update_buttons()

    def _build_layout(self) -> None:
        about_box = QGroupBox("About this flag")
        QVBoxLayout(about_box).addWidget(self.about)
        effective_box = QGroupBox("Effective set")
        QVBoxLayout(effective_box).addWidget(self.effective)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(about_box, 1)
        side_layout.addWidget(effective_box, 1)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.tree)
        top.addWidget(side)
        top.setSizes([640, 420])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.probe_view)
        split.setSizes([340, 420])
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.reload_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.probe_button)
        buttons.addStretch(1)
        buttons.addWidget(self.load_bar)
        buttons.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

    # -- loading ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once or (self.flags is not None and not self.flags.changed):
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
        req = self.requests.track(self.session.request("privacy.get", timeout=30.0))
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
        flags = PrivacyFlags(result)
        if self.flags is not None and self.flags.changed:
            flags.value = self.flags.value  # an answer that crossed the user's edits
        self.flags = flags
        self._fill()

    def _load_failed(self, error: object) -> None:
        self._loading = None
        self.load_bar.stop()
        self.status.setText(f"privacy.get failed: {error_text(error)}")

    def _fill(self) -> None:
        assert self.flags is not None
        current = self.tree.currentItem()
        selected = current.data(0, NAME_ROLE) if current is not None else None
        self.tree.blockSignals(True)
        self.tree.clear()
        for flag in self.flags.flags:
            item = QTreeWidgetItem((flag.name, flag.summary))
            item.setData(0, NAME_ROLE, flag.name)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            item.setToolTip(0, flag.detail)
            item.setToolTip(1, flag.detail)
            self.tree.addTopLevelItem(item)
            if flag.name == selected:
                self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._sync()

    # -- editing ------------------------------------------------------------------------

    def items(self) -> list[QTreeWidgetItem]:
        found = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in found if item is not None]

    def item(self, name: str) -> QTreeWidgetItem | None:
        return next((i for i in self.items() if i.data(0, NAME_ROLE) == name), None)

    def set_flag(self, name: str, on: bool) -> None:
        """Tick or untick ``name`` as a click on its box would."""
        item = self.item(name)
        if item is not None:
            item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != 0 or self.flags is None:
            return
        name = str(item.data(0, NAME_ROLE))
        self.flags.set(name, item.checkState(0) == Qt.CheckState.Checked)
        self._sync()

    def _sync(self) -> None:
        if self.flags is None:
            return
        self.tree.blockSignals(True)
        for item in self.items():
            item.setCheckState(0, _CHECK[self.flags.state(str(item.data(0, NAME_ROLE)))])
        self.tree.blockSignals(False)
        flags = self.flags
        now = ", ".join(flags.effective(flags.in_force)) or "none (public)"
        after = ", ".join(flags.effective()) or "none (public)"
        written = ", ".join(f'"{n}"' for n in flags.names())
        state = "unchanged" if not flags.changed else "<b>changed — not applied yet</b>"
        self.effective.setText(
            f"<p><b>In force (file):</b> {now}</p>"
            f"<p><b>After Apply:</b> {after}</p>"
            f"<p><b>Written as:</b> <tt>PrivacyOptions = [{written}]</tt></p>"
            f"<p style='color:#57606a'>{state} · {flags.path}</p>"
        )
        self._update_buttons()

    def _show_about(self, item: QTreeWidgetItem | None) -> None:
        if item is None or self.flags is None:
            return
        flag = self.flags.by_name.get(str(item.data(0, NAME_ROLE)))
        if flag is not None:
            self.about.setText(f"<b>{flag.name}</b> — {flag.summary}<p>{flag.detail}</p>")

    def revert(self) -> None:
        if self.flags is not None:
            self.flags.revert()
            self._sync()
            self.status.setText("Reverted to what the file says.")

    def _update_buttons(self) -> None:
        live = self.session.connected
        changed = self.flags is not None and self.flags.changed
        idle = not self.flow.running
        self.apply_button.setEnabled(live and changed and idle)
        self.revert_button.setEnabled(changed and idle)
        self.reload_button.setEnabled(live and idle)
        self.probe_button.setEnabled(live and idle and not self.prober.running)

    # -- apply and probe ----------------------------------------------------------------

    def apply(self) -> None:
        if self.flags is None or not self.flags.changed:
            return
        self.flow.start(
            "privacy.set",
            {"flags": self.flags.names()},
            self.flags.sha256,
            "Apply writes this to the file, tells the daemon to reload, and then probes it "
            "over SMTP to show what a client now sees.",
        )
        self._update_buttons()

    def _after_apply(self, result: Any) -> None:
        reloaded = isinstance(result, dict) and bool(result.get("reloaded"))
        self._loaded_once = False
        self.refresh()
        self.probe(wait=reloaded)

    def probe(self, *, wait: bool) -> None:
        """Probe the daemon; with ``wait``, again until it answers as the file says."""
        self.prober.start(
            PROBE_WAIT_S if wait else 0.0,
            lambda result: bool(result.get("matches_config")),
            "Waiting for the daemon to reload…" if wait else "Probing…",
        )
        self._update_buttons()

    def _probed(self, result: dict[str, Any]) -> None:
        self.probe_view.show_result(result)
        self._update_buttons()

    def _probe_failed(self, error: object) -> None:
        self.probe_view.show_note(f"probe failed: {error_text(error)}")
        self._update_buttons()

    def _probe_cancelled(self) -> None:
        self.probe_view.show_note("probe cancelled")
        self._update_buttons()
