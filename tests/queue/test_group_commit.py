"""GroupCommitter: one directory fsync per batch, per-commit failures, draining close."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from postroom.core.queue import GroupCommitter, QueueError, QueueIOError, QueueStore, parse_qf

from .helpers import message_qf, names


def test_pending_commits_form_one_batch(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = store.group_committer(start=False)
    futures: list[Future[None]] = []
    writers = []
    for i in range(40):
        writer = store.new_message()
        writer.write(b"body %d\n" % i)
        writers.append(writer)
        futures.append(committer.submit(writer, message_qf(writer.qid, 50)))
    assert not any(f.done() for f in futures)
    assert not any(w.qf_path.exists() for w in writers)
    committer.start()
    for f in futures:
        assert f.result(timeout=30) is None
    committer.close()
    assert committer.batches == 1 and committer.committed == 40
    for writer in writers:
        assert parse_qf(writer.qf_path.read_bytes()).priority == message_qf(writer.qid, 50).priority
        assert not writer.tf_path.exists()


def test_many_concurrent_sessions(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    start = threading.Barrier(16)

    def session(n: int) -> str:
        writer = store.new_message()
        writer.write(b"message %d\n" % n)
        start.wait()
        committer.submit(writer, message_qf(writer.qid, 60)).result(timeout=30)
        return writer.qid

    with GroupCommitter(store) as committer, ThreadPoolExecutor(16) as pool:
        qids = list(pool.map(session, range(16 * 8)))
    assert len(set(qids)) == len(qids)
    assert committer.committed == len(qids)
    assert 1 <= committer.batches <= len(qids)
    assert names(tmp_path) == {p + q for q in qids for p in ("qf", "df")}


def test_a_failing_commit_fails_only_its_future(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = GroupCommitter(store, start=False)
    good1, bad, good2 = store.new_message(), store.new_message(), store.new_message()
    bad.tf_path.write_bytes(b"stale tf owned by someone else")
    futures = [committer.submit(w, message_qf(w.qid, 40)) for w in (good1, bad, good2)]
    committer.start()
    committer.close()
    assert futures[0].result() is None and futures[2].result() is None
    error = futures[1].exception()
    assert isinstance(error, QueueIOError) and error.errno_name == "EEXIST"
    assert "EEXIST" in str(error)
    assert good1.qf_path.exists() and good2.qf_path.exists()
    assert not bad.qf_path.exists() and not bad.df_path.exists()
    assert committer.batches == 1


def test_close_drains_and_then_refuses(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = GroupCommitter(tmp_path, fsync=False)
    writer = store.new_message()
    future = committer.submit(writer, message_qf(writer.qid, 40))
    committer.close()
    assert future.done() and writer.qf_path.exists()
    other = store.new_message()
    with pytest.raises(QueueError):
        committer.submit(other, message_qf(other.qid, 40))
    other.abort()


def test_cancelled_future_aborts_the_writer(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = GroupCommitter(store, start=False)
    writer = store.new_message()
    future = committer.submit(writer, message_qf(writer.qid, 40))
    assert future.cancel()
    committer.start()
    committer.close()
    assert names(tmp_path) == set()


def test_writer_from_another_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    writer = QueueStore(tmp_path / "a").new_message()
    with GroupCommitter(tmp_path / "b") as committer, pytest.raises(QueueError):
        committer.submit(writer, message_qf(writer.qid, 40))
    writer.abort()
