"""Asking the server again until the answer is the one expected, or time is up.

After a reload the daemon acts on SIGHUP in its own time, so a screen that wants to
show the effect (the Privacy probe, the Ports screen's "bound") asks again every
``every_ms`` until ``done(result)`` holds or ``wait_s`` has passed, then shows the last
answer either way.  A failed request while waiting counts as "not yet" (listeners are
closed and reopened during a reload); the last failure is reported only when time is
up.  Progress shows in the screen's :class:`~.busy_bar.BusyBar` after 300 ms; Cancel
stops asking.  Requests are tracked by the screen's
:class:`~.screen_requests.ScreenRequests`, the timer by the poller (its parent is the
screen), so nothing outlives the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from PySide6.QtCore import QObject, QTimer, Signal

from .busy_bar import BusyBar
from .screen_requests import ScreenRequests

Done = Callable[[dict[str, Any]], bool]


class PollUntil(QObject):
    """One method, asked until an answer satisfies ``done``."""

    answered = Signal(object)  # the last result (a dict)
    failed = Signal(object)  # the last error, when time is up without an answer
    cancelled = Signal()

    def __init__(
        self,
        session: Session,
        requests: ScreenRequests,
        method: str,
        busy: BusyBar,
        parent: QObject,
        every_ms: int = 250,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.requests = requests
        self.method = method
        self.busy = busy
        self.every_ms = every_ms
        self.until = 0.0
        self.done: Done = lambda _r: True
        self.doing = ""
        self.request: Request | None = None
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._ask)

    @property
    def running(self) -> bool:
        return self.request is not None or self._timer.isActive()

    def start(self, wait_s: float, done: Done, doing: str) -> None:
        """Ask now; with ``wait_s`` > 0, again until ``done(result)`` or time is up."""
        if self.running or not self.session.connected:
            return
        self.until = time.monotonic() + wait_s
        self.done = done
        self.doing = doing
        self._ask()

    def cancel(self) -> None:
        req, self.request = self.request, None
        if req is not None:
            req.cancel()
        self._timer.stop()
        self.until = 0.0
        self.busy.stop()
        self.cancelled.emit()

    def _ask(self) -> None:
        if not self.session.connected:
            self.busy.stop()
            return
        req = self.requests.track(self.session.request(self.method, timeout=60.0))
        self.request = req
        req.finished.connect(lambda result: self._answer(req, result))
        req.failed.connect(lambda error: self._failure(req, error))
        self.busy.start(self.doing, self.cancel)

    def _waiting(self) -> bool:
        return time.monotonic() < self.until

    def _answer(self, req: Request, result: Any) -> None:
        if req is not self.request:
            return
        self.request = None
        answer = result if isinstance(result, dict) else {}
        if not self.done(answer) and self._waiting():
            self._timer.start(self.every_ms)
            return
        self.busy.stop()
        self.answered.emit(answer)

    def _failure(self, req: Request, error: object) -> None:
        if req is not self.request:
            return
        self.request = None
        if self._waiting():
            self._timer.start(self.every_ms)
            return
        self.busy.stop()
        self.failed.emit(error)
