"""Asking the server to judge a proposed aliases text (``aliases.check``), debounced.

:class:`AliasChecker` sends at most one ``aliases.check`` at a time: a new
:meth:`~AliasChecker.check` waits ``delay_ms`` (typing goes on) and cancels the
request still running, so only the answer for the latest text arrives.  Each answer
comes as ``checked(text, result)`` with the text it judged, so the caller can tell
it still applies.  ``busyChanged`` says when a check starts and ends (the screen's
progress bar); ``failed`` carries the error text.  Made a child of its screen, it
cancels its request when the screen goes away.  Nothing here decides validity: the
server's parser and expander do.
"""

from __future__ import annotations

from typing import Any

from postroom.core.control.protocol import RpcError
from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from PySide6.QtCore import QObject, QTimer, Signal

CHECK_DELAY_MS = 250
CHECK_TIMEOUT = 120.0


class AliasChecker(QObject):
    """Debounced, cancellable ``aliases.check`` calls for one screen."""

    checked = Signal(str, object)  # the text judged, the result dict
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(
        self, session: Session, parent: QObject | None = None, delay_ms: int = CHECK_DELAY_MS
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._params: dict[str, Any] | None = None
        self._request: Request | None = None
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self._send)
        self.destroyed.connect(lambda *_args: self._drop_request())

    @property
    def busy(self) -> bool:
        return self._request is not None or self._timer.isActive()

    def check(
        self,
        text: str,
        *,
        keys: list[str] | None = None,
        name: str | None = None,
        targets: list[str] | None = None,
        now: bool = False,
    ) -> None:
        """Judge ``text`` (after the typing delay unless ``now``)."""
        params: dict[str, Any] = {"text": text}
        if keys is not None:
            params["keys"] = keys
        if name is not None:
            params["name"] = name
        if targets is not None:
            params["targets"] = targets
        self._params = params
        self._drop_request()
        if not self.busy:
            self.busyChanged.emit(True)
        if now:
            self._timer.stop()
            self._send()
        else:
            self._timer.start()

    def cancel(self) -> None:
        was_busy = self.busy
        self._timer.stop()
        self._params = None
        self._drop_request()
        if was_busy:
            self.busyChanged.emit(False)

    def _drop_request(self) -> None:
        if self._request is not None:
            self._request.cancel()
            self._request = None

    def _send(self) -> None:
        params = self._params
        if params is None:
            return
        if not self.session.connected:
            self._params = None
            self.busyChanged.emit(False)
            self.failed.emit("not connected")
            return
        text = str(params["text"])
        request = self.session.request("aliases.check", params, timeout=CHECK_TIMEOUT)
        self._request = request
        request.finished.connect(lambda result: self._on_result(request, text, result))
        request.failed.connect(lambda error: self._on_failed(request, error))

    def _on_result(self, request: Request, text: str, result: Any) -> None:
        if request is not self._request:
            return
        self._request = None
        self._params = None
        self.busyChanged.emit(False)
        self.checked.emit(text, result if isinstance(result, dict) else {})

    def _on_failed(self, request: Request, error: Any) -> None:
        if request is not self._request:
            return
        self._request = None
        self._params = None
        self.busyChanged.emit(False)
        self.failed.emit(error.message if isinstance(error, RpcError) else str(error))
