"""Local mailboxes (mbox, Maildir), file targets and programs (never through a shell)."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.deliver import JobStatus, Result
from postroom.core.queue import QueueRecipient

from .helpers import load, queue_ids, queue_message, read_qf, run, sender_setup, with_recipient

PROGRAM = """
import json, os, sys
data = sys.stdin.buffer.read()
out = {"argv": sys.argv[1:], "env": dict(os.environ), "uid": os.getuid(), "stdin": data.decode()}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
sys.stdout.write("program output line\\n" * 200)
sys.exit(int(sys.argv[2]))
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder any user may write (pytest's tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="postroom-deliver-", dir="/tmp"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_maildir_delivery(tmp_path: Path) -> None:
    config = load(
        sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"], MailboxFormat="maildir")
    )
    queue_message(config, ["bob"], body=b"From here\nbody\n")
    report, verbose = run(config, verbose=True)
    assert report.jobs[0].status is JobStatus.DONE
    assert "<bob>... Connecting to local..." in verbose and "<bob>... Sent" in verbose
    root = Path(config.mail_spool_directory) / "bob"
    assert list((root / "tmp").iterdir()) == []
    [path] = list((root / "new").iterdir())
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Delivered-To"] == "bob@sender.example.test"
    assert message["Return-Path"] == "<alice@sender.example.test>"
    assert message.get_content() == "From here\nbody\n"  # no escaping in Maildir
    assert (root / "cur").is_dir()


def test_unknown_local_user_bounces(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice"]))
    queue_message(config, ["mallory"])
    report, _ = run(config, follow_new_jobs=False)
    outcome = report.jobs[0].outcomes[0][1]
    assert (outcome.result, outcome.status, outcome.message) == (
        Result.FAILED,
        "5.1.1",
        "User unknown",
    )
    assert len(report.jobs[0].new_jobs) == 1


def test_mbox_symlink_is_refused(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice", "bob"]))
    spool = Path(config.mail_spool_directory)
    spool.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (spool / "bob").symlink_to(victim)
    queue_message(config, ["bob"])
    report, _ = run(config, follow_new_jobs=False)
    assert report.jobs[0].outcomes[0][1].result is Result.FAILED
    assert victim.read_text() == "keep\n"


def _program_job(
    config_dir: Path, shared: Path, code: int, **options: object
) -> tuple[object, str]:
    script = shared / "prog.py"
    script.write_text(PROGRAM)
    script.chmod(0o755)
    config = load(sender_setup(config_dir, LocalUsers=["alice"], **options))
    qid = queue_message(config, ["placeholder"])
    out = shared / "out.json"
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    command = f"|{python} {script} {out} {code} $HOME ;echo `id`"
    with_recipient(
        config,
        qid,
        QueueRecipient(
            command,
            "PFDA",
            controlling_user="alice:0:0:alice",
            final_recipient="RFC822; alice@sender.example.test",
        ),
    )
    return config, qid


def test_program_runs_without_shell_as_unprivileged_user(tmp_path: Path, shared_dir: Path) -> None:
    config, _ = _program_job(tmp_path / "s", shared_dir, 0)
    report, verbose = run(config, verbose=True)  # type: ignore[arg-type]
    assert report.jobs[0].status is JobStatus.DONE
    seen = json.loads((shared_dir / "out.json").read_text())
    assert seen["argv"][2:] == ["$HOME", ";echo", "`id`"]
    assert seen["env"]["SENDER"] == "alice@sender.example.test"
    assert seen["env"]["RECIPIENT"] == "alice@sender.example.test"
    # (Python itself adds LC_CTYPE when it coerces the C locale: PEP 538)
    assert set(seen["env"]) - {"LC_CTYPE"} == {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "SENDER",
        "RECIPIENT",
        "POSTROOM_CONFIG",  # so Postroom's own vacation queues through this instance
    }
    assert seen["env"]["POSTROOM_CONFIG"].endswith(".toml")
    if os.geteuid() == 0:
        assert seen["uid"] != 0  # a root owner runs as nobody, never as root
    assert seen["stdin"].startswith("From alice@sender.example.test ")  # Sendmail's prog mailer
    assert "Subject: test message" in seen["stdin"]
    assert seen["stdin"].endswith("\nhello\n")
    assert "... Connecting to prog..." in verbose


def test_program_exit_75_defers_and_1_bounces(tmp_path: Path, shared_dir: Path) -> None:
    config, qid = _program_job(tmp_path / "a", shared_dir, 75)
    report, _ = run(config)  # type: ignore[arg-type]
    assert report.jobs[0].status is JobStatus.QUEUED
    assert read_qf(config, qid).status.startswith("Deferred")  # type: ignore[arg-type, union-attr]

    config, qid = _program_job(tmp_path / "b", shared_dir, 1)
    report, _ = run(config, follow_new_jobs=False)  # type: ignore[arg-type]
    outcome = report.jobs[0].outcomes[0][1]
    assert (outcome.result, outcome.message) == (Result.FAILED, "unknown mailer error 1")
    assert outcome.details is not None and len(outcome.details) <= 1024
    [dsn_qid] = report.jobs[0].new_jobs
    df = (Path(config.queue_directory) / ("df" + dsn_qid)).read_text()  # type: ignore[attr-defined]
    assert "program output line" in df
    assert "Diagnostic-Code: X-Unix; unknown mailer error 1" in df


def test_program_without_controlling_user_is_refused(tmp_path: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice"]))
    qid = queue_message(config, ["placeholder"])
    with_recipient(config, qid, QueueRecipient("|/bin/touch /tmp/never", "PFD"))
    report, _ = run(config, follow_new_jobs=False)
    outcome = report.jobs[0].outcomes[0][1]
    assert outcome.message == "Cannot mail directly to programs"
    assert not Path("/tmp/never").exists()


def test_file_target(tmp_path: Path, shared_dir: Path) -> None:
    config = load(sender_setup(tmp_path / "s", LocalUsers=["alice"]))
    target = shared_dir / "archive.mbox"
    qid = queue_message(config, ["placeholder"], body=b"From me\n")
    with_recipient(
        config, qid, QueueRecipient(str(target), "PFDA", controlling_user="alice:0:0:alice")
    )
    report, _ = run(config)
    assert report.jobs[0].status is JobStatus.DONE
    text = target.read_text()
    assert text.startswith("From alice@sender.example.test ")
    assert "\n>From me\n" in text

    inside = Path(config.queue_directory) / "evil"
    qid = queue_message(config, ["placeholder"])
    with_recipient(
        config, qid, QueueRecipient(str(inside), "PFDA", controlling_user="alice:0:0:alice")
    )
    report, _ = run(config, follow_new_jobs=False)
    assert report.jobs[0].outcomes[0][1].status == "5.7.1"
    assert not inside.exists()
    assert queue_ids(config) == list(report.jobs[0].new_jobs)
