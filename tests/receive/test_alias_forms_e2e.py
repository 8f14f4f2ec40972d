"""Every alias form through the running daemon: program, file, :include:, loops (BAD-INPUTS D)."""

from __future__ import annotations

import email
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.mta import MtaSetup, RunningMta

from .test_aliases_e2e import newaliases, write_aliases
from .test_queue_runs import smtp_send, wait_for_mail


@pytest.fixture
def safe_setup() -> Iterator[MtaSetup]:
    """A setup outside /tmp: :include: files under a world-writable directory are refused."""
    base = Path.home() / ".cache" / "postroom-tests"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=base))
    yield MtaSetup(work / "mta")
    shutil.rmtree(work)


@pytest.fixture
def drop_dir() -> Iterator[Path]:
    """A directory the unprivileged delivery user may write into."""
    base = Path(tempfile.mkdtemp(prefix="postroom-drop-"))
    base.chmod(0o1777)
    yield base
    shutil.rmtree(base)


def wait_for_file(path: Path, text: str, timeout: float = 30.0) -> str:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in (content := path.read_text(errors="replace")):
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not reach {path} in {timeout}s")


def test_program_file_include_forms(safe_setup: MtaSetup, drop_dir: Path) -> None:
    mta_setup = safe_setup
    mta_setup.base.mkdir(parents=True)
    team = mta_setup.base / "team.list"
    team.write_text("alice\nbob\n")
    team.chmod(0o644)
    aliases = write_aliases(
        mta_setup,
        "postmaster: root\n"
        f'piped: "|/usr/bin/tee -a {drop_dir}/piped.out"\n'
        f"filed: {drop_dir}/filed.mbox\n"
        f"team: :include:{team}\n"
        "ping: pong\npong: ping\n",
    )
    mta_setup.write()
    assert newaliases(mta_setup).returncode == 0, aliases.read_text()
    with RunningMta(mta_setup, "-q1s") as mta:
        deliver_forms(mta, drop_dir)


def deliver_forms(mta: RunningMta, drop_dir: Path) -> None:
    smtp_send(mta.port(), "piped@example.test", "to a program")
    smtp_send(mta.port(), "filed@example.test", "to a file")
    smtp_send(mta.port(), "team@example.test", "to an include list")
    assert "Subject: to a program" in wait_for_file(drop_dir / "piped.out", "to a program")
    assert "Subject: to a file" in wait_for_file(drop_dir / "filed.mbox", "to a file")
    assert wait_for_mail(mta.setup, "alice", 1)[0]["Subject"] == "to an include list"
    assert wait_for_mail(mta.setup, "bob", 1)[0]["Subject"] == "to an include list"


def test_alias_loop_bounces_to_the_sender(
    mta_setup: MtaSetup, start_mta: Callable[..., RunningMta]
) -> None:
    write_aliases(mta_setup, "postmaster: root\nping: pong\npong: ping\n")
    mta_setup.write()
    assert newaliases(mta_setup).returncode == 0
    mta = start_mta("-q1s")
    from .smtpwire import Wire

    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<alice@example.test>")
    assert w.cmd("RCPT TO:<ping@example.test>").startswith("250 ")
    w.cmd("DATA")
    w.send(b"Subject: loop\r\n\r\nround and round\r\n.\r\n")
    assert w.reply().startswith("250 ")
    (bounce,) = wait_for_mail(mta.setup, "alice", 1)
    assert bounce["Subject"] == "Returned mail: see transcript for details"
    parsed = email.message_from_bytes(bounce.as_bytes())
    status = next(p for p in parsed.walk() if p.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert "Status: 5.4.6" in text
