"""The built-in vacation responder through the running daemon."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from postroom.core.vacation import VacationSettings, save_settings

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import Wire
from .test_queue_runs import read_mbox, wait_for_mail

CLI = [sys.executable, "-m", "postroom.core.cli"]


def send(port: int, headers: str, sender: str = "bob@example.test") -> None:
    w = Wire(port)
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd(f"MAIL FROM:<{sender}>")
    assert w.cmd("RCPT TO:<alice@example.test>").startswith("250 ")
    w.cmd("DATA")
    w.send(headers.replace("\n", "\r\n").encode() + b"\r\nbody\r\n.\r\n")
    assert w.reply().startswith("250 ")


def test_vacation_answers_once_and_never_to_bulk_lists_or_auto_replies(
    mta_setup: MtaSetup, tmp_path: Path, start_mta: Callable[..., RunningMta]
) -> None:
    vacation_dir = tmp_path / "vacation"
    save_settings(
        vacation_dir,
        "alice",
        VacationSettings(enabled=True, subject="Away: $SUBJECT", message="Back soon."),
    )
    mta = start_mta("-q1s", VacationDirectory=str(vacation_dir))
    first = "From: bob@example.test\nTo: alice@example.test\nSubject: lunch?\nMessage-Id: <1@x>\n"
    send(mta.port(), first)
    (reply,) = wait_for_mail(mta.setup, "bob", 1)
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["Subject"] == "Away: lunch?"
    assert reply["In-Reply-To"] == "<1@x>"
    assert reply.get_payload().strip() == "Back soon."
    send(mta.port(), first.replace("<1@x>", "<2@x>"))
    send(
        mta.port(),
        "From: root@example.test\nTo: alice@example.test\nSubject: news\nPrecedence: bulk\n",
        sender="root@example.test",
    )
    send(
        mta.port(),
        "From: root@example.test\nTo: alice@example.test\nSubject: digest\n"
        "List-Id: <people.example.test>\n",
        sender="root@example.test",
    )
    send(
        mta.port(),
        "From: root@example.test\nTo: alice@example.test\nSubject: Re: away\n"
        "Auto-Submitted: auto-replied\n",
        sender="root@example.test",
    )
    assert len(wait_for_mail(mta.setup, "alice", 5)) == 5
    mta.stop()
    subprocess.run([*CLI, "-C", str(mta.setup.config_path), "-q"], check=True)
    assert len(read_mbox(mta.setup.spool_dir / "bob")) == 1  # one reply, not two
    assert not (mta.setup.spool_dir / "root").exists()  # never to bulk, lists, auto-replies
