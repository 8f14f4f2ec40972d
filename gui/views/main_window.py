"""The main window: connection list on the left, the selected connection's screens.

Each connection gets its own :class:`~postroom.gui.models.session.Session` (one worker
thread, one RPC client) and :class:`~.session_view.SessionView` when first selected;
switching back and forth keeps both.  The local embedded profile is first and connects
at start.  SSH servers are added, edited and removed here; a password is taken from the
keyring, or asked and kept in memory for this run only.  A changed host key opens the
hard-error dialog.  On the embedded profile (no ``-C``) :mod:`.first_run` offers to
start the daemon and send a test message; "Send test message…" does the latter for the
selected connection.  Geometry, the splitter, column widths and the saved servers persist
through :class:`~postroom.gui.settings.Settings`.
"""

from __future__ import annotations

from pathlib import Path

from postroom.gui.models.connections import (
    LOCAL_KEY,
    ConnectionEntry,
    ConnectionListModel,
    local_entry,
    server_entry,
)
from postroom.gui.models.session import Session
from postroom.gui.qt_client import QtRpcClient
from postroom.gui.settings import SecretStore, ServerProfile, Settings
from postroom.gui.transport import HostKeyChangedError
from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .first_run import FirstRunWatcher, open_test_dialog
from .hostkey_dialog import ChangedHostKeyDialog
from .openers import SshPrompts, local_opener, ssh_opener
from .server_dialog import ServerDialog
from .session_view import SessionView
from .status_bar import SessionStatusBar


