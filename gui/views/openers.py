"""Building transports for a connection: the local embedded profile, or SSH.

The openers returned here run on the connection's worker thread.  Questions the SSH
handshake must ask (trust an unknown host key? the key file's passphrase?) go through
:class:`~postroom.gui.qt_client.GuiCaller` objects, so the dialogs open on the GUI
thread while the worker waits.  The local connection runs ``postroom-mta --rpc`` as a
child of this interpreter (LocalTransport's default command); without ``-C`` it uses
the user's embedded profile, which it creates on first use.
"""

from __future__ import annotations

from pathlib import Path

from postroom.gui.qt_client import GuiCaller, Opener
from postroom.gui.settings import ServerProfile
from postroom.gui.transport import (
    AgentAuth,
    HostKeyInfo,
    KeyFileAuth,
    LocalTransport,
    PasswordAuth,
    RemoteCommand,
    SshAuth,
    SshTransport,
)
from postroom.gui.transport.remote_command import DEFAULT_PROGRAMS
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from .hostkey_dialog import ask_unknown_key


def local_opener(config: Path | None) -> Opener:
    def open_local() -> LocalTransport:
        return LocalTransport(config)

    return open_local


def known_hosts_path() -> Path:
    """Postroom's own known-hosts file (keys the user accepted in the app)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(base or Path.home() / ".config" / "postroom") / "known_hosts"


class SshPrompts:
    """The GUI-thread questions an SSH handshake may ask, callable from the worker."""

    def __init__(self, parent: QWidget | None) -> None:
        self.parent = parent
        self.host_key: GuiCaller[HostKeyInfo, bool] = GuiCaller(self._ask_key, False)
        self.passphrase: GuiCaller[Path, str | None] = GuiCaller(self._ask_passphrase, None)

    def _ask_key(self, info: HostKeyInfo) -> bool:
        return ask_unknown_key(info, self.parent)

    def _ask_passphrase(self, path: Path) -> str | None:
        text, ok = QInputDialog.getText(
            self.parent,
            "Key passphrase",
            f"Passphrase for the key file {path}:",
            QLineEdit.EchoMode.Password,
        )
        return text if ok else None

    def cancel_all(self) -> None:
        self.host_key.cancel_all()
        self.passphrase.cancel_all()


def ssh_auth(profile: ServerProfile, password: str | None) -> SshAuth:
    if profile.auth == "key":
        return KeyFileAuth(Path(profile.key_file))
    if profile.auth == "password":
        return PasswordAuth(password or "")
    return AgentAuth()


def ssh_opener(
    profile: ServerProfile,
    password: str | None,
    prompts: SshPrompts,
    known_hosts: Path | None = None,
) -> Opener:
    programs = (profile.remote_command,) if profile.remote_command else DEFAULT_PROGRAMS
    remote = RemoteCommand(programs=programs, config=profile.remote_config or None)
    store = known_hosts if known_hosts is not None else known_hosts_path()

    def open_ssh() -> SshTransport:
        store.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        transport = SshTransport(
            profile.host,
            profile.user,
            ssh_auth(profile, password),
            port=profile.port,
            known_hosts=store,
            on_unknown_host_key=prompts.host_key,
            ask_passphrase=prompts.passphrase,
            remote=remote,
        )
        transport.connect()
        return transport

    return open_ssh
