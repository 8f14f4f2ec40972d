"""Start-up sweep of crash debris, and quarantine/release round trips."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest
from postroom.core.queue import (
    JobNotFoundError,
    QueueFileError,
    QueueLockedError,
    QueueStore,
    iter_jobs,
    parse_qf,
    sweep,
)

from .helpers import message_qf, names, queue_message


def test_sweep_removes_debris_keeps_locked_and_loses_bad_qf(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    good = queue_message(store)
    (tmp_path / "tfAAAAAAAA000001").write_bytes(b"V8\nT1\n")  # crashed rewrite
    (tmp_path / "dfAAAAAAAA000002").write_bytes(b"never acknowledged")  # lone df
    live = store.new_message()  # a writer still receiving DATA: df locked
    live.write(b"in progress")
    (tmp_path / "qfAAAAAAAA000003").write_bytes(b"V8\nT1\nSx\nXbogus\n.\n")
    (tmp_path / "dfAAAAAAAA000003").write_bytes(b"body of the bad job")
    (tmp_path / "hfAAAAAAAA000004").write_bytes(b"V9\nT1\nSx\n.\n")
    lines: list[str] = []
    report = sweep(tmp_path, lines.append)
    assert sorted(report.removed) == ["dfAAAAAAAA000002", "tfAAAAAAAA000001"]
    assert sorted(report.lost) == ["hfAAAAAAAA000004", "qfAAAAAAAA000003"]
    assert report.skipped_locked == ("df" + live.qid,)
    assert names(tmp_path) == {
        "qf" + good,
        "df" + good,
        "df" + live.qid,
        "QfAAAAAAAA000003",
        "dfAAAAAAAA000003",
        "QfAAAAAAAA000004",
    }
    lost_line = next(line for line in lines if "qfAAAAAAAA000003" in line)
    assert lost_line.startswith("Losing qfAAAAAAAA000003: ")
    assert f"{tmp_path}/qfAAAAAAAA000003: line 4: unrecognized line" in lost_line
    assert any("tfAAAAAAAA000001" in line for line in lines)
    live.commit(message_qf(live.qid, 51))
    assert (tmp_path / ("qf" + live.qid)).exists()


def test_sweep_leaves_locked_tf_and_locked_qf(tmp_path: Path) -> None:
    tf = tmp_path / "tfAAAAAAAA000005"
    tf.write_bytes(b"being written")
    bad = tmp_path / "qfAAAAAAAA000006"
    bad.write_bytes(b"half")
    with open(tf, "rb") as h1, open(bad, "rb") as h2:
        fcntl.flock(h1, fcntl.LOCK_EX)
        fcntl.flock(h2, fcntl.LOCK_EX)
        report = sweep(tmp_path, lambda _line: None)
    assert sorted(report.skipped_locked) == [bad.name, tf.name]
    assert tf.exists() and bad.exists()


def test_zero_length_qf_removed_only_when_older_than_ten_minutes(tmp_path: Path) -> None:
    (tmp_path / "qfAAAAAAAA000007").write_bytes(b"")
    (tmp_path / "dfAAAAAAAA000007").write_bytes(b"body")
    report = sweep(tmp_path, lambda _line: None)
    assert report.removed == () and len(names(tmp_path)) == 2
    report = sweep(tmp_path, lambda _line: None, now=time.time() + 601)
    assert sorted(report.removed) == ["dfAAAAAAAA000007", "qfAAAAAAAA000007"]
    assert names(tmp_path) == set()


def test_quarantine_and_release_round_trip(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    qid = queue_message(store, recipients=("<a@x>", "<b@y>"))
    original = parse_qf((tmp_path / ("qf" + qid)).read_bytes())
    store.quarantine(qid, "held by admin for review")
    assert names(tmp_path) == {"hf" + qid, "df" + qid}
    held = parse_qf((tmp_path / ("hf" + qid)).read_bytes())
    assert held.quarantine == "held by admin for review"
    assert [j.qid for j in iter_jobs(tmp_path)] == []
    (job,) = iter_jobs(tmp_path, quarantined=True)
    assert job.queue_file == held and job.df_size == 6 and not job.locked
    store.quarantine(qid, "still held")  # changes the reason in place
    assert parse_qf((tmp_path / ("hf" + qid)).read_bytes()).quarantine == "still held"
    store.release(qid)
    assert names(tmp_path) == {"qf" + qid, "df" + qid}
    assert parse_qf((tmp_path / ("qf" + qid)).read_bytes()) == original


def test_quarantine_refuses_locked_missing_and_bad_reason(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    qid = queue_message(store)
    with open(tmp_path / ("qf" + qid), "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(QueueLockedError):
            store.quarantine(qid, "x")
    with pytest.raises(ValueError):
        store.quarantine(qid, "two\nlines")
    with pytest.raises(JobNotFoundError):
        store.quarantine("AAAAAAAA999999", "x")
    with pytest.raises(JobNotFoundError):
        store.release(qid)
    with pytest.raises(ValueError):
        store.release("../../etc/passwd")
    assert names(tmp_path) == {"qf" + qid, "df" + qid}


def test_quarantine_of_unparsable_qf_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "qfAAAAAAAA000008").write_bytes(b"V8\nT1\n")
    with pytest.raises(QueueFileError):
        QueueStore(tmp_path).quarantine("AAAAAAAA000008", "x")
    assert names(tmp_path) == {"qfAAAAAAAA000008"}


def test_iter_jobs_reports_unreadable_files_and_sizes(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    qid = queue_message(store, body=b"12345\n")
    (tmp_path / "qfAAAAAAAA000009").write_bytes(b"garbage")
    jobs = {j.qid: j for j in iter_jobs(tmp_path)}
    assert jobs[qid].df_size == 6 and jobs[qid].error is None
    bad = jobs["AAAAAAAA000009"]
    assert bad.queue_file is None and bad.df_size == -1
    assert bad.error is not None and "qfAAAAAAAA000009: line 1" in bad.error
    os.rename(tmp_path / "qfAAAAAAAA000009", tmp_path / "QfAAAAAAAA000009")
    assert [j.qid for j in iter_jobs(tmp_path, lost=True)] == ["AAAAAAAA000009"]
