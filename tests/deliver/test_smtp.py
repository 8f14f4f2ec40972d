"""SMTP delivery over loopback: a real destination daemon, refusals, 4xx, 5xx, a stall."""

from __future__ import annotations

import mailbox
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.deliver import JobStatus
from postroom.core.hoststat import HostStatusStore, format_hoststat
from postroom.core.queue import format_queue_listing

from tests.support.mta import MtaSetup, RunningMta

from .helpers import load, queue_ids, queue_message, read_qf, run, sender_setup
from .servers import Script, closed_port, responder


@pytest.fixture
def destination(tmp_path: Path) -> Iterator[RunningMta]:
    setup = MtaSetup(tmp_path / "dest")
    setup.options["MailSpoolDirectory"] = str(tmp_path / "dest" / "mail")
    setup.write({"MTA": ""})
    with RunningMta(setup) as mta:
        yield mta


def test_relay_to_second_daemon_then_local_mbox(tmp_path: Path, destination: RunningMta) -> None:
    setup = sender_setup(tmp_path / "sender", SmartHost=f"[127.0.0.1]:{destination.port()}")
    config = load(setup)
    body = b"first line\nFrom the start of a line\n.dot line\n"
    qid = queue_message(config, ["alice@example.test"], body=body)

    report, verbose = run(config, verbose=True)

    assert [j.status for j in report.jobs] == [JobStatus.DONE]
    assert queue_ids(config) == []
    assert not (Path(config.queue_directory) / ("df" + qid)).exists()
    dest_config = load(destination.setup)
    [dest_qid] = queue_ids(dest_config)
    dest_qf = read_qf(dest_config, dest_qid)
    assert [r.address for r in dest_qf.recipients] == ["<alice@example.test>"]
    assert dest_qf.sender == "<alice@sender.example.test>"
    lines = verbose.splitlines()
    assert f"Running {config.queue_directory}/{qid} (sequence 1 of 1)" in lines
    assert "<alice@example.test>... Connecting to [127.0.0.1] via relay..." in lines
    assert any(line.startswith("220 ") for line in lines)
    assert f">>> EHLO {config.host_name}" in lines
    mail = [line for line in lines if line.startswith(">>> MAIL From:")]
    assert mail and mail[0].startswith(">>> MAIL From:<alice@sender.example.test> SIZE=")
    assert ">>> RCPT To:<alice@example.test>" in lines
    assert ">>> DATA" in lines and ">>> ." in lines
    sent = f"<alice@example.test>... Sent ({dest_qid} Message accepted for delivery)"
    assert sent in lines
    assert lines.index(">>> DATA") < lines.index(">>> .") < lines.index(sent)
    assert "Closing connection to [127.0.0.1]" in lines
    assert lines[-2] == ">>> QUIT" and lines[-1].startswith("221 ")

    # The destination's own runner delivers it to the local mbox.
    dest_report, _ = run(dest_config)
    assert [j.status for j in dest_report.jobs] == [JobStatus.DONE]
    box = mailbox.mbox(str(Path(dest_config.mail_spool_directory) / "alice"))
    [message] = list(box)
    box.close()
    assert message["Subject"] == "test message"
    assert message["Delivered-To"] == "alice@example.test"
    assert message["Return-Path"] == "<alice@sender.example.test>"
    assert message.get_from().startswith("alice@sender.example.test ")
    assert len(message.get_all("Received") or []) == 2
    payload = message.get_payload()
    assert payload == "first line\n>From the start of a line\n.dot line\n"


