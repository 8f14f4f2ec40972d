"""Host-key dialogs: the question about an unknown key, the hard stop for a changed one.

:class:`UnknownHostKeyDialog` is modal and its default button is Cancel: it shows the
host, port, the address reached, the key type and the SHA256 fingerprint, and lets the
user paste the fingerprint they got out of band to compare.  :func:`ask_unknown_key`
runs it and answers the transport's question (the caller marshals it to the GUI
thread).  :class:`ChangedHostKeyDialog` offers no way to accept: it shows both
fingerprints and the man-in-the-middle warning; replacing a key is a separate action
(editing the known-hosts file it names).
"""

from __future__ import annotations

from postroom.gui.transport import HostKeyChangedError, HostKeyInfo
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


def _fixed(text: str) -> QLabel:
    label = QLabel(text)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class UnknownHostKeyDialog(QDialog):
    """Asks whether to trust a host key seen for the first time."""

    def __init__(self, info: HostKeyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setWindowTitle(f"Unknown host key — {info.host}")
        self.setModal(True)
        intro = QLabel(
            f"<b>Postroom has never connected to {info.host} before.</b><br>"
            "Check the fingerprint below against the one the server's administrator "
            "gave you (for example from <tt>ssh-keygen -lf</tt> on the server). "
            "Nothing has been sent to the host yet."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Host:", _fixed(info.host))
        form.addRow("Port:", _fixed(str(info.port)))
        form.addRow("Address:", _fixed(info.address))
        form.addRow("Key type:", _fixed(info.key_type))
        form.addRow("Fingerprint:", _fixed(info.fingerprint))
        self.compare = QLineEdit()
        self.compare.setPlaceholderText("optional: paste the expected SHA256:… fingerprint")
        self.verdict = QLabel("")
        self.compare.textChanged.connect(self._compare)
        form.addRow("Compare:", self.compare)
        form.addRow("", self.verdict)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.trust = self.buttons.addButton(
            "Trust and connect", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.trust.setAutoDefault(False)
        self.trust.setDefault(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        cancel.setAutoDefault(True)
        cancel.setFocus()
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def _compare(self, text: str) -> None:
        typed = text.strip()
        if not typed:
            self.verdict.setText("")
            return
        if typed.removeprefix("SHA256:") == self.info.fingerprint.removeprefix("SHA256:"):
            self.verdict.setText("✔ The fingerprints match.")
            self.verdict.setStyleSheet("color: #1a7f37;")
        else:
            self.verdict.setText("✘ The fingerprints DIFFER — do not trust this key.")
            self.verdict.setStyleSheet("color: #cf222e; font-weight: bold;")


def ask_unknown_key(info: HostKeyInfo, parent: QWidget | None = None) -> bool:
    """Show the dialog; True when the user chose to trust the key."""
    dialog = UnknownHostKeyDialog(info, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted


class ChangedHostKeyDialog(QDialog):
    """A hard failure: the host presented a different key than the one on record."""

    def __init__(self, error: HostKeyChangedError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Host key CHANGED — {error.host}")
        self.setModal(True)
        title = QLabel("WARNING: the host key has changed — possible man-in-the-middle attack")
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        title.setStyleSheet("color: #cf222e;")
        title.setWordWrap(True)
        text = QLabel(
            f"{error.host} port {error.port} offered a different key than the one "
            "Postroom knows. Someone could be intercepting the connection, or the host's "
            "key was replaced. The connection was stopped and nothing was sent.<br><br>"
            "If the change is expected, remove the old key from the known-hosts file "
            "and connect again."
        )
        text.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Known key:", _fixed(error.old_fingerprint))
        form.addRow("Key offered now:", _fixed(f"{error.key_type} {error.new_fingerprint}"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(buttons)
