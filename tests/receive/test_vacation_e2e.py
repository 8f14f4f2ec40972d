"""The built-in vacation responder through the running daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from postroom.core.vacation import VacationSettings, save_settings

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import Wire
from .test_aliases_e2e import wait_for_empty_queue
from .test_queue_runs import read_mbox, wait_for_mail

CLI = [sys.executable, "-m", "postroom.core.cli"]


def send(
    port: int, headers: str, sender: str = "bob@example.test", rcpt: str = "alice@example.test"
) -> None:
    w = Wire(port)
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd(f"MAIL FROM:<{sender}>")
    assert w.cmd(f"RCPT TO:<{rcpt}>").startswith("250 ")
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


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A folder other users may read (pytest's tmp folders are private to root): the
    vacation program runs as the alias file's owner -- ``nobody`` when that is root."""
    folder = Path(tempfile.mkdtemp(prefix="postroom-vacation-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_vacation_program_from_an_alias_replies_once_through_the_daemon(
    shared_base: Path,
) -> None:
    """``"|vacation ..."`` in the aliases file: the program runs unprivileged (it cannot
    write the 0700 queue), hands its reply back to the delivery agent, and the reply is
    queued and delivered by the same instance -- once per sender."""
    setup = MtaSetup(shared_base / "mta")
    memory = shared_base / "vacation"
    memory.mkdir()
    memory.chmod(0o777)  # the program writes its reply memory as the unprivileged owner
    message = shared_base / "away.msg"
    message.write_text("Subject: away from my mail\n\nI read mail again on Monday.\n")
    message.chmod(0o644)
    aliases = setup.base / "aliases"
    setup.base.mkdir(parents=True)
    aliases.write_text(
        f'away: \\alice, "|vacation -U -a away -f {memory}/alice -m {message} alice"\n'
    )
    aliases.chmod(0o644)
    setup.options["AliasFile"] = str(aliases)
    setup.write()
    built = subprocess.run([*CLI, "-C", str(setup.config_path), "-bi"], check=False)
    assert built.returncode == 0
    with RunningMta(setup, "-q1s") as mta:
        first = (
            "From: bob@example.test\nTo: away@example.test\nSubject: lunch?\nMessage-Id: <7@x>\n"
        )
        send(mta.port(), first, rcpt="away@example.test")
        assert wait_for_mail(setup, "alice", 1)[0]["Subject"] == "lunch?"
        (reply,) = wait_for_mail(setup, "bob", 1)
        assert reply["Subject"] == "away from my mail", str(reply)
        assert reply["Auto-Submitted"] == "auto-replied"
        assert reply["In-Reply-To"] == "<7@x>"
        assert reply["Return-Path"] == "<>"
        send(mta.port(), first.replace("<7@x>", "<8@x>"), rcpt="away@example.test")
        assert len(wait_for_mail(setup, "alice", 2)) == 2
        wait_for_empty_queue(setup)
    assert len(read_mbox(setup.spool_dir / "bob")) == 1  # answered once
    if os.geteuid() == 0:
        assert (memory / "alice.db").stat().st_uid != 0  # written by the unprivileged owner
