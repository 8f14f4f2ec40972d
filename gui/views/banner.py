"""The banner over a connection's screens when it is lost, connecting, or refused.

:class:`ConnectionBanner` watches a :class:`~postroom.gui.models.session.Session`:
hidden while connected; amber while connecting; red when the connection is lost, with
the reason, a countdown to the next automatic retry and a "Retry now" button; amber
also when the server answers but refuses its configuration file (``server.info``'s
``config_problems``).
"""

from __future__ import annotations

import html
import math
from typing import Any

from postroom.gui.models.session import Session
from postroom.gui.qt_client import ConnectionState
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

_STYLES = {
    "lost": "QFrame#banner { background: #ffebe9; border: 1px solid #cf222e; border-radius: 4px; }",
    "connecting": (
        "QFrame#banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px; }"
    ),
}


def config_refused(info: dict[str, Any] | None) -> str:
    """The banner text when the server's configuration is refused ("" when it is fine)."""
    if not info or info.get("config_valid", True):
        return ""
    problems = info.get("config_problems") or []
    first = problems[0].get("text", "") if problems and isinstance(problems[0], dict) else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (
        f"<b>The server refuses its configuration:</b> {html.escape(str(first))}{more}. "
        "Queue and daemon data are unavailable until it is fixed."
    )


class ConnectionBanner(QFrame):
    """A one-line status banner with a retry button."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setObjectName("banner")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.retry = QPushButton("Retry now")
        self.retry.clicked.connect(session.retry_now)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.update_text)
        session.changed.connect(self.update_text)
        self.update_text()

    def update_text(self) -> None:
        session = self.session
        state = session.state
        if state == ConnectionState.CONNECTED and config_refused(session.info):
            self._tick.stop()
            self.setStyleSheet(_STYLES["connecting"])
            self.text.setText(config_refused(session.info))
            self.retry.hide()
            self.show()
            return
        if state in (ConnectionState.CONNECTED, ConnectionState.DISCONNECTED):
            self._tick.stop()
            self.hide()
            return
        if state == ConnectionState.CONNECTING:
            self.setStyleSheet(_STYLES["connecting"])
            self.text.setText(f"Connecting to {session.name}…")
            self.retry.hide()
            self._tick.stop()
            self.show()
            return
        self.setStyleSheet(_STYLES["lost"])
        reason = session.detail or "the connection ended"
        if session.stopped_retrying:
            after = "Not retrying: fix the cause, then press Retry."
        elif session.retry_at is not None:
            seconds = max(0, math.ceil(session.retry_at - session.clock()))
            after = f"Retrying in {seconds} s. The screens show the last data, marked stale."
            self._tick.start()
        else:
            after = ""
        self.text.setText(f"<b>Connection to {session.name} lost:</b> {reason}. {after}")
        self.retry.show()
        self.show()
