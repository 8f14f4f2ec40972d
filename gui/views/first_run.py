"""The first run: the offer to start the embedded profile's daemon and send a test message.

On a machine where nothing is configured the local connection runs ``postroom-mta
--rpc`` without ``-C``, which creates the embedded profile (a private mail server with
loopback listeners, 127.0.0.1:2525 and :2587).  :class:`FirstRunWatcher` waits until
that connection has answered ``server.info`` and ``daemon.status``; when the daemon is
stopped and the offer was never completed or declined, it opens :class:`FirstRunOffer`
once.  The offer says where the profile lives and what it listens on, and has two
steps: "Start the mail server" (``daemon.start``, then ``daemon.status`` until the pid is
there) and "Send test message" (:class:`~.first_run_mail.SendTestMessage`), each with
its outcome underneath, so a newcomer sees the message get a queue id and leave the
queue.  A delivered test, or "Don't show this again", ends the offer for good
(``prefs/first_run_done``).  The Connection menu's "Send test message…" opens the same
dialog, without the welcome, for any connection (:func:`open_test_dialog`).
"""

from __future__ import annotations

import html
from pathlib import PurePath
from typing import Any

from postroom.core.control.protocol import RpcError
from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .first_run_mail import SendTestMessage

DONE_KEY = "first_run_done"
START_POLL_MS = 300
START_POLLS = 50
_OK = "<span style='color:#1a7f37'>✔</span>"
_FAILED = "<span style='color:#cf222e'>✖</span>"


def should_offer(session: Session, settings: Settings) -> bool:
    """True when the connection is up, its daemon stopped, and the offer is not done."""
    if settings.flag(DONE_KEY, False) or not session.connected:
        return False
    info = session.info
    if info is None or not info.get("config_valid", True):
        return False
    daemon = session.daemon
    return daemon is not None and not daemon.get("running")


def listener_text(listener: str) -> str:
    """``Name=MTA, Port=2525, Addr=127.0.0.1`` as ``MTA on 127.0.0.1 port 2525``."""
    fields = dict(part.strip().split("=", 1) for part in listener.split(",") if "=" in part)
    name = fields.get("Name", "listener")
    where = f"{fields.get('Addr', 'every address')} port {fields.get('Port', '25')}"
    needs = " (AUTH required)" if "a" in fields.get("M", "") else ""
    return f"{name} on {where}{needs}"


