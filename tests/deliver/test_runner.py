"""Queue runs: MX routing through a loopback DNS server, selection, locks, fairness, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from postroom.core.deliver import JobStatus, Result
from postroom.core.deliver.scan import Candidate, interleave
from postroom.core.queue import JobLock, parse_selection

from .helpers import load, queue_ids, queue_message, run, sender_setup
from .servers import DnsServer, Script, responder


def test_mx_preference_fallback_implicit_mx_and_unknown_host(tmp_path: Path) -> None:
    with responder(Script()) as server:
        dns_server = DnsServer(
            {
                ("dest.test", "MX"): ["20 mx2.dest.test.", "10 mx1.dest.test."],
                ("mx1.dest.test", "A"): ["127.0.0.2"],
                ("mx2.dest.test", "A"): ["127.0.0.1"],
                ("plain.test", "A"): ["127.0.0.1"],
                ("null.test", "MX"): ["0 ."],
            }
        )
        try:
            config = load(sender_setup(tmp_path / "s"))
            queue_message(config, ["bob@dest.test"])
            report, verbose = run(
                config,
                verbose=True,
                resolver=dns_server.resolver(),
                smtp_port=server.port,
                follow_new_jobs=False,
            )
            assert report.jobs[0].status is JobStatus.DONE
            lines = verbose.splitlines()
            first = lines.index("<bob@dest.test>... Connecting to mx1.dest.test. via esmtp...")
            second = lines.index("<bob@dest.test>... Connecting to mx2.dest.test. via esmtp...")
            assert first < second
            assert len(server.messages) == 1

            queue_message(config, ["carol@plain.test"])
            queue_message(config, ["dave@nowhere.test"])
            queue_message(config, ["erin@null.test"])
            report, _ = run(
                config,
                resolver=dns_server.resolver(),
                smtp_port=server.port,
                follow_new_jobs=False,
                ignore_host_status=True,
            )
            outcomes = {o[0]: o[1] for j in report.jobs for o in j.outcomes}
            assert outcomes["<carol@plain.test>"].result is Result.SENT
            unknown = outcomes["<dave@nowhere.test>"]
            assert (unknown.result, unknown.status) == (Result.FAILED, "5.1.2")
            assert unknown.message == "Host unknown (Name server: nowhere.test: host not found)"
            assert outcomes["<erin@null.test>"].status == "5.1.10"
            assert ("plain.test.", "MX") in dns_server.queries
        finally:
            dns_server.close()


def test_selection_by_id_recipient_sender_and_negation(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob", "carol"]))
    a = queue_message(config, ["bob"])
    b = queue_message(config, ["carol"], sender="zed@elsewhere.test")
    report, _ = run(config, parse_selection(["-q!Rcarol"]))
    assert [j.qid for j in report.jobs] == [a]
    assert queue_ids(config) == [b]
    report, _ = run(config, parse_selection(["-qSzed", f"-qI{b[:6]}"]))
    assert [j.qid for j in report.jobs] == [b]


def test_quarantined_jobs_run_only_with_qQ(tmp_path: Path) -> None:
    from postroom.core.queue import QueueStore

    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    qid = queue_message(config, ["bob"])
    QueueStore(Path(config.queue_directory)).quarantine(qid, "held for review")
    report, _ = run(config)
    assert report.jobs == []
    report, _ = run(config, parse_selection(["-qQ"]))
    assert [j.status for j in report.jobs] == [JobStatus.DONE]
    assert not list(Path(config.queue_directory).glob("hf*"))


def test_locked_job_is_skipped_and_logged(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    qid = queue_message(config, ["bob"])
    with JobLock(Path(config.queue_directory) / ("qf" + qid)):
        report, _ = run(config)
    assert [j.status for j in report.jobs] == [JobStatus.LOCKED]
    assert queue_ids(config) == [qid]
    assert f"{qid}: locked" in Path(config.log_file).read_text()  # type: ignore[arg-type]


def test_min_queue_age_skips_recent_attempts_unless_selected(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"], MinQueueAge="1h"))
    qid = queue_message(config, ["bob"], attempts=1, last_attempt=int(time.time()))
    report, _ = run(config)
    assert [j.status for j in report.jobs] == [JobStatus.TOO_YOUNG]
    report, _ = run(config, parse_selection([f"-qI{qid}"]))
    assert [j.status for j in report.jobs] == [JobStatus.DONE]


def test_stale_transcripts_removed_only_when_unlocked(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"], MinQueueAge="1h"))
    queue = Path(config.queue_directory)
    free = queue_message(config, ["bob"], attempts=1, last_attempt=int(time.time()))
    held = queue_message(config, ["bob"], attempts=1, last_attempt=int(time.time()))
    (queue / ("xf" + free)).write_text("old\n")
    (queue / ("xf" + held)).write_text("in use\n")
    (queue / "xf6APKxxxx000001").write_text("orphan\n")
    with JobLock(queue / ("qf" + held)):
        run(config)
    assert not (queue / ("xf" + free)).exists()
    assert not (queue / "xf6APKxxxx000001").exists()
    assert (queue / ("xf" + held)).read_text() == "in use\n"


def test_fresh_mail_is_not_starved_by_a_deferred_backlog(tmp_path: Path) -> None:
    backlog = [Candidate(f"old{n:03d}", ctime=n, attempts=3) for n in range(300)]
    fresh = Candidate("new", ctime=10_000, attempts=0)
    order = [c.qid for c in interleave([*backlog, fresh])]
    assert order.index("new") <= 1
    assert order[:4] == ["new", "old000", "old001", "old002"]

    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    for n in range(5):
        queue_message(config, ["bob"], ctime=1_000_000 + n, attempts=2, last_attempt=1_000_000)
    newest = queue_message(config, ["bob"])
    report, _ = run(config, max_active=1)
    assert [j.qid for j in report.jobs].index(newest) == 0
    assert all(j.status is JobStatus.DONE for j in report.jobs)


def test_kill_9_mid_delivery_keeps_the_message(tmp_path: Path) -> None:
    with responder(Script(stall_after_dot=True)) as stalled:
        setup = sender_setup(tmp_path / "s", SmartHost=f"[127.0.0.1]:{stalled.port}")
        config = load(setup)
        qid = queue_message(config, ["bob@remote.test"], body=b"precious\n")
        queue = Path(config.queue_directory)
        before_qf = (queue / ("qf" + qid)).read_bytes()
        proc = subprocess.Popen(
            [sys.executable, "-m", "postroom.core.deliver", "-C", str(setup.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert stalled.got_dot.wait(60), "the runner never sent the message"
            assert (queue / ("xf" + qid)).exists()
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        assert (queue / ("qf" + qid)).read_bytes() == before_qf
        assert (queue / ("df" + qid)).read_bytes() == b"precious\n"
        assert not list(queue.glob("tf*"))
    with responder(Script()) as good:
        setup.options["SmartHost"] = f"[127.0.0.1]:{good.port}"
        setup.write({"MTA": ""})
        config = load(setup)
        report, _ = run(config)
        assert [j.status for j in report.jobs] == [JobStatus.DONE]
        assert good.messages and b"precious" in good.messages[0]
    assert not list(queue.glob("*" + qid))


def test_run_periodically_counts_and_stops(tmp_path: Path) -> None:
    import asyncio

    from postroom.core.deliver import QueueRunner
    from postroom.core.logging.maillog import MailLog

    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    queue_message(config, ["bob"])

    class Counters:
        def __init__(self, stop: asyncio.Event) -> None:
            self.stop = stop
            self.seen: list[tuple[int, int]] = []

        def delivered(self, mailer: int, size: int) -> None:
            self.seen.append((mailer, size))
            self.stop.set()

        def connection_out(self) -> None:
            pass

        def deferred(self) -> None:
            pass

        def bounced(self) -> None:
            pass

    async def main() -> list[tuple[int, int]]:
        stop = asyncio.Event()
        counters = Counters(stop)
        log = MailLog(config.log_level, config.log_file)
        runner = QueueRunner(config, log=log, stats=counters)
        await asyncio.wait_for(runner.run_periodically(3600, stop), 60)
        log.close()
        return counters.seen

    seen = asyncio.run(main())
    assert [m for m, _ in seen] == [3]
    assert queue_ids(config) == []
