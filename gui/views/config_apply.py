"""Apply for the settings screens: dry run, the diff, write and reload -- all off the UI thread.

:class:`ConfigApply` runs one change through a ``*.set`` method that takes ``dry_run``,
``base_sha256`` and ``reload`` (``privacy.set``, ``ports.set``, ``config.set``):

1. the change is sent with ``dry_run`` -- the server checks it with the real loader and
   answers the unified diff (nothing is written);
2. the :class:`~.diff_dialog.DiffDialog` shows that diff; Cancel ends here;
3. Apply sends it again with ``reload`` and the ``sha256`` the dry run saw, so an edit
   made by someone else in between is refused (``conflict``) rather than overwritten;
4. ``applied`` carries the server's answer (``reloaded`` says whether a daemon was
   signalled); the screen then checks the effect.

Each request shows the :class:`~.busy_bar.BusyBar` after 300 ms; Cancel drops the
answer (a write already under way may still complete: the message says so).  Failures
come out of ``failed`` with the error, so the screen can put a message beside the field
it concerns.
"""

from __future__ import annotations

from typing import Any

from postroom.core.control.protocol import RpcError
from postroom.gui.models.session import Session
from postroom.gui.qt_client import Request
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from .busy_bar import BusyBar
from .diff_dialog import DiffDialog, summary
from .screen_requests import ScreenRequests

TIMEOUT = 60.0


def error_text(error: object) -> str:
    """What a failed request says, for a status line."""
    return error.message if isinstance(error, RpcError) else str(error)


class ConfigApply(QObject):
    """One change at a time: check, show, write, reload."""

    message = Signal(str)
    applied = Signal(object)  # the set method's result
    failed = Signal(object)  # RpcError or transport error, from the check or the write
    ended = Signal()  # after applied, failed, cancel or "no change"

    def __init__(self, session: Session, busy: BusyBar, parent: QWidget, title: str) -> None:
        super().__init__(parent)
        self.session = session
        self.busy = busy
        self.widget = parent
        self.title = title
        self.dialog: DiffDialog | None = None
        self.requests = ScreenRequests(self)
        self.running = False
        self._request: Request | None = None
        self._method = ""
        self._params: dict[str, Any] = {}

    def start(
        self, method: str, params: dict[str, Any], base_sha256: str | None, note: str
    ) -> None:
        """Check ``params`` with ``method`` and show the diff (nothing is written yet)."""
        if self.running:
            return
        self.running = True
        self._method = method
        self._params = dict(params)
        check = {**params, "dry_run": True}
        if base_sha256:
            check["base_sha256"] = base_sha256
        self._send(check, "Checking the change…", lambda r: self._show(r, note))

    def _send(self, params: dict[str, Any], doing: str, then: Any) -> None:
        req = self.requests.track(self.session.request(self._method, params, timeout=TIMEOUT))
        self._request = req
        req.finished.connect(lambda result: self._answered(req, result, then))
        req.failed.connect(lambda error: self._failed(req, error))
        self.busy.start(doing, self._cancel)

    def _answered(self, req: Request, result: Any, then: Any) -> None:
        if req is not self._request:
            return
        self._request = None
        self.busy.stop()
        then(result if isinstance(result, dict) else {})

    def _failed(self, req: Request, error: object) -> None:
        if req is not self._request:
            return
        self._request = None
        self.busy.stop()
        self.message.emit(f"{self._method} refused: {error_text(error)}")
        self.failed.emit(error)
        self._end()

    def _cancel(self) -> None:
        req, self._request = self._request, None
        if req is None:
            return
        req.cancel()
        writing = not req.params or not req.params.get("dry_run")
        self.message.emit(
            "Cancelled. The write was already sent and may have completed; "
            "Reload shows what the file says."
            if writing
            else "Cancelled; nothing was written."
        )
        self._end()

    def _show(self, result: dict[str, Any], note: str) -> None:
        diff = str(result.get("diff") or "")
        if not result.get("changed"):
            self.message.emit("No change: the file already says this.")
            self._end()
            return
        warnings = [str(w) for w in result.get("warnings") or []]
        dialog = DiffDialog(self.title, diff, self.widget, note=note, warnings=warnings)
        self.dialog = dialog
        base = str(result.get("sha256") or "")
        dialog.accepted.connect(lambda: self._write(base, diff))
        dialog.rejected.connect(self._not_applied)
        dialog.open()

    def _not_applied(self) -> None:
        self.message.emit("Not applied; nothing was written.")
        self._end()

    def _write(self, base: str, diff: str) -> None:
        params = {**self._params, "reload": True}
        if base:
            params["base_sha256"] = base
        self._send(params, "Writing and reloading…", lambda r: self._written(r, diff))

    def _written(self, result: dict[str, Any], diff: str) -> None:
        if result.get("reloaded"):
            after = "the daemon was told to reload"
        else:
            after = "no daemon is running, so nothing was reloaded"
        self.message.emit(f"Written ({summary(diff)}); {after}.")
        self.applied.emit(result)
        self._end()

    def _end(self) -> None:
        self.running = False
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None
        self.ended.emit()