class MainWindow(QMainWindow):
    """Postroom's one window."""

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        *,
        local_config: Path | None = None,
        known_hosts: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.secrets = secrets
        self.local_config = local_config
        self.known_hosts = known_hosts
        self.prompts = SshPrompts(self)
        self.sessions: dict[str, Session] = {}
        self.views: dict[str, SessionView] = {}
        self._passwords: dict[str, str] = {}
        self.first_run: FirstRunWatcher | None = None
        self.setWindowTitle("Postroom")
        entries = [local_entry(None if local_config is None else str(local_config))]
        entries += [server_entry(p) for p in settings.servers()]
        self.connections = ConnectionListModel(entries)
        self.stack = QStackedWidget()
        self.status = SessionStatusBar(self)
        self.setStatusBar(self.status)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self._make_sidebar())
        self.split.addWidget(self.stack)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([195, 1285])
        self.setCentralWidget(self.split)
        self._make_menu()
        self.resize(1480, 880)
        geometry = settings.state("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        split = settings.state("window/splitter")
        if split is not None:
            self.split.restoreState(split)

    # -- construction -----------------------------------------------------------------

    def _make_sidebar(self) -> QWidget:
        self.list = QListView()
        self.list.setObjectName("connections")
        self.list.setModel(self.connections)
        self.list.setSpacing(2)
        self.list.selectionModel().selectionChanged.connect(self._on_pick)
        self.add_button = QPushButton("+ Add server")
        self.add_button.clicked.connect(self.add_server)
        self.edit_button = QPushButton("Edit")
        self.edit_button.clicked.connect(self.edit_server)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_server)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.remove_button)
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.setContentsMargins(6, 6, 0, 6)
        title = QLabel("<b>Connections</b>")
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.add_button)
        layout.addLayout(buttons)
        return side

    def _make_menu(self) -> None:
        menu = self.menuBar().addMenu("&Connection")
        add = QAction("&Add server…", self)
        add.triggered.connect(self.add_server)
        reconnect = QAction("&Reconnect", self)
        reconnect.setShortcut(QKeySequence("Ctrl+Shift+R"))
        reconnect.triggered.connect(self.reconnect)
        send_test = QAction("Send &test message…", self)
        send_test.triggered.connect(self.send_test_message)
        quit_ = QAction("&Quit", self)
        quit_.setShortcut(QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.close)
        for action in (add, reconnect, send_test, quit_):
            menu.addAction(action)
        prefs = self.menuBar().addMenu("&Options")
        confirm = QAction("Confirm before &deleting messages", self, checkable=True)
        confirm.setChecked(self.settings.flag("confirm_delete", True))
        confirm.toggled.connect(lambda on: self.settings.set_flag("confirm_delete", on))
        prefs.addAction(confirm)

    # -- sessions ---------------------------------------------------------------------

    def start(self) -> None:
        """Select (and so connect) the local connection."""
        self.list.setCurrentIndex(self.connections.index(0))

    def current_key(self) -> str:
        index = self.list.currentIndex()
        return self.connections.entry(index.row()).key if index.isValid() else LOCAL_KEY

    def current_view(self) -> SessionView | None:
        return self.views.get(self.current_key())

    def _on_pick(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = [i.row() for i in selected.indexes()]
        if not rows:
            return
        entry = self.connections.entry(rows[0])
        self.edit_button.setEnabled(not entry.local)
        self.remove_button.setEnabled(not entry.local)
        if entry.key not in self.views and not self._open(entry):
            return
        view = self.views[entry.key]
        self.stack.setCurrentWidget(view)
        self.status.set_session(view.session)

    def _open(self, entry: ConnectionEntry) -> bool:
        if entry.profile is None:
            opener = local_opener(self.local_config)
        else:
            password = self._password_for(entry.profile)
            if entry.profile.auth == "password" and password is None:
                return False
            opener = ssh_opener(entry.profile, password, self.prompts, self.known_hosts)
        session = Session(entry.title, QtRpcClient(opener, entry.key))
        key = entry.key
        session.client.stateChanged.connect(
            lambda state, detail: self.connections.set_state(key, state, detail)
        )
        session.openFailed.connect(self._on_open_failed)
        view = SessionView(session, self.settings)
        self.sessions[key] = session
        self.views[key] = view
        self.stack.addWidget(view)
        if entry.profile is None and self.local_config is None:  # the embedded profile
            self.first_run = FirstRunWatcher(session, self.settings, self)
        session.start()
        return True

    def _password_for(self, profile: ServerProfile) -> str | None:
        if profile.auth != "password":
            return None
        known = self._passwords.get(profile.key) or self.secrets.get(profile)
        if known is not None:
            return known
        text, ok = QInputDialog.getText(
            self, "Password", f"Password for {profile.key}:", QLineEdit.EchoMode.Password
        )
        if not ok:
            return None
        self._passwords[profile.key] = text
        return text

    def _on_open_failed(self, error: BaseException) -> None:
        if isinstance(error, HostKeyChangedError):
            ChangedHostKeyDialog(error, self).exec()

    def send_test_message(self) -> None:
        view = self.current_view()
        if view is not None:
            open_test_dialog(view.session, self.settings, self)

    def reconnect(self) -> None:
        session = self.sessions.get(self.current_key())
        if session is not None:
            session.retry_now()

    def _close_session(self, key: str) -> None:
        session = self.sessions.pop(key, None)
        view = self.views.pop(key, None)
        if session is not None:
            session.stop()
        if view is not None:
            self.stack.removeWidget(view)
            view.deleteLater()

    # -- saved servers ----------------------------------------------------------------

    def _save_servers(self) -> None:
        servers = [e.profile for e in self.connections.entries() if e.profile is not None]
        self.settings.save_servers(servers)

    def add_server(self) -> None:
        dialog = ServerDialog(keyring_available=self.secrets.available, parent=self)
        if not dialog.exec():
            return
        profile = dialog.profile()
        if self.connections.row_of(profile.key) >= 0:
            QMessageBox.information(self, "Postroom", f"{profile.key} is already in the list.")
            return
        self._keep_password(profile, dialog)
        row = self.connections.add(server_entry(profile))
        self._save_servers()
        self.list.setCurrentIndex(self.connections.index(row))

    def edit_server(self) -> None:
        index = self.list.currentIndex()
        entry = self.connections.entry(index.row()) if index.isValid() else None
        if entry is None or entry.profile is None:
            return
        dialog = ServerDialog(entry.profile, keyring_available=self.secrets.available, parent=self)
        if not dialog.exec():
            return
        profile = dialog.profile()
        self._close_session(entry.key)
        self._keep_password(profile, dialog)
        self.connections.replace_entry(index.row(), server_entry(profile))
        self._save_servers()
        self._on_pick(QItemSelection(index, index), QItemSelection())

    def _keep_password(self, profile: ServerProfile, dialog: ServerDialog) -> None:
        password = dialog.typed_password()
        if password is None:
            return
        self._passwords[profile.key] = password
        if dialog.remember_password():
            self.secrets.put(profile, password)

    def remove_server(self) -> None:
        index = self.list.currentIndex()
        if not index.isValid() or index.row() == 0:
            return
        entry = self.connections.entry(index.row())
        answer = QMessageBox.question(self, "Remove server", f"Remove {entry.title} from the list?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._close_session(entry.key)
        if entry.profile is not None:
            self.secrets.forget(entry.profile)
        self._passwords.pop(entry.key, None)
        self.connections.remove(index.row())
        self._save_servers()
        self.list.setCurrentIndex(self.connections.index(0))

    # -- shutdown ---------------------------------------------------------------------

    def save_state(self) -> None:
        self.settings.save_state("window/geometry", self.saveGeometry())
        self.settings.save_state("window/splitter", self.split.saveState())
        view = self.current_view()
        if view is not None:
            view.save_state()
        self.settings.sync()

    def shutdown(self) -> None:
        self.prompts.cancel_all()
        for key in list(self.sessions):
            self._close_session(key)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
