"""The status bar: connection state, server version, daemon state, queue count.

:class:`SessionStatusBar` follows the selected connection's
:class:`~postroom.gui.models.session.Session`.  The daemon part shows running (pid) or
stopped with Start and Reload buttons wired to ``daemon.start`` and ``daemon.reload``;
the server's answer is shown as it is, a ``not_available`` one (an older server) as a
notice rather than a warning.
"""

from __future__ import annotations

from typing import Any

from postroom.core.control.protocol import NOT_AVAILABLE, RpcError
from postroom.gui.models.session import Session
from postroom.gui.qt_client import ConnectionState
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QStatusBar, QWidget

_STATE_COLOURS = {
    ConnectionState.CONNECTED: "#1a7f37",
    ConnectionState.CONNECTING: "#9a6700",
    ConnectionState.LOST: "#cf222e",
    ConnectionState.DISCONNECTED: "#57606a",
}


def queue_text(counts: dict[str, Any] | None) -> str:
    if not counts:
        return "queue: –"
    parts = [f"{int(counts.get('queued', 0)):,} queued"]
    if counts.get("held"):
        parts.append(f"{int(counts['held']):,} held")
    if counts.get("lost"):
        parts.append(f"{int(counts['lost']):,} damaged")
    return " · ".join(parts)


class SessionStatusBar(QStatusBar):
    """Shows one session at a time; ``set_session`` switches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.state = QLabel()
        self.version = QLabel()
        self.daemon = QLabel()
        self.start = QPushButton("Start")
        self.reload = QPushButton("Reload")
        self.queue = QLabel()
        self.start.setToolTip("Start the mail daemon (daemon.start)")
        self.reload.setToolTip("Make the daemon re-read its configuration (daemon.reload)")
        for button in (self.start, self.reload):
            button.setFlat(False)
            button.setMaximumHeight(24)
        self.start.clicked.connect(lambda: self._daemon_action("daemon.start", "Start"))
        self.reload.clicked.connect(lambda: self._daemon_action("daemon.reload", "Reload"))
        for widget in (self.state, self.version, self.daemon, self.start, self.reload, self.queue):
            self.addPermanentWidget(widget)
        self.refresh()

    def set_session(self, session: Session | None) -> None:
        if self.session is not None:
            self.session.changed.disconnect(self.refresh)
        self.session = session
        if session is not None:
            session.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        session = self.session
        if session is None:
            self.state.setText("no connection")
            for widget in (self.version, self.daemon, self.start, self.reload, self.queue):
                widget.hide()
            return
        state = session.state
        colour = _STATE_COLOURS.get(state, "#57606a")
        self.state.setText(f"<b>{session.name}</b>: <span style='color:{colour}'>{state}</span>")
        info = session.info or {}
        version = f"{info.get('server', 'postroom-mta')} {info.get('version', '')}".strip()
        self.version.setText(version if info else "")
        self.version.setVisible(bool(info))
        daemon = session.daemon
        live = state == ConnectionState.CONNECTED
        if daemon is None:
            self.daemon.setText("daemon: unknown")
            running = False
        else:
            running = bool(daemon.get("running"))
            if running:
                self.daemon.setText(f"daemon <b>running</b> (pid {daemon.get('pid')})")
            else:
                self.daemon.setText("daemon <b>stopped</b>")
        self.daemon.show()
        self.start.setVisible(not running)
        self.reload.setVisible(running)
        self.start.setEnabled(live)
        self.reload.setEnabled(live)
        self.queue.setText(queue_text(session.counts))
        self.queue.show()

    def _daemon_action(self, method: str, label: str) -> None:
        session = self.session
        if session is None:
            return
        req = session.request(method, timeout=30.0)
        req.finished.connect(lambda result: self._done(label, result))
        req.failed.connect(lambda error: self._failed(label, error))

    def _done(self, label: str, result: Any) -> None:
        pid = result.get("pid") if isinstance(result, dict) else None
        self.showMessage(f"{label}: done" + (f" (pid {pid})" if pid else ""), 8000)
        if self.session is not None:
            self.session.refresh_daemon()

    def _failed(self, label: str, error: Any) -> None:
        if isinstance(error, RpcError) and error.code == NOT_AVAILABLE:
            QMessageBox.information(self, f"{label} the daemon", error.message)
        else:
            QMessageBox.warning(self, f"{label} the daemon", str(error))
