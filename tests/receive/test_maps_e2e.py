"""access and virtusertable through the running daemon (maps built with makemap)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import Wire
from .test_queue_runs import wait_for_mail

ACCESS = """\
Connect:127.0.0.3\tREJECT
From:spammer@bad.example\tREJECT
To:blocked@example.test\tERROR:5.7.1:550 No mail for you
To:friend.example\tRELAY
"""
VIRTUSERS = """\
info@example.test\talice
gone@example.test\terror:5.1.1:550 Moved away
"""


def makemap(tmp_path: Path, name: Path, text: str) -> None:
    link = tmp_path / "makemap"
    link.write_text(
        f"#!{sys.executable}\nimport sys\nfrom postroom.core.cli import main\nsys.exit(main())\n"
    )
    link.chmod(0o755)
    name.write_text(text)
    subprocess.run([str(link), "hash", str(name)], input=text.encode(), check=True)


def session(port: int, source: str | None = None) -> Wire:
    w = Wire(port, source=source)
    w.greeting()
    w.cmd("EHLO client.example.org")
    return w


def test_access_and_virtusertable_change_the_answers(
    mta_setup: MtaSetup, tmp_path: Path, start_mta: Callable[..., RunningMta]
) -> None:
    mta_setup.base.mkdir(parents=True)
    aliases = mta_setup.base / "aliases"
    aliases.write_text("postmaster: root\n")
    makemap(tmp_path, mta_setup.base / "access", ACCESS)
    makemap(tmp_path, mta_setup.base / "virtusertable", VIRTUSERS)
    mta = start_mta("-q1s", AliasFile=str(aliases))

    refused = session(mta.port(), source="127.0.0.3")
    assert refused.cmd("MAIL FROM:<a@example.org>") == "550 5.7.1 Access denied"

    w = session(mta.port())
    assert w.cmd("MAIL FROM:<spammer@bad.example>") == (
        "550 5.7.1 <spammer@bad.example>... Access denied"
    )
    assert w.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    assert w.cmd("RCPT TO:<blocked@example.test>") == "550 5.7.1 No mail for you"
    assert w.cmd("RCPT TO:<x@friend.example>").startswith("250 2.1.5 ")  # RELAY entry
    assert w.cmd("RCPT TO:<x@other.example>").startswith("550 5.7.1 ")  # still no relay
    assert w.cmd("RCPT TO:<gone@example.test>") == "550 5.1.1 Moved away"
    assert w.cmd("RSET").startswith("250 ")
    w.cmd("MAIL FROM:<a@example.org>")
    assert w.cmd("RCPT TO:<info@example.test>").startswith("250 2.1.5 ")
    w.cmd("DATA")
    w.send(b"Subject: via virtusertable\r\n\r\nhi\r\n.\r\n")
    assert w.reply().startswith("250 ")
    assert wait_for_mail(mta.setup, "alice", 1)[0]["Subject"] == "via virtusertable"


def test_mailertable_routes_and_genericstable_rewrites(mta_setup: MtaSetup, tmp_path: Path) -> None:
    from postroom.core.queue import parse_qf

    dest_setup = MtaSetup(
        tmp_path / "dest",
        options={"HostName": "dest.example.test", "RelayFrom": ["127.0.0.0/8"]},
    )
    dest_setup.write(listeners={"MTA": ""})
    mta_setup.base.mkdir(parents=True)
    aliases = mta_setup.base / "aliases"
    aliases.write_text("postmaster: root\n")
    mta_setup.options["AliasFile"] = str(aliases)
    (mta_setup.base / "generics-domains").write_text("example.test\n")
    makemap(
        tmp_path, mta_setup.base / "genericstable", "alice@example.test\talice.smith@corp.example\n"
    )
    with RunningMta(dest_setup) as dest:
        makemap(
            tmp_path,
            mta_setup.base / "mailertable",
            f"routed.example\tesmtp:[127.0.0.1]:{dest.port()}\n"
            "closed.example\terror:5.7.1:550 We do not send there\n",
        )
        mta_setup.write()
        cfg = str(mta_setup.config_path)
        cli = [sys.executable, "-m", "postroom.core.cli", "-C", cfg]
        subprocess.run(
            [*cli, "-f", "alice@example.test", "x@routed.example", "y@closed.example"],
            input=b"Subject: routed\n\nhi\n",
            check=True,
        )
        subprocess.run([*cli, "-q"], check=True)
    (qf_path,) = dest_setup.queue_dir.glob("qf*")
    received = parse_qf(qf_path.read_bytes())
    assert received.sender == "<alice.smith@corp.example>"
    assert [r.address for r in received.recipients] == ["<x@routed.example>"]
    log = mta_setup.log_file.read_text()
    assert "to=y@closed.example" in log and "We do not send there" in log
