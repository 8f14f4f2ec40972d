"""Delivery wired into the command line and the daemon: -q, -q<interval> with -bD, ETRN."""

from __future__ import annotations

import mailbox
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import Wire

CLI = [sys.executable, "-m", "postroom.core.cli"]


def read_mbox(path: Path) -> list[mailbox.mboxMessage]:
    box = mailbox.mbox(str(path), create=False)
    try:
        return list(box)
    finally:
        box.close()


def wait_for_mail(
    setup: MtaSetup, user: str, count: int, timeout: float = 30.0
) -> list[mailbox.mboxMessage]:
    """Poll the user's mbox until ``count`` messages are in it."""
    path = setup.spool_dir / user
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(messages := read_mbox(path)) >= count:
            return messages
        time.sleep(0.1)
    raise AssertionError(f"{count} message(s) for {user} not delivered in {timeout}s")


def smtp_send(port: int, rcpt: str, subject: str) -> str:
    w = Wire(port)
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    assert w.cmd(f"RCPT TO:<{rcpt}>").startswith("250 ")
    w.cmd("DATA")
    w.send(f"Subject: {subject}\r\n\r\nbody\r\n.\r\n".encode())
    return w.reply().split()[2]


def test_q_runs_the_queue_once_with_verbose_transcript(mta_setup: MtaSetup) -> None:
    mta_setup.write()
    cfg = str(mta_setup.config_path)
    subprocess.run([*CLI, "-C", cfg, "bob"], input=b"Subject: q\n\nhi\n", check=True)
    res = subprocess.run([*CLI, "-C", cfg, "-q", "-v"], capture_output=True, text=True, check=True)
    assert "Running " in res.stdout and "bob... Sent" in res.stdout
    box = wait_for_mail(mta_setup, "bob", 1, timeout=1)
    assert box[0]["Subject"] == "q"
    listing = subprocess.run(
        [*CLI, "-C", cfg, "-bp"], capture_output=True, text=True, check=True
    ).stdout
    assert listing.startswith(f"{mta_setup.queue_dir} is empty")


def test_daemon_with_interval_delivers_received_mail(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta("-q1s")
    smtp_send(mta.port(), "alice@example.test", "periodic")
    box = wait_for_mail(mta.setup, "alice", 1)
    assert box[0]["Subject"] == "periodic"
    assert box[0]["Delivered-To"] == "alice@example.test"


def test_etrn_starts_a_run_for_the_domain(mta: RunningMta) -> None:
    smtp_send(mta.port(), "bob@example.test", "etrn")
    assert not (mta.setup.spool_dir / "bob").exists()  # no -q interval: nothing ran yet
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("ETRN example.test") == "250 2.0.0 Queuing for node example.test started"
    box = wait_for_mail(mta.setup, "bob", 1)
    assert box[0]["Subject"] == "etrn"


def test_restrictqrun_refuses_other_users(public_setup: MtaSetup) -> None:
    res = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            *CLI,
            "-C",
            str(public_setup.config_path),
            "-O",
            "PrivacyOptions=restrictqrun",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 77
    assert res.stderr.strip() == "You do not have permission to process the queue"


def test_traffic_log_of_a_queue_run(mta_setup: MtaSetup, tmp_path: Path) -> None:
    dest_setup = MtaSetup(
        tmp_path / "dest",
        options={"HostName": "dest.example.test", "RelayFrom": ["127.0.0.0/8"]},
    )
    dest_setup.write(listeners={"MTA": ""})
    with RunningMta(dest_setup) as dest:
        mta_setup.options["SmartHost"] = f"[127.0.0.1]:{dest.port()}"
        mta_setup.write()
        cfg = str(mta_setup.config_path)
        subprocess.run(
            [*CLI, "-C", cfg, "-f", "alice", "x@remote.example"],
            input=b"Subject: out\n\nhi\n",
            check=True,
        )
        log = tmp_path / "traffic"
        subprocess.run([*CLI, "-C", cfg, "-q", "-X", str(log)], check=True)
    lines = log.read_text().splitlines()
    pid = lines[0].split()[0]
    assert lines[0] == f"{pid} === CONNECT [127.0.0.1]"
    assert lines[1].startswith(f"{pid} <<< 220 dest.example.test ESMTP Postroom")
    assert f"{pid} >>> EHLO mail.example.test" in lines
    assert any(line.startswith(f"{pid} >>> MAIL From:<alice@mail.example.test>") for line in lines)
    assert f"{pid} >>> RCPT To:<x@remote.example>" in lines
    assert any(
        line.startswith(f"{pid} <<< 250 2.0.0 ") and "Message accepted" in line for line in lines
    )
    assert lines[-1].startswith(f"{pid} <<< 221 2.0.0")