class FirstRunOffer(QDialog):
    """Start the daemon and send a test message, with each step's outcome shown."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        welcome: bool = True,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.welcome = welcome
        self.run: SendTestMessage | None = None
        self.starting = False
        self._polls = 0
        self.setWindowTitle("Welcome to Postroom" if welcome else "Send a test message")
        self.setModal(False)
        self.setMinimumWidth(620)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        self.start_button = QPushButton("Start the mail server")
        self.start_button.clicked.connect(self.start_daemon)
        self.start_state = QLabel()
        self.send_button = QPushButton("Send test message")
        self.send_button.clicked.connect(self.send_test)
        self.send_state = QLabel()
        for label in (self.start_state, self.send_state):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
        self.log = QLabel()
        self.log.setObjectName("firstRunLog")
        self.log.setTextFormat(Qt.TextFormat.RichText)
        self.log.setWordWrap(True)
        self.log.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log.setStyleSheet(
            "QLabel#firstRunLog { background: #f6f8fa; border: 1px solid #d0d7de; "
            "border-radius: 6px; padding: 8px; }"
        )
        self.log.setMinimumHeight(110)
        self.log.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.dont_show = QCheckBox("Don't show this again")
        self.dont_show.setVisible(welcome)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        self._lines: list[str] = []
        self._poll = QTimer(self, interval=START_POLL_MS)
        self._poll.timeout.connect(self._poll_daemon)
        self._layout()
        session.changed.connect(self.refresh)
        self.refresh()

    def _layout(self) -> None:
        steps = QGridLayout()
        steps.setHorizontalSpacing(12)
        steps.setColumnStretch(2, 1)
        for row, (number, button, state) in enumerate(
            (("1", self.start_button, self.start_state), ("2", self.send_button, self.send_state))
        ):
            steps.addWidget(QLabel(f"<b>{number}.</b>"), row, 0)
            steps.addWidget(button, row, 1)
            steps.addWidget(state, row, 2)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #d0d7de;")
        bottom = QHBoxLayout()
        bottom.addWidget(self.dont_show)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(line)
        layout.addLayout(steps)
        layout.addWidget(self.log, 1)
        layout.addLayout(bottom)

    # -- what it shows ------------------------------------------------------------------

    def _heading_text(self) -> str:
        info = self.session.info or {}
        daemon = self.session.daemon or {}
        config = str(info.get("config_path") or "")
        folder = html.escape(str(PurePath(config).parent)) if config else "–"
        listeners = [listener_text(str(item)) for item in daemon.get("listeners") or []]
        heard = "<br>".join(html.escape(item) for item in listeners) or "none configured"
        title = (
            "<h2 style='margin:0'>Welcome to Postroom</h2>"
            "<p>Postroom has set up a private mail server for you on this computer. "
            "Nothing outside this machine can reach it.</p>"
            if self.welcome
            else f"<h3 style='margin:0'>Test message — {html.escape(self.session.name)}</h3>"
        )
        return (
            f"{title}<table cellspacing='0' cellpadding='2'>"
            f"<tr><td style='color:#57606a'>Files&nbsp;</td><td><tt>{folder}</tt></td></tr>"
            f"<tr><td style='color:#57606a'>Listens&nbsp;</td><td>{heard}</td></tr></table>"
        )

    def refresh(self) -> None:
        self.heading.setText(self._heading_text())
        daemon = self.session.daemon or {}
        connected = self.session.connected
        running = bool(daemon.get("running"))
        if running:
            self.start_state.setText(f"{_OK} running (pid {daemon.get('pid')})")
            if self.starting:
                self.starting = False
                self._poll.stop()
                self.add_line(f"{_OK} The mail server is running (pid {daemon.get('pid')}).")
        elif self.starting:
            self.start_state.setText("starting…")
        elif self.session.daemon is None:
            self.start_state.setText("checking…" if connected else "not connected")
        else:
            self.start_state.setText("stopped")
        self.start_button.setEnabled(connected and not running and not self.starting)
        busy = self.run is not None and not self.run.done
        self.send_button.setEnabled(connected and running and not busy)
        if not running and not busy and self.run is None:
            self.send_state.setText("<span style='color:#57606a'>after the server runs</span>")

    def add_line(self, text: str) -> None:
        self._lines.append(text)
        self.log.setText("<br>".join(self._lines))

    def log_text(self) -> str:
        return "\n".join(self._lines)

    # -- the steps ----------------------------------------------------------------------

    def start_daemon(self) -> None:
        if self.starting:
            return
        self.starting = True
        self._polls = 0
        self.add_line("Starting the mail server (daemon.start)…")
        req = self.session.request("daemon.start", timeout=60.0)
        req.finished.connect(self._on_started)
        req.failed.connect(self._on_start_failed)
        self.refresh()

    def _on_started(self, _result: Any) -> None:
        self._poll.start()
        self.session.refresh_daemon()

    def _poll_daemon(self) -> None:
        self._polls += 1
        if self._polls > START_POLLS:
            self._poll.stop()
            self.starting = False
            self.add_line(f"{_FAILED} The daemon did not report running; see its log file.")
            self.refresh()
            return
        self.session.refresh_daemon()

    def _on_start_failed(self, error: Any) -> None:
        self.starting = False
        text = error.message if isinstance(error, RpcError) else str(error)
        self.add_line(f"{_FAILED} Could not start the mail server: {html.escape(text)}")
        self.refresh()

    def send_test(self) -> None:
        if self.run is not None and not self.run.done:
            return
        self.run = SendTestMessage(self.session, self)
        self.run.stepped.connect(self._on_step)
        self.run.finished.connect(self._on_sent)
        self.send_state.setText("sending…")
        self.run.start()
        self.refresh()

    def _on_step(self, text: str) -> None:
        if self.run is not None and not self.run.done:
            self.add_line(text)

    def _on_sent(self, delivered: bool, text: str) -> None:
        self.add_line(f"{_OK if delivered else _FAILED} {text}")
        self.send_state.setText(
            f"{_OK} delivered" if delivered else f"{_FAILED} <span>not delivered</span>"
        )
        if delivered and self.welcome:
            self.settings.set_flag(DONE_KEY, True)
        self.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.welcome and self.dont_show.isChecked():
            self.settings.set_flag(DONE_KEY, True)
        self._poll.stop()
        super().closeEvent(event)


class FirstRunWatcher(QObject):
    """Opens the offer once, when the local connection shows a stopped daemon."""

    def __init__(self, session: Session, settings: Settings, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.window = parent
        self.offer: FirstRunOffer | None = None
        session.changed.connect(self._check)

    def _check(self) -> None:
        if self.offer is not None or not should_offer(self.session, self.settings):
            return
        self.session.changed.disconnect(self._check)
        self.offer = FirstRunOffer(self.session, self.settings, self.window)
        self.offer.show()


def open_test_dialog(session: Session, settings: Settings, parent: QWidget) -> FirstRunOffer:
    """The Connection menu's "Send test message…": sends at once when the daemon runs."""
    dialog = FirstRunOffer(session, settings, parent, welcome=False)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    if (session.daemon or {}).get("running"):
        dialog.send_test()
    return dialog
