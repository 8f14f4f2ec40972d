"""The first run through the real app: a fresh HOME, the embedded profile, its daemon, a test.

The app starts with nothing configured (a private HOME and XDG_DATA_HOME, no ``-C``), so
its local connection creates the embedded profile.  The offer opens by itself; its Start
button starts the profile's daemon on 127.0.0.1:2525 and :2587, and "Send test message"
puts a message through the daemon's SMTP listener and the queue into the mailbox.  The
daemon is stopped by the pid it wrote, whatever happens.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.gui.models.session import Session
from postroom.gui.settings import SecretStore, Settings
from postroom.gui.views.first_run import DONE_KEY, FirstRunOffer, listener_text, should_offer
from postroom.gui.views.main_window import MainWindow
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from tests.support.mta import MtaSetup, RunningMta

WAIT = 30_000
PROFILE_PORTS = (2525, 2587)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stop_daemon(pid_file: Path) -> None:
    if not pid_file.exists():
        return
    text = pid_file.read_text().strip()
    if not text.isdigit():
        return
    pid = int(text)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOME with nothing in it; the embedded profile will be made under it."""
    busy = [p for p in PROFILE_PORTS if not port_is_free(p)]
    assert not busy, f"the embedded profile's ports {busy} are in use on 127.0.0.1"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    profile = home / ".local" / "share" / "postroom"
    yield profile
    stop_daemon(profile / "mqueue" / "postroom-mta.pid")


def test_a_newcomer_starts_the_daemon_and_sees_a_test_message_delivered(
    qtbot: QtBot, fresh_home: Path, settings: Settings
) -> None:
    opened = time.monotonic()
    win = MainWindow(settings, SecretStore(use_keyring=False))
    qtbot.addWidget(win)
    win.show()
    win.start()
    try:
        qtbot.waitUntil(lambda: win.first_run is not None and win.first_run.offer is not None,
                        timeout=WAIT)  # fmt: skip
        assert win.first_run is not None and win.first_run.offer is not None
        offer = win.first_run.offer
        assert offer.isVisible() and offer.windowTitle() == "Welcome to Postroom"
        config = fresh_home / "postroom.toml"
        assert config.exists()  # the local connection created the profile
        heading = offer.heading.text()
        assert str(fresh_home) in heading
        assert "MTA on 127.0.0.1 port 2525" in heading
        assert "MSA on 127.0.0.1 port 2587 (AUTH required)" in heading
        assert offer.start_state.text() == "stopped"
        assert offer.start_button.isEnabled() and not offer.send_button.isEnabled()

        offer.start_button.click()
        qtbot.waitUntil(offer.send_button.isEnabled, timeout=WAIT)
        session = win.sessions["local"]
        pid = (session.daemon or {}).get("pid")
        assert pid and (fresh_home / "mqueue" / "postroom-mta.pid").read_text().strip() == str(pid)
        assert "The mail server is running" in offer.log_text()
        assert "running" in win.status.daemon.text()

        offer.send_button.click()
        assert offer.run is not None
        run = offer.run
        qtbot.waitUntil(lambda: run.done, timeout=60_000)
        log = offer.log_text()
        assert run.delivered, log
        qid = run.queue_id
        assert qid and f"Queued as <b>{qid}</b> by 127.0.0.1 port 2525 (MTA)." in log
        assert log.index("Queued as") < log.index("Delivered to")
        mailboxes = list((fresh_home / "spool").iterdir())
        assert len(mailboxes) == 1, "one mailbox: the profile's user"
        mbox = mailboxes[0].read_text()
        assert "Subject: Postroom test message" in mbox and f"id {qid}" in mbox
        assert f"It is in <tt>{mailboxes[0]}</tt>." in log
        assert not list((fresh_home / "mqueue").glob(f"*{qid}"))  # it left the queue
        assert offer.send_state.text().endswith("delivered")
        assert time.monotonic() - opened < 60  # within a minute of opening the app
        assert settings.flag(DONE_KEY, False)  # not offered again
        assert not should_offer(session, settings)
    finally:
        win.shutdown()


def test_declining_for_good_and_no_offer_for_a_named_config(
    qtbot: QtBot, fresh_home: Path, settings: Settings, tmp_path: Path
) -> None:
    win = MainWindow(settings, SecretStore(use_keyring=False))
    qtbot.addWidget(win)
    win.show()
    win.start()
    try:
        qtbot.waitUntil(lambda: win.first_run is not None and win.first_run.offer is not None,
                        timeout=WAIT)  # fmt: skip
        assert win.first_run is not None and win.first_run.offer is not None
        offer = win.first_run.offer
        offer.dont_show.setChecked(True)
        offer.close()
        assert settings.flag(DONE_KEY, False)
        assert not should_offer(win.sessions["local"], settings)
    finally:
        win.shutdown()
    setup = MtaSetup(tmp_path / "named")
    named = MainWindow(settings, SecretStore(use_keyring=False), local_config=setup.write())
    qtbot.addWidget(named)
    assert named.first_run is None or named.first_run.offer is None
    named.shutdown()


def test_the_menu_action_sends_through_any_connection(
    qtbot: QtBot, tmp_path: Path, settings: Settings
) -> None:
    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    with RunningMta(setup):
        win = MainWindow(settings, SecretStore(use_keyring=False), local_config=config)
        qtbot.addWidget(win)
        win.show()
        win.start()
        session = win.sessions["local"]
        try:
            qtbot.waitUntil(lambda: session.daemon is not None, timeout=WAIT)
            assert win.first_run is None  # a named config is not a first run
            menu = win.menuBar().findChildren(QMenu)[0]
            action = next(a for a in menu.actions() if a.text() == "Send &test message…")
            action.trigger()
            dialogs = [d for d in win.findChildren(FirstRunOffer) if d.isVisible()]
            assert len(dialogs) == 1
            dialog = dialogs[0]
            assert dialog.windowTitle() == "Send a test message"
            assert not dialog.dont_show.isVisible()
            dialog.send_test()  # -bD writes no pid file, so the dialog waits for a click
            assert dialog.run is not None
            run = dialog.run
            qtbot.waitUntil(lambda: run.done, timeout=60_000)
            assert run.delivered, dialog.log_text()
            assert "alice@mail.example.test" in dialog.log_text()
            assert (setup.spool_dir / "alice").read_text().count("Postroom test message") == 1
            assert not settings.flag(DONE_KEY, False)  # only the welcome sets it
        finally:
            win.shutdown()


def test_without_a_daemon_the_failure_is_shown(
    qtbot: QtBot, session: Session, settings: Settings, config_path: Path
) -> None:
    dialog = FirstRunOffer(session, settings, welcome=False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: session.daemon is not None, timeout=WAIT)
    dialog.refresh()
    assert not dialog.send_button.isEnabled()
    dialog.send_test()
    assert dialog.run is not None
    run = dialog.run
    qtbot.waitUntil(lambda: run.done, timeout=WAIT)
    assert not run.delivered
    assert "Failed: nothing answers on 127.0.0.1 port" in dialog.log_text()
    assert "daemon.start" in dialog.log_text()
    assert "not delivered" in dialog.send_state.text()


def test_listener_text() -> None:
    assert listener_text("Name=MSA, Port=2587, Addr=127.0.0.1, M=Ea") == (
        "MSA on 127.0.0.1 port 2587 (AUTH required)"
    )
    assert listener_text("Name=MTA, Port=25") == "MTA on every address port 25"
