"""The Vacation screen: per-user out-of-office replies, previewed exactly and applied safely.

Left, the users: those with a vacation settings file (on, replying now / outside its
dates / off) and the other local accounts.  Middle, :class:`~.vacation_form.VacationEditor`
for the selected user.  Right, two pages:

- **Preview**: the exact reply a sample sender would get, headers included, built
  by the server with the responder's own code (``vacation.preview``) every time a
  field changes, and whether that sender would be answered now (the memory and the
  dates count).  A refused value shows its reason under its field instead.
- **Reply memory**: who was answered when (``vacation.memory``); "Forget" removes
  senders so their next message is answered again (``vacation.forget``).

Apply asks the server for the file's diff (``vacation.set`` with ``dry_run``), shows
it (:class:`~.diff_dialog.DiffDialog`), writes on Apply, then reads the user's
settings and the list again to show what is now in force.  When the server has no
VacationDirectory the screen says so and how to set it.  Every request shows a
progress bar with Cancel after 300 ms; a lost connection marks the data stale.
"""

from __future__ import annotations

import time
from typing import Any

from postroom.core.control.protocol import BAD_PARAMS, NOT_AVAILABLE, RpcError
from postroom.gui.models.session import Session
from postroom.gui.models.vacation_form import UserEntry, VacationForm, user_entries
from postroom.gui.models.vacation_memory import MemoryRow
from postroom.gui.qt_client import ConnectionState, Request
from postroom.gui.settings import Settings
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .busy_bar import BusyBar
from .diff_dialog import DiffDialog
from .screen_requests import ScreenRequests
from .vacation_form import VacationEditor
from .vacation_pages import MemoryPage, PreviewPage

PREVIEW_DELAY_MS = 300
TIMEOUT = 120.0
APPLY_NOTE = (
    "The settings file is replaced atomically; the delivery agent reads it for the "
    "next message this user receives."
)


def _error_text(error: Any) -> str:
    return error.message if isinstance(error, RpcError) else str(error)


def _field_of(error: Any) -> str | None:
    if isinstance(error, RpcError) and error.code == BAD_PARAMS and isinstance(error.data, dict):
        field = error.data.get("field")
        return str(field) if field else None
    return None


