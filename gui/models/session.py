"""One connection's live state, shared by the status bar, the banner and the screens.

:class:`Session` wraps a :class:`~postroom.gui.qt_client.QtRpcClient`.  When the
connection opens it asks ``server.info`` (version, methods, what is not available yet),
subscribes to ``queue.changed`` (the queue counts) and polls ``daemon.status``.  When
the connection is lost, or cannot be opened, it retries after growing delays
(1, 2, 5, 10, 30 s), except after failures retrying cannot fix (a changed or refused
host key, refused credentials: ``retryable`` decides).  Screens keep their data while
the session is lost and mark it stale; ``connectedAgain`` tells them to refresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from postroom.core.control.protocol import NOT_AVAILABLE, RpcError
from postroom.gui.qt_client import ConnectionState, QtRpcClient, Request
from postroom.gui.transport import (
    AuthenticationFailedError,
    HostKeyChangedError,
    HostKeyRejectedError,
    RemoteCommandNotFoundError,
    SshSecurityError,
)
from PySide6.QtCore import QObject, QTimer, Signal

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
DAEMON_POLL_MS = 10_000
_FINAL = (
    AuthenticationFailedError,
    HostKeyChangedError,
    HostKeyRejectedError,
    RemoteCommandNotFoundError,
    SshSecurityError,
)


def default_retryable(error: BaseException) -> bool:
    """False for failures a retry cannot fix (keys, credentials, missing program)."""
    return not isinstance(error, _FINAL)


class Session(QObject):
    """State of one connection: ``changed`` fires whenever any of it changes."""

    changed = Signal()
    connectedAgain = Signal()
    queueChanged = Signal(object)  # the queue.changed event's data
    openFailed = Signal(object)  # the exception

    def __init__(
        self,
        name: str,
        client: QtRpcClient,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        retryable: Callable[[BaseException], bool] = default_retryable,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.name = name
        self.client = client
        self.retry_delays = tuple(retry_delays)
        self.retryable = retryable
        self.clock = clock
        self.info: dict[str, Any] | None = None
        self.daemon: dict[str, Any] | None = None
        self.counts: dict[str, Any] | None = None
        self.retry_at: float | None = None
        self.stopped_retrying = False
        self._attempt = 0
        self._last_error: BaseException | None = None
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self.retry_now)
        self._poll = QTimer(self)
        self._poll.setInterval(DAEMON_POLL_MS)
        self._poll.timeout.connect(self.refresh_daemon)
        client.stateChanged.connect(self._on_state)
        client.openFailed.connect(self._on_open_failed)
        client.serverEvent.connect(self._on_event)

    # -- what the views read ----------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.client.state

    @property
    def detail(self) -> str:
        return self.client.detail

    @property
    def connected(self) -> bool:
        return self.client.connected

    def not_available(self, method: str) -> str | None:
        """The server's reason why ``method`` is not available yet, if it gave one."""
        if self.info is None:
            return None
        reasons = self.info.get("not_available") or {}
        reason = reasons.get(method) if isinstance(reasons, dict) else None
        return str(reason) if reason else None

    def request(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Request:
        return self.client.request(method, params, **kw)

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        self.stopped_retrying = False
        self._attempt = 0
        self.client.connect_to_server()

    def retry_now(self) -> None:
        self._retry.stop()
        self.retry_at = None
        self.stopped_retrying = False
        self.client.connect_to_server()

    def stop(self) -> None:
        self._retry.stop()
        self._poll.stop()
        self.client.shutdown()

    def refresh_daemon(self) -> None:
        if not self.connected:
            return
        req = self.request("daemon.status", timeout=30.0)
        req.finished.connect(self._on_daemon)

    # -- reactions --------------------------------------------------------------------

    def _on_state(self, state: str, detail: str) -> None:
        if state == ConnectionState.CONNECTED:
            self._attempt = 0
            self.retry_at = None
            self._last_error = None
            self._poll.start()
            info = self.request("server.info", timeout=30.0)
            info.finished.connect(self._on_info)
            sub = self.request("events.subscribe", {"events": ["queue.changed"]}, timeout=30.0)
            sub.finished.connect(self._on_subscribed)
        elif state == ConnectionState.LOST:
            self._poll.stop()
            self._schedule_retry()
        elif state == ConnectionState.DISCONNECTED:
            self._poll.stop()
        self.changed.emit()

    def _schedule_retry(self) -> None:
        error = self._last_error
        self._last_error = None
        if error is not None and not self.retryable(error):
            self.stopped_retrying = True
            self.retry_at = None
            return
        delay = self.retry_delays[min(self._attempt, len(self.retry_delays) - 1)]
        self._attempt += 1
        self.retry_at = self.clock() + delay
        self._retry.start(int(delay * 1000))

    def _on_open_failed(self, error: BaseException) -> None:
        self._last_error = error
        self.openFailed.emit(error)

    def _on_info(self, info: Any) -> None:
        if isinstance(info, dict):
            self.info = info
            daemon = info.get("daemon")
            self.daemon = daemon if isinstance(daemon, dict) else None
            if self.connected:
                self.connectedAgain.emit()
            self.changed.emit()

    def _on_daemon(self, state: Any) -> None:
        if isinstance(state, dict):
            self.daemon = state
            self.changed.emit()

    def _on_subscribed(self, result: Any) -> None:
        if isinstance(result, dict) and isinstance(result.get("queue"), dict):
            self.counts = result["queue"]
            self.changed.emit()

    def _on_event(self, name: str, data: Any) -> None:
        if name == "queue.changed" and isinstance(data, dict):
            if "error" not in data:
                self.counts = data
            self.queueChanged.emit(data)
            self.changed.emit()


def is_not_available(error: object) -> bool:
    return isinstance(error, RpcError) and error.code == NOT_AVAILABLE
