"""The main window: local connection, status bar, banner and reconnect, settings, dialogs."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postroom.gui import app
from postroom.gui.settings import SecretStore, ServerProfile, Settings
from postroom.gui.transport import HostKeyInfo, LocalTransport
from postroom.gui.views import hostkey_dialog, openers, status_bar
from postroom.gui.views.hostkey_dialog import UnknownHostKeyDialog
from postroom.gui.views.main_window import MainWindow
from postroom.gui.views.session_view import SCREENS
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from tests.control.support import write_config

from .realistic import BuiltQueue

WAIT = 30_000


class MemoryKeyring:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.saved.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.saved[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        self.saved.pop((service, user), None)


@pytest.fixture
def window(
    qtbot: QtBot, config_path: Path, built: BuiltQueue, settings: Settings
) -> Iterator[MainWindow]:
    win = MainWindow(settings, SecretStore(use_keyring=False), local_config=config_path)
    qtbot.addWidget(win)
    win.show()
    win.start()
    session = win.sessions["local"]
    qtbot.waitUntil(lambda: session.info is not None and session.counts is not None, timeout=WAIT)
    yield win
    win.shutdown()


def test_self_test_prints_one_line_and_exits_0(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.main(["--self-test", "-C", str(config_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("postroom self-test: ok: postroom-mta ")
    assert str(config_path) in out[0]


def test_status_bar_shows_connection_version_daemon_and_queue(window: MainWindow) -> None:
    bar = window.status
    assert "connected" in bar.state.text()
    assert bar.version.text().startswith("postroom-mta ")
    assert "stopped" in bar.daemon.text() and bar.start.isVisible()
    assert bar.queue.text() == "26 queued · 3 held"
    assert "connected" in window.connections.data(window.connections.index(0))


def test_start_and_reload_drive_the_real_daemon(
    qtbot: QtBot, tmp_path: Path, settings: Settings, monkeypatch: Any
) -> None:
    config = write_config(tmp_path / "empty")  # no queue: the daemon's run has no work
    win = MainWindow(settings, SecretStore(use_keyring=False), local_config=config)
    qtbot.addWidget(win)
    win.show()
    win.start()
    session = win.sessions["local"]
    qtbot.waitUntil(lambda: session.daemon is not None, timeout=WAIT)
    bar = win.status
    assert "stopped" in bar.daemon.text() and not bar.start.isHidden()
    problems: list[str] = []
    monkeypatch.setattr(status_bar.QMessageBox, "warning", lambda _p, _t, t: problems.append(t))
    monkeypatch.setattr(status_bar.QMessageBox, "information", lambda _p, _t, t: problems.append(t))
    bar.start.click()
    try:
        qtbot.waitUntil(lambda: bool((session.daemon or {}).get("running")), timeout=WAIT)
        assert "running" in bar.daemon.text() and not bar.reload.isHidden()
        bar.reload.click()
        qtbot.waitUntil(lambda: "Reload: done" in bar.currentMessage(), timeout=WAIT)
        assert problems == []
    finally:  # stop the daemon by the pid it wrote, even if the test failed early
        pid_file = config.parent / "mqueue" / "postroom-mta.pid"
        qtbot.waitUntil(pid_file.exists, timeout=WAIT)
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        qtbot.waitUntil(lambda: not Path(f"/proc/{pid}").exists(), timeout=WAIT)
    win.shutdown()


def test_every_screen_is_built(window: MainWindow) -> None:
    view = window.current_view()
    assert view is not None
    assert [view.tabs.tabText(i) for i in range(view.tabs.count())] == list(SCREENS)
    for name in SCREENS:
        screen = view.screens[name]
        assert type(screen).__name__ == f"{name}Screen"
        assert screen.objectName() == f"screen_{name.lower()}"


def test_a_killed_connection_shows_the_banner_marks_stale_and_recovers(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.current_view()
    assert view is not None
    session = view.session
    qtbot.waitUntil(lambda: view.queue.model.rowCount() == 29, timeout=WAIT)
    transport = session.client.transport
    assert isinstance(transport, LocalTransport)
    old_pid = transport.pid
    os.kill(old_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: view.banner.isVisible(), timeout=WAIT)
    assert "lost" in view.banner.text.text()
    assert view.queue.status.text().startswith("stale")
    assert view.queue.model.rowCount() == 29  # the last data stays
    assert view.queue.model.stale
    assert "lost" in window.status.state.text()
    qtbot.waitUntil(lambda: session.connected, timeout=WAIT)  # retried automatically
    qtbot.waitUntil(lambda: not view.banner.isVisible(), timeout=WAIT)
    new = session.client.transport
    assert isinstance(new, LocalTransport) and new.pid != old_pid
    qtbot.waitUntil(lambda: view.queue.status.text().startswith("29 messages"), timeout=WAIT)
    assert not view.queue.model.stale


def test_layout_and_servers_persist(qtbot: QtBot, window: MainWindow, settings: Settings) -> None:
    profile = ServerProfile(
        "mx1", "mx1.example.org", "admin", port=2222, auth="key", key_file="~/.ssh/id_ed25519"
    )
    settings.save_servers([profile])
    window.split.setSizes([300, 900])
    window.save_state()
    again = MainWindow(settings, SecretStore(use_keyring=False))
    qtbot.addWidget(again)
    assert [e.title for e in again.connections.entries()] == ["Local (embedded)", "mx1"]
    assert again.connections.entry(1).profile == profile
    assert settings.state("window/geometry") is not None
    assert settings.state("queue/header") is not None
    raw = Path(settings.store.fileName()).read_text()
    assert "password" not in raw.lower().replace('"auth": "password"', "")


def test_passwords_go_to_the_keyring_only() -> None:
    keyring = MemoryKeyring()
    store = SecretStore(keyring)
    profile = ServerProfile("mx1", "mx1.example.org", "admin", auth="password")
    assert store.put(profile, "s3cret")
    assert store.get(profile) == "s3cret"
    store.forget(profile)
    assert store.get(profile) is None
    assert not SecretStore(use_keyring=False).put(profile, "s3cret")


def test_unknown_host_key_dialog_defaults_to_cancel(qtbot: QtBot) -> None:
    info = HostKeyInfo("mx1.example.org", 22, "192.0.2.1", "ssh-ed25519", "SHA256:abc", "mx1")
    dialog = UnknownHostKeyDialog(info)
    qtbot.addWidget(dialog)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.isDefault() and not dialog.trust.isDefault()
    assert dialog.isModal()
    dialog.compare.setText("SHA256:abd")
    assert "DIFFER" in dialog.verdict.text()
    dialog.compare.setText("SHA256:abc")
    assert "match" in dialog.verdict.text()


def test_host_key_question_from_a_worker_runs_on_the_gui_thread(
    qtbot: QtBot, monkeypatch: Any
) -> None:
    asked: list[tuple[str, threading.Thread]] = []

    def fake_ask(info: HostKeyInfo, parent: Any = None) -> bool:
        asked.append((info.host, threading.current_thread()))
        return False

    monkeypatch.setattr(openers, "ask_unknown_key", fake_ask)
    prompts = openers.SshPrompts(None)
    info = HostKeyInfo("mx2.example.org", 22, "192.0.2.2", "ssh-rsa", "SHA256:x", "mx2")
    answers: list[bool] = []
    worker = threading.Thread(target=lambda: answers.append(prompts.host_key(info)))
    worker.start()
    qtbot.waitUntil(lambda: bool(answers), timeout=WAIT)
    worker.join()
    assert answers == [False]
    assert asked == [("mx2.example.org", threading.main_thread())]
    assert hostkey_dialog.ask_unknown_key is not fake_ask  # the real dialog is untouched


def test_a_refused_configuration_is_shown_in_the_banner(
    qtbot: QtBot, tmp_path: Path, settings: Settings
) -> None:
    config = write_config(tmp_path / "bad", 'QueueDirectory = "mqueue"\nNoSuchOption = 1\n')
    win = MainWindow(settings, SecretStore(use_keyring=False), local_config=config)
    qtbot.addWidget(win)
    win.show()
    win.start()
    view = win.current_view()
    assert view is not None
    qtbot.waitUntil(lambda: "refuses its configuration" in view.banner.text.text(), timeout=WAIT)
    assert "NoSuchOption" in view.banner.text.text()
    assert view.banner.isVisible()
    qtbot.waitUntil(lambda: "failed" in view.queue.status.text(), timeout=WAIT)
    win.shutdown()