class VacationScreen(QWidget):
    """Vacation settings of one connection's users."""

    def __init__(self, session: Session, settings: Settings | None = None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.user: str | None = None
        self.saved: VacationForm | None = None
        self.has_settings = False
        self.loaded_once = False
        self.field_error: str | None = None
        self.preview_result: dict[str, Any] | None = None
        self.diff_dialog: DiffDialog | None = None
        self.entries: list[UserEntry] = []
        self.note = ""
        self._ops: dict[str, Request] = {}
        self.requests = ScreenRequests(self)
        self._build()
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.request_preview)
        session.connectedAgain.connect(self._on_connected_again)
        session.changed.connect(self._on_session)

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.users = QListWidget()
        self.users.setObjectName("vacationUsers")
        self.users.currentItemChanged.connect(self._on_user_item)
        self.account = QComboBox()
        self.account.setEditable(True)
        self.account.setPlaceholderText("user name")
        line = self.account.lineEdit()
        if line is not None:
            line.setPlaceholderText("another user…")
        self.open_button = QPushButton("Edit")
        self.open_button.clicked.connect(lambda: self.select_user(self.account.currentText()))
        pick = QHBoxLayout()
        pick.addWidget(self.account, 1)
        pick.addWidget(self.open_button)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(QLabel("<b>Users</b>"))
        left_box.addWidget(self.users, 1)
        left_box.addLayout(pick)
        left_box.addWidget(self.refresh_button)
        self.title = QLabel("<b>Select a user</b>")
        self.title.setWordWrap(True)
        self.editor = VacationEditor()
        self.editor.changed.connect(self._on_changed)
        self.editor.setEnabled(False)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("vacationApply")
        self.apply_button.clicked.connect(self.apply)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        middle = QWidget()
        middle_box = QVBoxLayout(middle)
        middle_box.setContentsMargins(6, 0, 6, 0)
        middle_box.addWidget(self.title)
        middle_box.addWidget(scroll, 1)
        middle_box.addLayout(buttons)
        self.pages = QTabWidget()
        self.preview = PreviewPage()
        self.preview.samplesEdited.connect(lambda: self._preview_timer.start())
        self.memory = MemoryPage()
        self.memory.forgetRequested.connect(self.forget)
        self.pages.addTab(self.preview, "Preview")
        self.pages.addTab(self.memory, "Reply memory")
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(middle)
        split.addWidget(self.pages)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 3)
        split.setSizes([220, 560, 560])
        self.unavailable = QLabel("")
        self.unavailable.setObjectName("vacationUnavailable")
        self.unavailable.setWordWrap(True)
        self.unavailable.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(split)
        self.stack.addWidget(self.unavailable)
        self.status = QLabel("")
        self.status.setObjectName("vacationStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #57606a;")
        self.busy = BusyBar()
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack, 1)
        layout.addLayout(foot)
        self._update_buttons()

    # -- requests ------------------------------------------------------------------------

    def _call(
        self, kind: str, method: str, params: dict[str, Any] | None, text: str
    ) -> Request | None:
        """Send one request of ``kind`` (an older one of that kind is dropped)."""
        if not self.session.connected:
            self.status.setText(f"Not connected: {method} not sent.")
            return None
        old = self._ops.pop(kind, None)
        if old is not None:
            old.cancel()
        request = self.requests.track(self.session.request(method, params, timeout=TIMEOUT))
        self._ops[kind] = request
        self.busy.start(text, self._cancel_all)
        request.failed.connect(lambda error: self._on_failed(kind, request, method, error))
        self._update_buttons()
        return request

    def _done(self, kind: str, request: Request) -> bool:
        if self._ops.get(kind) is not request:
            return False
        del self._ops[kind]
        if not self._ops:
            self.busy.stop()
        self._update_buttons()
        return True

    def _cancel_all(self) -> None:
        for request in self._ops.values():
            request.cancel()
        self._ops.clear()
        self.status.setText("Cancelled.")
        self._update_buttons()

    def _on_failed(self, kind: str, request: Request, method: str, error: Any) -> None:
        if not self._done(kind, request):
            return
        if isinstance(error, RpcError) and error.code == NOT_AVAILABLE:
            self._show_unavailable(error.message)
            return
        field = _field_of(error)
        if kind in ("preview", "check", "set") and field is not None:
            self.field_error = field
            self.editor.show_error(field, _error_text(error))
            if kind == "preview":
                self.preview.show_refused()
            else:
                self.status.setText(f"Not saved: {_error_text(error)}")
            self._update_buttons()
            return
        self.status.setText(f"{method} failed: {_error_text(error)}")

    def _show_unavailable(self, message: str) -> None:
        self.unavailable.setText(
            "<h3>Vacation replies are not available on this server</h3>"
            f"<p>The server says: {_escape(message)}.</p>"
            "<p>Set <tt>VacationDirectory</tt> in the configuration to a folder the MTA "
            'may write (for example <tt>VacationDirectory = "/var/spool/postroom/'
            'vacation"</tt>) and reload the daemon. The embedded profile sets it.</p>'
        )
        self.stack.setCurrentIndex(1)

    # -- the users -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded_once:
            self.refresh()

    def _on_connected_again(self) -> None:
        if not self.dirty:
            self.refresh()

    def _on_session(self) -> None:
        if self.session.state == ConnectionState.LOST:
            self._ops.clear()
            self.busy.stop()
            if self.loaded_once and not self.status.text().startswith("stale"):
                self.status.setText("stale — connection lost; " + self.status.text())
        self._update_buttons()

    def refresh(self) -> None:
        """Read the users list again (and the selected user's reply memory)."""
        request = self._call("users", "vacation.users", None, "Reading vacation users…")
        if request is not None:
            request.finished.connect(lambda result: self._on_users(request, result))
        if self.user is not None:
            self.request_memory()

    def _on_users(self, request: Request, result: Any) -> None:
        if not self._done("users", request) or not isinstance(result, dict):
            return
        self.loaded_once = True
        self.stack.setCurrentIndex(0)
        entries = user_entries(result)
        self.users.blockSignals(True)
        self.users.clear()
        for entry in entries:
            item = QListWidgetItem(entry.label())
            item.setData(Qt.ItemDataRole.UserRole, entry.user)
            if not entry.has_settings:
                item.setForeground(Qt.GlobalColor.gray)
            elif entry.active:
                item.setForeground(Qt.GlobalColor.darkGreen)
            self.users.addItem(item)
            if entry.user == self.user:
                self.users.setCurrentItem(item)
        self.users.blockSignals(False)
        self.account.clear()
        self.account.addItems([e.user for e in entries if not e.has_settings])
        self.account.setCurrentText("")
        self.entries = entries
        on = sum(1 for e in entries if e.active)
        self.status.setText(
            f"{self.note}{result.get('directory', '')}: {sum(e.has_settings for e in entries)} "
            f"users with settings, {on} replying now · fetched {time.strftime('%H:%M:%S')}"
        )
        self.note = ""

    def _on_user_item(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if item is not None:
            self.select_user(str(item.data(Qt.ItemDataRole.UserRole)))

    def select_user(self, user: str) -> None:
        """Load ``user``'s settings, preview and memory."""
        user = user.strip()
        if not user:
            return
        request = self._call("get", "vacation.get", {"user": user}, f"Reading {user}'s settings…")
        if request is not None:
            request.finished.connect(lambda result: self._on_settings(request, user, result))

    def _on_settings(self, request: Request, user: str, result: Any) -> None:
        if not self._done("get", request) or not isinstance(result, dict):
            return
        self.user = user
        self.has_settings = bool(result.get("exists"))
        form = VacationForm.from_settings(result.get("settings") or {})
        self.saved = form
        self.field_error = None
        self.editor.load(form)
        self.editor.setEnabled(True)
        where = "" if self.has_settings else " — no settings file yet (Apply creates it)"
        self.title.setText(f"<b>{_escape(user)}</b>{where}")
        self.request_preview()
        self.request_memory()
        self._update_buttons()

    # -- editing and preview -------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.saved is not None and self.editor.values() != self.saved

    def _on_changed(self) -> None:
        self._preview_timer.start()
        self._update_buttons()

    def request_preview(self) -> None:
        if self.user is None:
            return
        params = {
            "user": self.user,
            "settings": self.editor.values().to_settings(),
            "sender": self.preview.sample()[0],
            "subject": self.preview.sample()[1],
        }
        request = self._call("preview", "vacation.preview", params, "Building the preview…")
        if request is not None:
            values = self.editor.values()
            request.finished.connect(lambda result: self._on_preview(request, values, result))

    def _on_preview(self, request: Request, values: VacationForm, result: Any) -> None:
        if not self._done("preview", request) or not isinstance(result, dict):
            return
        if values != self.editor.values():
            return  # the fields changed meanwhile: a newer preview is on its way
        self.preview_result = result
        self.field_error = None
        self.editor.clear_errors()
        self.preview.show_result(result)
        self._update_buttons()

    def revert(self) -> None:
        if self.user is not None:
            self.select_user(self.user)

    # -- the reply memory ------------------------------------------------------------------

    def request_memory(self) -> None:
        if self.user is None:
            return
        params = {"user": self.user}
        request = self._call("memory", "vacation.memory", params, "Reading the reply memory…")
        if request is not None:
            request.finished.connect(lambda result: self._on_memory(request, result))

    def _on_memory(self, request: Request, result: Any) -> None:
        if not self._done("memory", request) or not isinstance(result, dict):
            return
        rows = [MemoryRow.from_wire(r) for r in result.get("entries") or [] if isinstance(r, dict)]
        self.memory.set_rows(rows, time.strftime("%H:%M:%S"))
        self._update_buttons()

    def forget(self, senders: list[str] | None) -> None:
        """Forget ``senders`` (None: everyone) in the selected user's reply memory."""
        if self.user is None:
            return
        params: dict[str, Any] = {"user": self.user}
        if senders is None:
            params["all"] = True
        else:
            params["senders"] = senders
        request = self._call("forget", "vacation.forget", params, "Forgetting…")
        if request is not None:
            request.finished.connect(lambda result: self._on_forgotten(request, result))

    def _on_forgotten(self, request: Request, result: Any) -> None:
        if not self._done("forget", request):
            return
        count = result.get("forgotten", 0) if isinstance(result, dict) else 0
        plural = "s" if count != 1 else ""
        self.status.setText(f"Forgot {count} sender{plural}: their next message is answered again.")
        self.request_memory()
        self.request_preview()

    # -- applying ----------------------------------------------------------------------------

    def apply(self) -> None:
        if self.user is None:
            return
        user = self.user
        settings = self.editor.values().to_settings()
        params = {"user": user, "settings": settings, "dry_run": True}
        request = self._call("check", "vacation.set", params, "Checking the settings…")
        if request is not None:
            request.finished.connect(lambda result: self._on_checked(request, user, result))

    def _on_checked(self, request: Request, user: str, result: Any) -> None:
        if not self._done("check", request) or not isinstance(result, dict):
            return
        self.editor.clear_errors()
        note = f"{result.get('path', '')}: {APPLY_NOTE}"
        dialog = DiffDialog(
            f"Vacation settings of {user}", str(result.get("diff", "")), self, note=note
        )
        settings = result.get("settings") or {}
        dialog.accepted.connect(lambda: self._write(user, settings))
        self.diff_dialog = dialog
        dialog.open()

    def _write(self, user: str, settings: dict[str, Any]) -> None:
        params = {"user": user, "settings": settings}
        request = self._call("set", "vacation.set", params, f"Saving {user}'s settings…")
        if request is not None:
            request.finished.connect(lambda result: self._on_written(request, user, result))

    def _on_written(self, request: Request, user: str, result: Any) -> None:
        if not self._done("set", request) or not isinstance(result, dict):
            return
        settings = result.get("settings") or {}
        if not settings.get("enabled"):
            state = "off"
        elif result.get("active"):
            state = "on and replying now"
        else:
            state = "on, outside its dates"
        self.saved = VacationForm.from_settings(settings)
        self.has_settings = True
        self.note = f"Saved {result.get('path', '')}: vacation for {user} is {state}. "
        self.status.setText(self.note)
        self.refresh()
        self.select_user(user)

    def _update_buttons(self) -> None:
        live = self.session.connected
        chosen = self.user is not None
        writing = "set" in self._ops or "check" in self._ops
        can_apply = live and chosen and not writing and self.field_error is None
        self.apply_button.setEnabled(can_apply and (self.dirty or not self.has_settings))
        self.revert_button.setEnabled(live and chosen and self.dirty)
        self.refresh_button.setEnabled(live)
        self.open_button.setEnabled(live)
        self.memory.set_enabled(live and chosen)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
