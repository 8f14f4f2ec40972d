"""Requests that belong to a screen: forgotten when the screen goes away.

A :class:`~postroom.gui.qt_client.Request` outlives the widget that started it (it is a
child of the connection), and its ``finished``/``failed`` handlers are usually lambdas
over the screen.  :class:`ScreenRequests` tracks a screen's open requests and cancels
them all when the screen is destroyed, so an answer that arrives later (or the failure
every open call gets when the connection closes) never reaches a deleted widget.
"""

from __future__ import annotations

from postroom.gui.qt_client import Request
from PySide6.QtCore import QObject


class ScreenRequests:
    """The open requests of one screen."""

    def __init__(self, owner: QObject) -> None:
        self._open: set[Request] = set()
        owner.destroyed.connect(self.cancel_all)

    def track(self, req: Request) -> Request:
        self._open.add(req)
        req.finished.connect(lambda _r: self._open.discard(req))
        req.failed.connect(lambda _e: self._open.discard(req))
        return req

    def cancel_all(self) -> None:
        requests, self._open = list(self._open), set()
        for req in requests:
            req.cancel()
