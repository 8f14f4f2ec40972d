"""Bounces, delay warnings, receipts and double bounces, parsed with the email package."""

from __future__ import annotations

import email
import email.policy
import mailbox
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from postroom.core.config.model import Config
from postroom.core.deliver import JobStatus

from .helpers import load, queue_ids, queue_message, read_qf, run, sender_setup
from .servers import Script, closed_port, responder


def mbox_messages(config: Config, user: str) -> list[EmailMessage]:
    path = Path(config.mail_spool_directory) / user
    if not path.exists():
        return []
    box = mailbox.mbox(str(path))
    try:
        return [
            email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            for key in box.keys()
        ]
    finally:
        box.close()


def parts(dsn: EmailMessage) -> tuple[str, list[Any], Any]:
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    human, status, returned = dsn.iter_parts()
    assert status.get_content_type() == "message/delivery-status"
    blocks = list(status.iter_parts())
    return human.get_content(), blocks, returned


def test_5xx_bounces_to_the_sender(tmp_path: Path) -> None:
    reply = "550 5.1.1 <bob@remote.test>... User unknown"
    ehlo = ["250-responder.test", "250 ENHANCEDSTATUSCODES"]
    with responder(Script(rcpt=reply, ehlo=ehlo)) as server:
        config = load(sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}"))
        qid = queue_message(
            config,
            ["bob@remote.test"],
            sender="alice@sender.example.test",
            envid="env+2Did1",
            orcpt={"bob@remote.test": "rfc822;bob@remote.test"},
        )
        report, _ = run(config, follow_new_jobs=False)
        assert report.jobs[0].status is JobStatus.DONE
        [dsn_qid] = report.jobs[0].new_jobs
        assert queue_ids(config) == [dsn_qid]
        dsn_qf = read_qf(config, dsn_qid)
        assert (dsn_qf.sender, dsn_qf.flags, dsn_qf.priority) == ("MAILER-DAEMON", "rn", 30000)
        assert [(r.address, r.flags) for r in dsn_qf.recipients] == [
            ("<alice@sender.example.test>", "PF")
        ]
        run(config)
        [dsn] = mbox_messages(config, "alice")
    assert dsn["Subject"] == "Returned mail: see transcript for details"
    assert dsn["Auto-Submitted"] == "auto-generated (failure)"
    assert dsn["From"] == "Mail Delivery Subsystem <MAILER-DAEMON>"
    assert dsn["To"].addresses[0].addr_spec == "alice@sender.example.test"
    assert str(dsn.get_boundary()).startswith(f"{dsn_qid}.")
    assert str(dsn.get_boundary()).endswith(f"/{config.host_name}")
    human, blocks, returned = parts(dsn)
    assert "   ----- The following addresses had permanent fatal errors -----" in human
    assert "<bob@remote.test>\n    (reason: 550 5.1.1 <bob@remote.test>... User unknown)" in human
    assert "   ----- Transcript of session follows -----" in human
    assert "... while talking to [127.0.0.1]:" in human
    assert "<<< 550 5.1.1 <bob@remote.test>... User unknown" in human
    per_message, per_rcpt = blocks
    assert per_message["Original-Envelope-Id"] == "env-id1"
    assert per_message["Reporting-MTA"] == f"dns; {config.host_name}"
    assert per_message["Arrival-Date"]
    assert per_rcpt["Original-Recipient"] == "rfc822;bob@remote.test"
    assert per_rcpt["Final-Recipient"] == "RFC822; bob@remote.test"
    assert per_rcpt["Action"] == "failed"
    assert per_rcpt["Status"] == "5.1.1"
    assert per_rcpt["Remote-MTA"] == "DNS; [127.0.0.1]"
    assert per_rcpt["Diagnostic-Code"] == f"SMTP; {reply}"
    assert per_rcpt["Last-Attempt-Date"]
    assert returned.get_content_type() == "message/rfc822"
    [original] = returned.iter_parts()
    assert original["Subject"] == "test message"
    assert original.get_content() == "hello\n"
    del qid


def test_ret_hdrs_nobodyreturn_and_postmaster_copy(tmp_path: Path) -> None:
    with responder(Script(rcpt="550 5.7.1 no")) as server:
        config = load(
            sender_setup(
                tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}", PostmasterCopy="postmaster"
            )
        )
        queue_message(config, ["bob@remote.test"], ret="HDRS")
        run(config)
    [dsn] = mbox_messages(config, "alice")
    *_, returned = parts(dsn)
    assert returned.get_content_type() == "text/rfc822-headers"
    assert "Subject: test message" in returned.get_content()
    assert "hello" not in returned.get_content()
    [copy] = mbox_messages(config, "postmaster")
    assert copy["Subject"] == "Postmaster notify: see transcript for details"
    human, _, returned = parts(copy)
    assert returned.get_content_type() == "text/rfc822-headers"
    assert "with id " in human


