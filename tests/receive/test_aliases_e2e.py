"""Aliases through the running daemon: newaliases, RCPT of alias names, delivery by expansion."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.mta import HOST_NAME, MtaSetup, RunningMta

from .smtpwire import Wire
from .test_queue_runs import smtp_send, wait_for_mail

CLI = [sys.executable, "-m", "postroom.core.cli"]
ALIASES = "# test aliases\npostmaster: root\nstaff: alice,\n\tbob\nloop: loop, alice\n"


def write_aliases(setup: MtaSetup, text: str) -> Path:
    setup.base.mkdir(parents=True, exist_ok=True)
    path = setup.base / "aliases"
    path.write_text(text)
    path.chmod(0o644)
    setup.options["AliasFile"] = str(path)
    return path


def newaliases(setup: MtaSetup) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "-C", str(setup.config_path), "-bi"], capture_output=True, text=True, check=False
    )


def test_alias_list_is_accepted_and_expanded_at_delivery(
    mta_setup: MtaSetup, start_mta: Callable[..., RunningMta]
) -> None:
    path = write_aliases(mta_setup, ALIASES)
    mta_setup.write()
    built = newaliases(mta_setup)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(f"{path}: 3 aliases, longest ")
    mta = start_mta("-q1s")
    smtp_send(mta.port(), "staff@example.test", "to the list")
    assert wait_for_mail(mta.setup, "alice", 1)[0]["Subject"] == "to the list"
    assert wait_for_mail(mta.setup, "bob", 1)[0]["Subject"] == "to the list"
    smtp_send(mta.port(), "loop", "self reference")  # delivers to alice once, no loop
    assert [m["Subject"] for m in wait_for_mail(mta.setup, "alice", 2)] == [
        "to the list",
        "self reference",
    ]
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    assert w.cmd("RCPT TO:<nolist@example.test>").startswith("550 5.1.1 ")


def test_broken_aliases_file_is_reported_and_the_old_table_stays(mta_setup: MtaSetup) -> None:
    path = write_aliases(mta_setup, ALIASES)
    mta_setup.write()
    assert newaliases(mta_setup).returncode == 0
    path.write_text(ALIASES + "broken line without colon\n")
    res = newaliases(mta_setup)
    assert res.returncode == 65
    assert f"{path}: line 6:" in res.stdout + res.stderr
    praliases = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0]='praliases';"
            "from postroom.core.cli import main; sys.exit(main())",
            "-C",
            str(mta_setup.config_path),
            "staff",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert praliases.stdout == "staff:alice,\tbob\n"


def test_owner_alias_takes_the_lists_mail_and_its_errors(
    mta_setup: MtaSetup, start_mta: Callable[..., RunningMta]
) -> None:
    """With ``owner-list`` set, list members get the owner as envelope sender and the
    bounce for a bad member goes to the owner, not to whoever wrote to the list."""
    write_aliases(mta_setup, "list: alice, nosuchuser\nowner-list: bob\nplain: alice\n")
    mta_setup.write()
    assert newaliases(mta_setup).returncode == 0
    mta = start_mta("-q1s")
    qid = smtp_send(mta.port(), "list@example.test", "to the owned list")
    delivered = wait_for_mail(mta.setup, "alice", 1)[0]
    assert delivered["Subject"] == "to the owned list"
    assert delivered["Return-Path"] == f"<bob@{HOST_NAME}>"
    bounce = wait_for_mail(mta.setup, "bob", 1)[0]
    assert bounce["From"] == "Mail Delivery Subsystem <MAILER-DAEMON>"
    assert "nosuchuser" in str(bounce)
    log = wait_for_log(mta.setup, f"{qid}: clone ")
    assert f"owner=bob@{HOST_NAME}" in log
    wait_for_empty_queue(mta.setup)  # nothing left for the original sender a@example.org
    smtp_send(mta.port(), "plain@example.test", "no owner")
    assert wait_for_mail(mta.setup, "alice", 2)[1]["Return-Path"] == "<a@example.org>"


def wait_for_log(setup: MtaSetup, needle: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in setup.log_file.read_text().splitlines():
            if needle in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not logged in {timeout}s")


def wait_for_empty_queue(setup: MtaSetup, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(p.name.startswith("qf") for p in setup.queue_dir.iterdir()):
            return
        time.sleep(0.05)
    left = sorted(p.name for p in setup.queue_dir.iterdir())
    raise AssertionError(f"queue not empty after {timeout}s: {left}")
