"""The server's own check of the listeners being typed: a ``ports.set`` dry run.

:class:`ServerCheck` waits ``SERVER_CHECK_MS`` after the last edit, then sends the
listeners with ``dry_run`` -- the server parses them and loads the whole configuration
with its real loader, writing nothing -- so what only the server knows (service names,
whether AUTH can work at all) is refused as the user types, not at Apply.  A newer
edit cancels the older check; ``refused`` carries the server's error, ``passed`` says
the listeners are acceptable.  ``pending`` is true from the edit until the answer.
"""

from __future__ import annotations

from typing import Any

from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from PySide6.QtCore import QObject, QTimer, Signal

from .screen_requests import ScreenRequests

SERVER_CHECK_MS = 400


class ServerCheck(QObject):
    """Debounced ``ports.set`` dry runs."""

    refused = Signal(object)  # RpcError (or a transport error)
    passed = Signal()

    def __init__(self, session: Session, requests: ScreenRequests, parent: QObject) -> None:
        super().__init__(parent)
        self.session = session
        self.requests = requests
        self.request: Request | None = None
        self._listeners: list[dict[str, Any]] = []
        self.timer = QTimer(self, singleShot=True, interval=SERVER_CHECK_MS)
        self.timer.timeout.connect(self._send)

    @property
    def pending(self) -> bool:
        return self.timer.isActive() or self.request is not None

    def schedule(self, listeners: list[dict[str, Any]]) -> None:
        """Check ``listeners`` once the user pauses (a newer call replaces this one)."""
        self.cancel()
        self._listeners = listeners
        self.timer.start()

    def cancel(self) -> None:
        self.timer.stop()
        req, self.request = self.request, None
        if req is not None:
            req.cancel()

    def _send(self) -> None:
        if not self.session.connected:
            return
        params = {"listeners": self._listeners, "dry_run": True}
        req = self.requests.track(self.session.request("ports.set", params, timeout=30.0))
        self.request = req
        req.finished.connect(lambda _r: self._answered(req, None))
        req.failed.connect(lambda error: self._answered(req, error))

    def _answered(self, req: Request, error: object) -> None:
        if req is not self.request:
            return
        self.request = None
        if error is None:
            self.passed.emit()
        else:
            self.refused.emit(error)