def test_refused_connection_is_deferred_and_recorded(tmp_path: Path) -> None:
    setup = sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{closed_port()}")
    config = load(setup)
    Path(config.host_status_directory).mkdir()
    qid = queue_message(config, ["bob@remote.test"])
    before = read_qf(config, qid)

    report, verbose = run(
        config, verbose=True, host_status=HostStatusStore(Path(config.host_status_directory))
    )

    assert [j.status for j in report.jobs] == [JobStatus.QUEUED]
    assert "<bob@remote.test>... Deferred: Connection refused by [127.0.0.1]" in verbose
    after = read_qf(config, qid)
    assert after.status == "Deferred: Connection refused by [127.0.0.1]"
    assert (after.attempts, after.priority) == (1, before.priority + 90000)
    assert after.last_attempt >= before.ctime
    assert [r.address for r in after.recipients] == ["<bob@remote.test>"]
    listing = format_queue_listing(Path(config.queue_directory))
    assert "                 (Deferred: Connection refused by [127.0.0.1])\n" in listing
    status = HostStatusStore(Path(config.host_status_directory)).read("[127.0.0.1]")
    assert status is not None
    assert (status.errno, status.exit_status, status.dsn) == (111, 75, "4.4.1")
    table = format_hoststat(HostStatusStore(Path(config.host_status_directory)), now=time.time())
    assert "127.0.0.1" in table and "Deferred: Connection refu" in table
    assert not list(Path(config.queue_directory).glob("xf*"))


def test_recent_host_failure_skips_the_host(tmp_path: Path) -> None:
    with responder(Script()) as server:
        setup = sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}")
        config = load(setup)
        folder = Path(config.host_status_directory)
        folder.mkdir()
        store = HostStatusStore(folder)
        from postroom.core.hoststat import HostStatus

        store.write(
            HostStatus("[127.0.0.1]", int(time.time()), errno=111, exit_status=75, dsn="4.4.1")
        )
        queue_message(config, ["bob@remote.test"])
        report, _ = run(config, host_status=store)
        assert report.jobs[0].outcomes[0][1].message == (
            "Deferred: Connection refused by [127.0.0.1]"
        )
        assert not server.connected.is_set()
        report, _ = run(config, host_status=store, ignore_host_status=True)
        assert report.jobs[0].status is JobStatus.DONE
        assert len(server.messages) == 1


def test_4xx_defers_with_the_reply(tmp_path: Path) -> None:
    with responder(Script(rcpt="451 4.3.0 Try again later")) as server:
        config = load(sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}"))
        qid = queue_message(config, ["bob@remote.test"])
        report, _ = run(config)
        assert report.jobs[0].status is JobStatus.QUEUED
        assert read_qf(config, qid).status == "Deferred: 451 4.3.0 Try again later"
        listing = format_queue_listing(Path(config.queue_directory))
        assert "(Deferred: 451 4.3.0 Try again later)" in listing
        assert server.messages == []


def test_stalled_server_times_out(tmp_path: Path) -> None:
    with responder(Script(greeting=None)) as server:
        setup = sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}")
        setup.options["Timeout.initial"] = "1s"
        setup.write({"MTA": ""})
        config = load(setup)
        qid = queue_message(config, ["bob@remote.test"])
        started = time.monotonic()
        report, _ = run(config)
        assert time.monotonic() - started < 30
        assert server.connected.is_set()
        assert report.jobs[0].status is JobStatus.QUEUED
        assert read_qf(config, qid).status == "Deferred: Connection timed out with [127.0.0.1]"


def test_pipelining_and_connection_reuse(tmp_path: Path) -> None:
    script = Script(ehlo=["250-responder.test", "250-PIPELINING", "250 ENHANCEDSTATUSCODES"])
    with responder(script) as server:
        config = load(sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{server.port}"))
        for n in range(3):
            queue_message(config, [f"user{n}@remote.test"])
        report, verbose = run(config, verbose=True)
        assert [j.status for j in report.jobs] == [JobStatus.DONE] * 3
        assert len(server.messages) == 3
        assert sum(1 for c in server.commands if c.startswith("EHLO")) == 1
        assert verbose.count("Connecting to [127.0.0.1] via relay...") == 3
        assert "... Sent (ok queued)" in verbose
