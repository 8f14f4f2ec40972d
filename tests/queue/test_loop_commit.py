"""LoopCommitter and buffered writers: the receiver's write path.

The committer's commit processes are forked from the test's process, so a
``monkeypatch`` made before the committer is built is in force in them too:
that is how a sync is held or a step fails inside a commit process.  A held
step waits on named pipes in the test's folder (:class:`Gate`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.queue import QueueError, QueueIOError, QueueStore, parse_qf
from postroom.core.queue import commit as commit_module
from postroom.core.queue.commit_process import PACKET_LIMIT
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


class Gate:
    """Holds a commit process inside one step until the test lets it go (named pipes)."""

    def __init__(self, folder: Path) -> None:
        self.arrived = folder / "arrived"
        self.release = folder / "release"
        os.mkfifo(self.arrived)
        os.mkfifo(self.release)
        self._reader = os.open(self.arrived, os.O_RDONLY | os.O_NONBLOCK)

    def hold(self) -> None:
        """In the commit process: say we are here, then wait to be released."""
        fd = os.open(self.arrived, os.O_WRONLY)
        os.write(fd, b"!")
        os.close(fd)
        fd = os.open(self.release, os.O_RDONLY)
        os.read(fd, 1)
        os.close(fd)

    def wait_arrived(self, timeout: float = 30.0) -> bool:
        """In the test: True once a commit process is held."""
        ready, _, _ = select.select([self._reader], [], [], timeout)
        return bool(ready) and os.read(self._reader, 1) == b"!"

    def open(self) -> None:
        fd = os.open(self.release, os.O_WRONLY)
        os.write(fd, b"!")
        os.close(fd)

    def close(self) -> None:
        os.close(self._reader)


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    folder = tmp_path / "gate"
    folder.mkdir()
    held = Gate(folder)
    yield held
    held.close()


def hold_the_sync_of_bodies_starting_hold(monkeypatch: pytest.MonkeyPatch, gate: Gate) -> None:
    """fdatasync of a df whose body starts with ``HOLD`` waits at ``gate``."""
    real_fdatasync = commit_module.fdatasync_quietly

    def held_fdatasync(fd: int) -> OSError | None:
        with open(f"/proc/self/fd/{fd}", "rb") as written:  # fd itself is write-only
            start = written.read(4)
        if start == b"HOLD":
            gate.hold()
        return real_fdatasync(fd)

    monkeypatch.setattr(commit_module, "fdatasync_quietly", held_fdatasync)


def submit(
    committer: LoopCommitter, store: QueueStore, body: bytes
) -> tuple[str, asyncio.Future[None]]:
    writer = store.new_message(buffered=True)
    writer.write(body)
    return writer.qid, committer.submit_async(writer, message_qf(writer.qid, len(body) + 40))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


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
    assert all(w.state == "done" for w in writers)
    return [w.qid for w in writers]


def test_commits_of_one_loop_turn_form_one_batch(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    pids = committer.pids
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    qids = asyncio.run(_submit_in_one_turn(committer, store, 12))
    committer.close()
    assert (committer.batches, committer.committed) == (1, 12)  # one directory fsync
    assert not [pid for pid in pids if alive(pid)]  # close() ended and reaped them
    assert names(tmp_path) == {p + q for q in qids for p in ("qf", "df")}
    for qid in qids:
        assert parse_qf((tmp_path / f"qf{qid}").read_bytes()).priority > 0


def test_one_failing_commit_fails_only_its_waiter(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)
    stale = b"stale tf owned by someone else"

    async def scenario() -> tuple[str, list[BaseException | None]]:
        writers = [store.new_message(buffered=True) for _ in range(3)]
        for writer in writers:
            writer.write(b"body\n")
        (tmp_path / ("tf" + writers[1].qid)).write_bytes(stale)
        futures = [committer.submit_async(w, message_qf(w.qid, 45)) for w in writers]
        results = list(await asyncio.gather(*futures, return_exceptions=True))
        return writers[1].qid, results

    failed, results = asyncio.run(scenario())
    committer.close()
    assert results[0] is None and results[2] is None
    error = results[1]
    assert isinstance(error, QueueIOError) and error.errno_name == "EEXIST"
    assert error.action == "creating" and error.path == str(tmp_path / ("tf" + failed))
    assert committer.committed == 2
    assert len([n for n in names(tmp_path) if n.startswith("qf")]) == 2
    assert (tmp_path / ("tf" + failed)).read_bytes() == stale  # not ours: left alone
    assert "df" + failed not in names(tmp_path)


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


def test_messages_submitted_while_every_process_is_busy_go_together_in_the_next_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gate: Gate
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    hold_the_sync_of_bodies_starting_hold(monkeypatch, gate)
    store = QueueStore(spool)
    committer = LoopCommitter(store, processes=1)

    async def scenario() -> list[str]:
        first, first_done = submit(committer, store, b"HOLD first\n")
        await asyncio.sleep(0)  # the loop turn that hands the first batch over
        assert gate.wait_arrived()
        later = [submit(committer, store, b"later\n") for _ in range(5)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert names(spool) == {"df" + first, "tf" + first}  # the rest wait for a process
        gate.open()
        await asyncio.gather(first_done, *(done for _, done in later))
        return [first, *(qid for qid, _ in later)]

    try:
        qids = asyncio.run(scenario())
    finally:
        committer.close()
    assert (committer.batches, committer.committed) == (2, 6)
    assert names(spool) == {p + q for q in qids for p in ("qf", "df")}


def test_a_second_process_commits_while_the_first_waits_for_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gate: Gate
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    hold_the_sync_of_bodies_starting_hold(monkeypatch, gate)
    store = QueueStore(spool)
    committer = LoopCommitter(store, processes=2)

    async def scenario() -> tuple[str, str]:
        first, first_done = submit(committer, store, b"HOLD first\n")
        await asyncio.sleep(0)
        assert gate.wait_arrived()
        second, second_done = submit(committer, store, b"second\n")
        await second_done  # durable while the first batch is still held
        assert not first_done.done()
        assert "qf" + second in names(spool) and "qf" + first not in names(spool)
        gate.open()
        await first_done
        return first, second

    try:
        qids = asyncio.run(scenario())
    finally:
        committer.close()
    assert (committer.batches, committer.committed) == (2, 2)
    assert names(spool) == {p + q for q in qids for p in ("qf", "df")}


def test_a_failure_inside_a_commit_process_fails_the_batch_instead_of_hanging_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_publish(items: object) -> list[object]:
        raise RuntimeError("a bug while publishing")

    monkeypatch.setattr(commit_module, "publish_all", broken_publish)
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store)

    async def scenario() -> list[BaseException | None]:
        futures = [submit(committer, store, b"body\n")[1] for _ in range(3)]
        return list(await asyncio.gather(*futures, return_exceptions=True))

    results = asyncio.run(scenario())
    committer.close()
    assert [type(r) for r in results] == [RuntimeError] * 3
    assert names(tmp_path) == set()  # every file removed, nothing left half-committed
    assert committer.committed == 0


def dying_committer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int
) -> tuple[Path, QueueStore, LoopCommitter, Path]:
    """A one-process committer whose next ``deaths`` commit processes die after publishing:
    (spool, store, committer, the file counting the deaths still to come)."""
    spool = tmp_path / "spool"
    spool.mkdir()
    to_come = tmp_path / "deaths"
    to_come.write_text("death\n" * deaths)
    die_after_publishing(monkeypatch, to_come)
    store = QueueStore(spool)
    return spool, store, LoopCommitter(store, processes=1), to_come


def die_after_publishing(monkeypatch: pytest.MonkeyPatch, deaths: Path) -> None:
    """A commit process renames its tf files to qf, then dies, while ``deaths`` holds lines."""
    real_publish = commit_module.publish_all

    def publish_then_die(items: list[object]) -> list[object]:
        published = real_publish(items)  # type: ignore[arg-type]
        left = deaths.read_text().splitlines()
        if left:
            deaths.write_text("".join(line + "\n" for line in left[1:]))
            os.kill(os.getpid(), signal.SIGKILL)  # qf files in place, directory not synced
        return published

    monkeypatch.setattr(commit_module, "publish_all", publish_then_die)


def test_a_batch_whose_commit_process_dies_is_committed_by_its_replacement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool, store, committer, deaths = dying_committer(tmp_path, monkeypatch, 1)
    (dead,) = committer.pids

    line = b"s" * 1023 + b"\n"
    bodies = [b"body 0\n", b"body 1\n", line * (SPILL_SIZE // len(line) + 1)]

    async def scenario() -> list[str]:
        pending = [submit(committer, store, body) for body in bodies]  # the last one spilled
        await asyncio.gather(*(done for _, done in pending))
        return [qid for qid, _ in pending]

    qids = asyncio.run(scenario())
    committer.close()
    assert deaths.read_text() == ""  # it did die once
    assert committer.replaced == 1 and dead not in committer.pids and not alive(dead)
    assert (committer.batches, committer.committed) == (1, 3)
    assert names(spool) == {p + q for q in qids for p in ("qf", "df")}
    for qid, body in zip(qids, bodies, strict=True):
        assert (spool / ("df" + qid)).read_bytes() == body


def test_a_batch_that_kills_its_replacement_too_fails_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool, store, committer, _ = dying_committer(tmp_path, monkeypatch, 2)

    async def scenario() -> tuple[list[BaseException | None], str]:
        futures = [submit(committer, store, b"body\n")[1] for _ in range(3)]
        results = list(await asyncio.gather(*futures, return_exceptions=True))
        assert names(spool) == set()  # the renamed qf files and their df were removed
        after, done = submit(committer, store, b"after\n")
        await done  # the third process works
        return results, after

    results, after = asyncio.run(scenario())
    committer.close()
    assert all(isinstance(r, QueueIOError) and r.errno == errno.EIO for r in results)
    assert "commit process" in str(results[0]) and "exit status -9" in str(results[0])
    assert committer.replaced == 2
    assert names(spool) == {"qf" + after, "df" + after}


def test_a_commit_process_killed_while_idle_is_replaced_and_loses_no_message(
    tmp_path: Path,
) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store, processes=1)
    (dead,) = committer.pids
    os.kill(dead, signal.SIGKILL)

    async def scenario() -> str:
        qid, done = submit(committer, store, b"sent after the kill\n")
        await done
        return qid

    qid = asyncio.run(scenario())
    committer.close()
    assert committer.replaced == 1 and committer.committed == 1
    assert names(tmp_path) == {"qf" + qid, "df" + qid}


def test_when_no_commit_process_can_be_started_commits_fail_instead_of_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store, processes=1)
    (dead,) = committer.pids
    os.kill(dead, signal.SIGKILL)

    def no_fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    async def scenario() -> tuple[BaseException | None, str]:
        with monkeypatch.context() as patch:
            patch.setattr(os, "fork", no_fork)
            refused = (
                await asyncio.gather(submit(committer, store, b"x\n")[1], return_exceptions=True)
            )[0]
            assert names(tmp_path) == set()
        qid, done = submit(committer, store, b"forks again\n")  # the next flush starts one
        await done
        return refused, qid

    refused, qid = asyncio.run(scenario())
    committer.close()
    assert isinstance(refused, QueueIOError) and refused.errno in (errno.EAGAIN, errno.EIO)
    assert names(tmp_path) == {"qf" + qid, "df" + qid}
    assert len(committer.pids) == 1 and dead not in committer.pids


def test_a_batch_too_big_for_one_packet_and_a_spilled_body_are_committed(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    committer = LoopCommitter(store, processes=1)
    bodies = [bytes([65 + i]) * 99_999 + b"\n" for i in range(4)]  # 400 KB: over PACKET_LIMIT
    big = b"y" * 1023 + b"\n"
    assert sum(map(len, bodies)) > PACKET_LIMIT

    async def scenario() -> tuple[list[str], str]:
        pending = [submit(committer, store, body) for body in bodies]
        spilled = store.new_message(buffered=True)
        while spilled.size <= SPILL_SIZE:
            spilled.write(big)
        assert names(tmp_path) == {"df" + spilled.qid}  # spilled while it arrived
        spilled_done = committer.submit_async(spilled, message_qf(spilled.qid, spilled.size + 40))
        await asyncio.gather(spilled_done, *(done for _, done in pending))
        assert spilled.state == "done"
        return [qid for qid, _ in pending], spilled.qid

    qids, spilled_qid = asyncio.run(scenario())
    committer.close()
    assert committer.batches == 1
    for qid, body in zip(qids, bodies, strict=True):
        assert (tmp_path / ("df" + qid)).read_bytes() == body
    assert len((tmp_path / ("df" + spilled_qid)).read_bytes()) > SPILL_SIZE
    assert "qf" + spilled_qid in names(tmp_path)


def test_the_commit_processes_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    program = (
        "import sys, os\n"
        "from pathlib import Path\n"
        "from postroom.core.queue.loop_commit import LoopCommitter\n"
        "committer = LoopCommitter(Path(sys.argv[1]))\n"
        "print(*committer.pids, flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", program, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as parent:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        watchers = [os.pidfd_open(pid) for pid in pids]
        try:
            parent.kill()
            parent.wait(30)
            for watcher in watchers:  # readable once that process has exited
                ready, _, _ = select.select([watcher], [], [], 30)
                assert ready
        finally:
            for watcher in watchers:
                os.close(watcher)


def test_fdatasync_quietly_returns_the_error(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    error = fdatasync_quietly(fd)
    assert isinstance(error, OSError) and error.errno == errno.EBADF
