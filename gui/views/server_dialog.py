"""The Add/Edit server dialog: host, port, user, how to log in, where postroom-mta is.

Authentication is one of the SSH agent, a key file (chosen with a file dialog) or a
password.  A password is only kept when the system keyring is available (the checkbox
says so); otherwise it is asked at each connection.  The dialog returns a
:class:`~postroom.gui.settings.ServerProfile` (no secret in it) and, separately, the
password typed, if any.
"""

from __future__ import annotations

from postroom.gui.settings import ServerProfile
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class ServerDialog(QDialog):
    """Edits one saved server."""

    def __init__(
        self,
        profile: ServerProfile | None = None,
        *,
        keyring_available: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit server" if profile else "Add server")
        self.name = QLineEdit()
        self.name.setPlaceholderText("shown in the list, e.g. mx1")
        self.host = QLineEdit()
        self.host.setPlaceholderText("mx1.example.org")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(22)
        self.user = QLineEdit()
        self.agent = QRadioButton("SSH agent")
        self.keyfile = QRadioButton("Key file")
        self.password = QRadioButton("Password")
        group = QButtonGroup(self)
        for button in (self.agent, self.keyfile, self.password):
            group.addButton(button)
        self.agent.setChecked(True)
        self.key_path = QLineEdit()
        self.key_path.setPlaceholderText("~/.ssh/id_ed25519")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_path)
        key_row.addWidget(browse)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember in the system keyring")
        self.remember.setEnabled(keyring_available)
        if not keyring_available:
            self.remember.setToolTip("No system keyring: the password is asked each time")
            self.secret.setPlaceholderText("asked at each connection (no system keyring)")
        self.command = QLineEdit()
        self.command.setPlaceholderText("default: postroom-mta in PATH, /usr/sbin, /usr/local/bin")
        self.config = QLineEdit()
        self.config.setPlaceholderText("default: the host's /etc/postroom/postroom.toml")
        auth_row = QHBoxLayout()
        for button in (self.agent, self.keyfile, self.password):
            auth_row.addWidget(button)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Host:", self.host)
        form.addRow("Port:", self.port)
        form.addRow("User:", self.user)
        form.addRow("Log in with:", auth_row)
        form.addRow("Key file:", key_row)
        form.addRow("Password:", self.secret)
        form.addRow("", self.remember)
        form.addRow("postroom-mta path:", self.command)
        form.addRow("Config file (-C):", self.config)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #cf222e;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        if profile is not None:
            self._fill(profile)
        for button in (self.agent, self.keyfile, self.password):
            button.toggled.connect(self._update)
        self._update()
        self.setMinimumWidth(520)

    def _fill(self, p: ServerProfile) -> None:
        self.name.setText(p.name)
        self.host.setText(p.host)
        self.port.setValue(p.port)
        self.user.setText(p.user)
        {"agent": self.agent, "key": self.keyfile, "password": self.password}[p.auth].setChecked(
            True
        )
        self.key_path.setText(p.key_file)
        self.command.setText(p.remote_command)
        self.config.setText(p.remote_config)

    def _update(self) -> None:
        self.key_path.setEnabled(self.keyfile.isChecked())
        self.secret.setEnabled(self.password.isChecked())
        self.remember.setVisible(self.password.isChecked())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Private key file")
        if path:
            self.key_path.setText(path)

    def _check(self) -> None:
        if not self.host.text().strip() or not self.user.text().strip():
            self.problem.setText("Host and user are needed.")
            return
        if self.keyfile.isChecked() and not self.key_path.text().strip():
            self.problem.setText("Choose the key file.")
            return
        self.accept()

    def profile(self) -> ServerProfile:
        auth = (
            "key"
            if self.keyfile.isChecked()
            else "password"
            if self.password.isChecked()
            else "agent"
        )
        host = self.host.text().strip()
        return ServerProfile(
            name=self.name.text().strip() or host,
            host=host,
            user=self.user.text().strip(),
            port=self.port.value(),
            auth=auth,
            key_file=self.key_path.text().strip() if auth == "key" else "",
            remote_command=self.command.text().strip(),
            remote_config=self.config.text().strip(),
        )

    def typed_password(self) -> str | None:
        """The password typed (None when not using a password or left empty)."""
        if not self.password.isChecked() or not self.secret.text():
            return None
        return self.secret.text()

    def remember_password(self) -> bool:
        return self.remember.isEnabled() and self.remember.isChecked()