def test_nobodyreturn_returns_headers_only(tmp_path: Path) -> None:
    with responder(Script(rcpt="550 5.7.1 no")) as server:
        config = load(
            sender_setup(
                tmp_path / "s",
                SmartHost=f"[127.0.0.1]:{server.port}",
                PrivacyOptions=["nobodyreturn"],
            )
        )
        queue_message(config, ["bob@remote.test"])
        run(config)
    [dsn] = mbox_messages(config, "alice")
    assert parts(dsn)[2].get_content_type() == "text/rfc822-headers"


def test_no_bounce_for_a_bounce_double_bounce_to_postmaster(tmp_path: Path) -> None:
    with responder(Script(rcpt="550 5.1.1 unknown")) as server:
        config = load(sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}"))
        queue_message(config, ["bob@remote.test"], sender="")
        report, _ = run(config)
    assert mbox_messages(config, "alice") == []
    [notice] = mbox_messages(config, "postmaster")
    assert notice["Subject"] == "Postmaster notify: see transcript for details"
    assert notice["Auto-Submitted"] == "auto-generated (postmaster-notification)"
    assert queue_ids(config) == []
    assert len(report.jobs) == 2


def test_failed_postmaster_notice_is_set_aside_not_looped(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice"]))
    qid = queue_message(config, ["nosuchuser"], sender="", flags="rn")
    report, _ = run(config)
    # the bounce of a bounce goes to postmaster; postmaster's mailbox works here
    assert report.jobs[0].status is JobStatus.DONE
    assert len(mbox_messages(config, "postmaster")) == 1
    del qid


def test_delay_warning_once_then_return_after_queuereturn(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{closed_port()}"))
    five_hours = time.time() - 5 * 3600
    qid = queue_message(config, ["bob@remote.test"], ctime=five_hours)
    report, _ = run(config)
    assert report.jobs[0].status is JobStatus.QUEUED
    assert "w" in read_qf(config, qid).flags
    [warning] = mbox_messages(config, "alice")
    assert warning["Subject"] == "Warning: could not send message for past 4 hours"
    assert warning["Auto-Submitted"] == "auto-generated (warning-timeout)"
    human, blocks, returned = parts(warning)
    assert "**      THIS IS A WARNING MESSAGE ONLY      **" in human
    assert "   ----- The following addresses had transient non-fatal errors -----" in human
    assert blocks[1]["Action"] == "delayed"
    assert blocks[1]["Will-Retry-Until"]
    assert returned.get_content_type() == "text/rfc822-headers"
    run(config, ignore_host_status=True)
    assert len(mbox_messages(config, "alice")) == 1  # warned once only

    old = time.time() - 6 * 86400
    qid2 = queue_message(config, ["carol@remote.test"], ctime=old)
    report, _ = run(config, ignore_host_status=True)
    assert qid2 not in queue_ids(config)
    bounce = mbox_messages(config, "alice")[-1]
    assert bounce["Subject"] == "Returned mail: see transcript for details"
    human, blocks, _ = parts(bounce)
    assert blocks[1]["Status"] == "4.4.7"
    assert "Message could not be delivered for 5 days" in human


def test_success_receipt_and_noreceipts(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    queue_message(config, ["bob"], notify={"bob": frozenset({"SUCCESS"})})
    run(config)
    [receipt] = mbox_messages(config, "alice")
    assert receipt["Subject"] == "Return receipt"
    human, blocks, returned = parts(receipt)
    assert "<bob>  (successfully delivered to mailbox)" in human
    assert blocks[1]["Action"] == "delivered (to mailbox)"
    assert returned.get_content_type() == "text/rfc822-headers"

    quiet = load(
        sender_setup(tmp_path / "q", LocalUsers=["alice", "bob"], PrivacyOptions=["noreceipts"])
    )
    queue_message(quiet, ["bob"], notify={"bob": frozenset({"SUCCESS"})})
    run(quiet)
    assert mbox_messages(quiet, "alice") == []
    assert len(mbox_messages(quiet, "bob")) == 1


def test_notify_never_suppresses_the_bounce(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice"]))
    queue_message(config, ["nobody-here"], notify={"nobody-here": frozenset({"NEVER"})})
    report, _ = run(config)
    assert report.jobs[0].outcomes[0][1].status == "5.1.1"
    assert mbox_messages(config, "alice") == []


def test_loops_bounce(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    hops = [
        ("Received", f"from h{n} by h{n + 1}; Wed, 25 Nov 2026 18:00:00 +0000") for n in range(25)
    ]
    queue_message(config, ["bob"], headers=[*hops, ("Subject", "loop")])
    report, _ = run(config, follow_new_jobs=False)
    outcome = report.jobs[0].outcomes[0][1]
    assert outcome.status == "5.4.6" and "Too many hops 26 (25 max)" in outcome.message
    assert mbox_messages(config, "bob") == []

    queue_message(config, ["bob"], headers=[("Delivered-To", "bob@sender.example.test")])
    report, _ = run(config, follow_new_jobs=False)
    looped = [j for j in report.jobs if j.outcomes and j.outcomes[0][0] == "<bob>"]
    assert looped[-1].outcomes[0][1].status == "5.4.6"
    assert mbox_messages(config, "bob") == []
