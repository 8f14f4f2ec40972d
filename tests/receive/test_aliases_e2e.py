"""Aliases through the running daemon: newaliases, RCPT of alias names, delivery by expansion."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.mta import MtaSetup, RunningMta

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
