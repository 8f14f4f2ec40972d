"""The daemon's life: reload on SIGHUP, command timeout, optional listeners, start-up sweep, -bd."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.mta import MtaSetup, RunningMta, free_port

from .smtpwire import Wire


def wait_for_log(path: Path, text: str, timeout: float = 20.0) -> str:
    """Poll the daemon's log file until ``text`` appears (the daemon's own acknowledgement)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged in {timeout}s:\n{content}")


def ehlo(port: int) -> str:
    w = Wire(port)
    w.greeting()
    return w.cmd("EHLO client.example.org")


def test_sighup_with_invalid_config_keeps_the_old_one(mta: RunningMta) -> None:
    setup = mta.setup
    good = setup.config_path.read_text()
    setup.config_path.write_text(good + "PrivacyOptions = ['noexpn', 'nosuchflag']\n")
    mta.send_signal(signal.SIGHUP)
    log = wait_for_log(setup.log_file, "reload refused")
    assert f"{setup.config_path}:" in log and "PrivacyOptions" in log
    assert "EXPN" in ehlo(mta.port())  # old configuration still in force


def test_sighup_with_valid_config_applies_it(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(PrivacyOptions=["public"])
    assert "EXPN" in ehlo(mta.port())
    setup = mta.setup
    setup.options["PrivacyOptions"] = ["noexpn"]
    setup.write()
    mta.send_signal(signal.SIGHUP)
    wait_for_log(setup.log_file, "configuration reloaded")
    assert "EXPN" not in ehlo(mta.port())


def test_reload_after_sessions_keeps_unchanged_listeners_and_opens_new_ones(
    mta_setup: MtaSetup,
) -> None:
    """Regression: sessions had left sockets in TIME_WAIT, and rebinding the unchanged
    listener on reload failed with 'Address already in use'."""
    mta_setup.write(listeners={"MTA": ""})
    with RunningMta(mta_setup) as mta:
        for _ in range(4):
            w = Wire(mta.port())
            w.greeting()
            assert w.cmd("QUIT").startswith("221")
        assert "ETRN" in ehlo(mta.port())
        mta_setup.write(listeners={"MTA": "M=E", "Extra": ""})
        mta.send_signal(signal.SIGHUP)
        log = wait_for_log(mta_setup.log_file, "configuration reloaded")
        assert "reload refused" not in log
        assert "ETRN" not in ehlo(mta.port())  # same sockets, the new modifiers
        assert "ETRN" in ehlo(mta.port("Extra"))
        mta_setup.write(listeners={"MTA": ""})
        mta.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while log.count("configuration reloaded") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            log = mta_setup.log_file.read_text()
        assert log.count("configuration reloaded") == 2, log
        try:
            Wire(mta.port("Extra")).greeting()
        except OSError:
            pass
        else:
            raise AssertionError("the listener taken out of the configuration still answers")
        assert "ETRN" in ehlo(mta.port())


def test_idle_client_gets_421_after_command_timeout(
    start_mta: Callable[..., RunningMta],
) -> None:
    mta = start_mta(**{"Timeout.command": "10s"})
    w = Wire(mta.port(), timeout=30)
    w.greeting()
    started = time.monotonic()
    reply = w.reply()
    assert reply.startswith("421 4.4.2 ")
    assert 9 <= time.monotonic() - started < 25
    assert w.closed_by_peer()


def test_optional_listener_that_cannot_bind_is_skipped(mta_setup: MtaSetup) -> None:
    import socket

    busy_port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", busy_port))
        busy.listen()
        mta_setup.write()
        text = mta_setup.config_path.read_text()
        text = text.replace(
            "DaemonPortOptions = [",
            f'DaemonPortOptions = ["Name=Extra, Port={busy_port}, Addr=127.0.0.1, M=O", ',
        )
        mta_setup.config_path.write_text(text)
        with RunningMta(mta_setup) as mta:
            assert ehlo(mta.port()).startswith("250-")
        assert "optional socket not opened" in mta_setup.log_file.read_text()


def test_startup_sweeps_debris_and_sets_aside_bad_queue_files(mta_setup: MtaSetup) -> None:
    mta_setup.write()
    q = mta_setup.queue_dir
    (q / "tf6APITkJh015270").write_text("V8\nhalf")
    (q / "df6APITkJh015271").write_text("lonely body\n")
    (q / "qf6APITkJh015272").write_text("V8\nT1795631386\nXbogus line\n.\n")
    with RunningMta(mta_setup):
        pass
    assert not (q / "tf6APITkJh015270").exists()
    assert not (q / "df6APITkJh015271").exists()
    assert not (q / "qf6APITkJh015272").exists()
    assert (q / "Qf6APITkJh015272").read_text().startswith("V8\n")
    log = mta_setup.log_file.read_text()
    assert "qf6APITkJh015272" in log


def test_bd_detaches_and_writes_a_pid_file(mta_setup: MtaSetup) -> None:
    mta_setup.write()
    res = subprocess.run(
        [sys.executable, "-m", "postroom.core.cli", "-bd", "-C", str(mta_setup.config_path)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    pid_file = mta_setup.queue_dir / "postroom-mta.pid"
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    try:
        wait_for_log(mta_setup.log_file, "starting daemon")
        assert ehlo(mta_setup.ports["MTA"]).startswith("250-")
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for_log(mta_setup.log_file, "stopping daemon")
    deadline = time.monotonic() + 20
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_file.exists()


def test_sigusr1_dumps_state_to_the_log(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    mta.send_signal(signal.SIGUSR1)
    log = wait_for_log(mta.setup.log_file, "--- end of state dump ---")
    dump = log[log.index("--- dumping state on SIGUSR1: $j = mail.example.test ---") :]
    assert f"listener MTA: 127.0.0.1 port {mta.port()}" in dump
    assert "session localhost [127.0.0.1] helo=client.example.org tls=no auth=- state=MAIL" in dump
    assert str(mta.setup.log_file) in dump  # the open log file is listed among the fds
    assert "queue runner: none periodic (no -q interval), ETRN runs in progress: 0" in dump


def test_log_lines_in_sendmail_style(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<x@remote.example>")
    w.cmd("RCPT TO:<alice>")
    w.cmd("DATA")
    w.send(b"Subject: s\r\nMessage-Id: <m1@example.org>\r\n\r\nx\r\n.\r\n")
    qid = w.reply().split()[2]
    log = wait_for_log(mta.setup.log_file, f"{qid}: from=")
    assert (
        f"{qid}: from=<a@example.org>, size=43, class=0, nrcpts=1, msgid=<m1@example.org>, "
        "proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]"
    ) in log
    assert (
        "ruleset=check_rcpt, arg1=<x@remote.example>, relay=localhost [127.0.0.1], "
        "reject=550 5.7.1 <x@remote.example>... Relaying denied"
    ) in log
