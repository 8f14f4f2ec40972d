"""LoopCommitter and buffered writers: the receiver's write path."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from postroom.core.queue import QueueError, QueueIOError, QueueStore, parse_qf
from postroom.core.queue import background_sync as background_sync_module
from postroom.core.queue import loop_commit as loop_commit_module
from postroom.core.queue.background_sync import BackgroundSync, SyncDone, SyncRequest
from postroom.core.queue.durable import fdatasync_quietly
from postroom.core.queue.loop_commit import LoopCommitter
from postroom.core.queue.writer import SPILL_SIZE

from .helpers import message_qf, names


@pytest.fixture(params=["kernel-aio", "thread"])
def sync_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each LoopCommitter test runs on both engines of :mod:`background_sync`."""
    if request.param == "thread":
        monkeypatch.setattr(background_sync_module, "open_sync_ring", lambda: None)
    yield request.param


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


def test_commits_of_one_loop_turn_form_one_batch(tmp_path: Path, sync_engine: str) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    qids = asyncio.run(_submit_in_one_turn(committer, store, 12))
    committer.close()
    assert (committer.batches, committer.committed) == (1, 12)  # one directory fsync
    helpers = [t for t in threading.enumerate() if t.name.startswith("queue-sync")]
    assert not [t for t in helpers if t.is_alive()]  # close() stopped any helper thread
    assert names(tmp_path) == {p + q for q in qids for p in ("qf", "df")}
    for qid in qids:
        assert parse_qf((tmp_path / f"qf{qid}").read_bytes()).priority > 0


def test_one_failing_commit_fails_only_its_waiter(tmp_path: Path, sync_engine: str) -> None:
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


def test_a_cancelled_waiter_aborts_its_message(tmp_path: Path, sync_engine: str) -> None:
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


def test_close_commits_what_is_pending_and_then_refuses(tmp_path: Path, sync_engine: str) -> None:
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


class HeldSync(BackgroundSync):
    """The real engine, but the groups it is given wait until the test resumes them."""

    def __init__(self, inner: BackgroundSync) -> None:
        self.inner = inner
        self.held: list[tuple[Sequence[SyncRequest], SyncDone]] = []
        self.holding = True

    def start(self, requests: Sequence[SyncRequest], done: SyncDone) -> None:
        if self.holding:
            self.held.append((requests, done))
        else:
            self.inner.start(requests, done)

    def resume(self) -> None:
        self.holding = False
        for requests, done in self.held:
            self.inner.start(requests, done)
        self.held.clear()

    def wait(self) -> None:
        self.resume()
        self.inner.wait()

    def close(self) -> None:
        self.inner.close()


def test_messages_submitted_while_a_batch_syncs_go_together_in_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync_engine: str
) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    engines: list[HeldSync] = []

    def held_engine(loop: asyncio.AbstractEventLoop) -> BackgroundSync:
        engines.append(HeldSync(background_sync_module.background_sync(loop)))
        return engines[-1]

    monkeypatch.setattr(loop_commit_module, "background_sync", held_engine)

    async def scenario() -> tuple[str, list[str]]:
        first = store.new_message(buffered=True)
        first.write(b"first\n")
        first_done = committer.submit_async(first, message_qf(first.qid, 45))
        await asyncio.sleep(0)  # the loop turn that stages the first batch
        (held,) = engines
        assert len(held.held) == 1  # its fdatasyncs are "on the disk"
        later = [store.new_message(buffered=True) for _ in range(5)]
        futures = []
        for writer in later:
            writer.write(b"later\n")
            futures.append(committer.submit_async(writer, message_qf(writer.qid, 45)))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        # no file of theirs is created while the first batch is being synced
        assert names(tmp_path) == {"df" + first.qid, "tf" + first.qid}
        held.resume()
        await asyncio.gather(first_done, *futures)
        return first.qid, [w.qid for w in later]

    try:
        first_qid, later_qids = asyncio.run(scenario())
    finally:
        committer.close()
    assert (committer.batches, committer.committed) == (2, 6)
    assert names(tmp_path) == {p + q for q in [first_qid, *later_qids] for p in ("qf", "df")}


def test_a_failure_while_publishing_fails_the_batch_instead_of_hanging_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync_engine: str
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


class FailingSync(BackgroundSync):
    """The real engine, but the ``fail``-th request of each group (counting from 0 over the
    committer's life) comes back with EIO."""

    def __init__(self, inner: BackgroundSync, fail: set[int]) -> None:
        self.inner = inner
        self.fail = fail
        self.seen = 0

    def start(self, requests: Sequence[SyncRequest], done: SyncDone) -> None:
        first = self.seen
        self.seen += len(requests)

        def injected(errors: list[int]) -> None:
            done([errno.EIO if first + i in self.fail else e for i, e in enumerate(errors)])

        self.inner.start(requests, injected)

    def wait(self) -> None:
        self.inner.wait()

    def close(self) -> None:
        self.inner.close()


def _commit_three_with_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: set[int]
) -> tuple[list[str], list[BaseException | None]]:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    monkeypatch.setattr(
        loop_commit_module,
        "background_sync",
        lambda loop: FailingSync(background_sync_module.background_sync(loop), fail),
    )

    async def scenario() -> tuple[list[str], list[BaseException | None]]:
        writers = [store.new_message(buffered=True) for _ in range(3)]
        for writer in writers:
            writer.write(b"body\n")
        futures = [committer.submit_async(w, message_qf(w.qid, 45)) for w in writers]
        results = await asyncio.gather(*futures, return_exceptions=True)
        return [w.qid for w in writers], list(results)

    try:
        return asyncio.run(scenario())
    finally:
        committer.close()


def test_a_failed_file_sync_fails_only_that_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync_engine: str
) -> None:
    # requests of the first group: df and tf of each message in turn; 3 is the 2nd's tf
    qids, results = _commit_three_with_failures(tmp_path, monkeypatch, {3})
    assert results[0] is None and results[2] is None
    failed = results[1]
    assert isinstance(failed, QueueIOError) and failed.errno_name == "EIO"
    assert names(tmp_path) == {p + q for q in (qids[0], qids[2]) for p in ("qf", "df")}


def test_a_failed_directory_sync_fails_the_whole_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync_engine: str
) -> None:
    _qids, results = _commit_three_with_failures(tmp_path, monkeypatch, {6})  # after 6 files
    assert all(isinstance(r, QueueIOError) and r.errno_name == "EIO" for r in results)
    assert names(tmp_path) == set()  # no qf of a batch that is not durable stays


def test_fdatasync_quietly_returns_the_error(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    error = fdatasync_quietly(fd)
    assert isinstance(error, OSError) and error.errno == errno.EBADF
