"""LoopCommitter and buffered writers: the receiver's write path."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from pathlib import Path

import pytest
from postroom.core.queue import QueueError, QueueIOError, QueueStore, parse_qf
from postroom.core.queue import commit as commit_module
from postroom.core.queue import loop_commit as loop_commit_module
from postroom.core.queue.durable import fdatasync_quietly
from postroom.core.queue.loop_commit import LoopCommitter
from postroom.core.queue.writer import SPILL_SIZE

from .helpers import message_qf, names


def test_a_buffered_writer_creates_no_file_before_the_commit(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    writer = store.new_message(buffered=True)
    writer.write(b"line one\n")
    writer.write(b"line two\n")
    assert names(tmp_path) == set()
    writer.commit(message_qf(writer.qid, 58))
    assert names(tmp_path) == {"df" + writer.qid, "qf" + writer.qid}
    assert writer.df_path.read_bytes() == b"line one\nline two\n"


def test_a_large_buffered_body_goes_to_its_df_while_it_arrives(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message(buffered=True)
    chunk = b"x" * 1023 + b"\n"
    while writer.size <= SPILL_SIZE:
        writer.write(chunk)
    assert names(tmp_path) == {"df" + writer.qid}  # claimed and written, no qf yet
    writer.write(b"tail\n")
    writer.commit(message_qf(writer.qid, writer.size + 40))
    body = writer.df_path.read_bytes()
    assert len(body) == writer.size and body.endswith(b"tail\n")


def test_a_taken_id_fails_the_commit_and_leaves_the_other_file_alone(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message(buffered=True)
    writer.write(b"mine\n")
    (tmp_path / ("hf" + writer.qid)).write_text("someone else's held job\n")
    with pytest.raises(QueueIOError) as info:
        writer.commit(message_qf(writer.qid, 45))
    assert info.value.errno == errno.EEXIST
    assert names(tmp_path) == {"hf" + writer.qid}
    assert writer.state == "aborted"


def test_aborting_a_buffered_writer_leaves_nothing(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message(buffered=True)
    writer.write(b"never mind\n")
    writer.abort()
    assert names(tmp_path) == set()
    with pytest.raises(QueueError):
        writer.write(b"more\n")


async def _submit_in_one_turn(committer: LoopCommitter, store: QueueStore, count: int) -> list[str]:
    writers = []
    futures = []
    for i in range(count):
        writer = store.new_message(buffered=True)
        writer.write(b"message %d\n" % i)
        writers.append(writer)
        futures.append(committer.submit_async(writer, message_qf(writer.qid, 50)))
    assert not any(w.qf_path.exists() for w in writers)  # nothing written before the turn ends
    await asyncio.gather(*futures)
    return [w.qid for w in writers]


def test_commits_of_one_loop_turn_form_one_batch(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    qids = asyncio.run(_submit_in_one_turn(committer, store, 12))
    committer.close()
    assert (committer.batches, committer.committed) == (1, 12)  # one directory fsync
    helpers = [t for t in threading.enumerate() if t.name.startswith("queue-sync")]
    assert not [t for t in helpers if t.is_alive()]  # close() stopped the helper thread
    assert names(tmp_path) == {p + q for q in qids for p in ("qf", "df")}
    for qid in qids:
        assert parse_qf((tmp_path / f"qf{qid}").read_bytes()).priority > 0


def test_one_failing_commit_fails_only_its_waiter(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)

    async def scenario() -> list[BaseException | None]:
        writers = [store.new_message(buffered=True) for _ in range(3)]
        for writer in writers:
            writer.write(b"body\n")
        (tmp_path / ("tf" + writers[1].qid)).write_bytes(b"stale tf owned by someone else")
        futures = [committer.submit_async(w, message_qf(w.qid, 45)) for w in writers]
        return list(await asyncio.gather(*futures, return_exceptions=True))

    results = asyncio.run(scenario())
    committer.close()
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], QueueIOError) and results[1].errno_name == "EEXIST"
    assert committer.committed == 2
    assert len([n for n in names(tmp_path) if n.startswith("qf")]) == 2


def test_a_cancelled_waiter_aborts_its_message(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)

    async def scenario() -> None:
        writer = store.new_message(buffered=True)
        writer.write(b"unwanted\n")
        future = committer.submit_async(writer, message_qf(writer.qid, 45))
        future.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(scenario())
    committer.close()
    assert names(tmp_path) == set()
    assert committer.committed == 0


def test_close_commits_what_is_pending_and_then_refuses(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)

    async def scenario() -> asyncio.Future[None]:
        writer = store.new_message(buffered=True)
        writer.write(b"last one\n")
        future = committer.submit_async(writer, message_qf(writer.qid, 45))
        committer.close()  # before the loop turn that would have flushed it
        assert future.done() and future.result() is None
        other = store.new_message(buffered=True)
        with pytest.raises(QueueError):
            committer.submit_async(other, message_qf(other.qid, 45))
        return future

    asyncio.run(scenario())
    assert len([n for n in names(tmp_path) if n.startswith("qf")]) == 1


def test_messages_submitted_while_a_batch_syncs_go_together_in_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    syncing = threading.Event()
    release = threading.Event()
    real_fdatasync = commit_module.fdatasync_quietly

    def held_fdatasync(fd: int) -> OSError | None:
        syncing.set()
        release.wait(10)
        return real_fdatasync(fd)

    monkeypatch.setattr(commit_module, "fdatasync_quietly", held_fdatasync)

    async def scenario() -> tuple[str, list[str]]:
        first = store.new_message(buffered=True)
        first.write(b"first\n")
        first_done = committer.submit_async(first, message_qf(first.qid, 45))
        await asyncio.sleep(0)  # the loop turn that hands the first batch over
        assert syncing.wait(10)
        later = [store.new_message(buffered=True) for _ in range(5)]
        futures = []
        for writer in later:
            writer.write(b"later\n")
            futures.append(committer.submit_async(writer, message_qf(writer.qid, 45)))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        # no file of theirs is created while the directory is being synced
        assert names(tmp_path) == {"df" + first.qid, "tf" + first.qid}
        release.set()
        await asyncio.gather(first_done, *futures)
        return first.qid, [w.qid for w in later]

    try:
        first_qid, later_qids = asyncio.run(scenario())
    finally:
        release.set()
        committer.close()
    assert (committer.batches, committer.committed) == (2, 6)
    assert names(tmp_path) == {p + q for q in [first_qid, *later_qids] for p in ("qf", "df")}


def test_a_failure_inside_the_helper_fails_the_batch_instead_of_hanging_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)

    def broken_publish(items: object) -> list[object]:
        raise RuntimeError("a bug while publishing")

    monkeypatch.setattr(loop_commit_module, "publish_all", broken_publish)

    async def scenario() -> list[BaseException | None]:
        writers = [store.new_message(buffered=True) for _ in range(3)]
        for writer in writers:
            writer.write(b"body\n")
        futures = [committer.submit_async(w, message_qf(w.qid, 45)) for w in writers]
        return list(await asyncio.gather(*futures, return_exceptions=True))

    results = asyncio.run(scenario())
    committer.close()
    assert [type(r) for r in results] == [RuntimeError] * 3
    assert names(tmp_path) == set()  # every file removed, nothing left half-committed
    assert committer.committed == 0


def test_fdatasync_quietly_returns_the_error(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    error = fdatasync_quietly(fd)
    assert isinstance(error, OSError) and error.errno == errno.EBADF
