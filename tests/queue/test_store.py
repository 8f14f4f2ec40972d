"""QueueStore/MessageWriter: id claiming with O_EXCL, commit ordering, abort, locks."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest
from postroom.core.queue import (
    QueueError,
    QueueIdGenerator,
    QueueIOError,
    QueueStore,
    is_locked,
    parse_qf,
)
from postroom.core.queue.qid import encode_qid

from .helpers import T, message_qf, names


def fixed_ids(seqs: list[int]) -> QueueIdGenerator:
    it = iter(seqs)
    return QueueIdGenerator(clock=lambda: T, pid=lambda: 4242, offset=lambda: next(it))


def test_commit_makes_a_parsable_qf_and_keeps_the_df(tmp_path: Path) -> None:
    store = QueueStore(tmp_path)
    writer = store.new_message()
    assert names(tmp_path) == {"df" + writer.qid}
    assert stat.S_IMODE((tmp_path / ("df" + writer.qid)).stat().st_mode) == 0o600
    writer.write(b"hello\n")
    writer.write(b"world\n")
    assert writer.size == 12
    qf = message_qf(writer.qid, 52)
    writer.commit(qf)
    assert names(tmp_path) == {"df" + writer.qid, "qf" + writer.qid}
    assert (tmp_path / ("df" + writer.qid)).read_bytes() == b"hello\nworld\n"
    assert parse_qf((tmp_path / ("qf" + writer.qid)).read_bytes()) == qf
    assert writer.state == "done"
    assert not is_locked(tmp_path / ("qf" + writer.qid))
    writer.abort()  # no-op after commit
    assert names(tmp_path) == {"df" + writer.qid, "qf" + writer.qid}


def test_abort_removes_everything_and_is_idempotent(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message()
    writer.write(b"partial")
    writer.abort()
    writer.abort()
    assert names(tmp_path) == set()
    with pytest.raises(QueueError):
        writer.write(b"more")


def test_df_is_locked_while_being_written(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message()
    assert is_locked(writer.df_path)
    writer.commit(message_qf(writer.qid, 40))
    assert not is_locked(writer.df_path)


def test_id_collision_takes_a_new_id_and_never_overwrites(tmp_path: Path) -> None:
    taken = encode_qid(T, 10, 4242)
    (tmp_path / ("df" + taken)).write_bytes(b"someone else's body")
    lone_qf = encode_qid(T, 11, 4242)
    (tmp_path / ("qf" + lone_qf)).write_bytes(b"an existing job")
    store = QueueStore(tmp_path, ids=fixed_ids([10]))
    writer = store.new_message()
    assert writer.qid == encode_qid(T, 12, 4242)
    assert (tmp_path / ("df" + taken)).read_bytes() == b"someone else's body"
    assert (tmp_path / ("qf" + lone_qf)).read_bytes() == b"an existing job"
    assert not (tmp_path / ("df" + lone_qf)).exists()
    writer.abort()


def test_commit_refuses_to_overwrite_an_existing_qf(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message()
    writer.qf_path.write_bytes(b"appeared meanwhile")
    with pytest.raises(QueueIOError) as info:
        writer.commit(message_qf(writer.qid, 40))
    assert info.value.errno_name == "EEXIST"
    assert writer.qf_path.read_bytes() == b"appeared meanwhile"
    assert names(tmp_path) == {writer.qf_path.name}


def test_invalid_qf_aborts_and_leaves_nothing(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message()
    with pytest.raises(ValueError):
        writer.commit(message_qf(writer.qid, 40, sender="<a@b>\nRPFD:<evil@x>"))
    assert names(tmp_path) == set()


def test_df_inode_matches_the_file(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message()
    st = writer.df_path.stat()
    assert writer.df_inode() == f"{os.major(st.st_dev)}/{os.minor(st.st_dev)}/{st.st_ino}"
    writer.abort()


def test_tf_left_by_someone_else_fails_only_this_commit(tmp_path: Path) -> None:
    writer = QueueStore(tmp_path).new_message()
    writer.tf_path.write_bytes(b"other rewrite")
    with pytest.raises(QueueIOError) as info:
        writer.commit(message_qf(writer.qid, 40))
    assert info.value.errno_name == "EEXIST" and "tf" in str(info.value)
    assert writer.tf_path.read_bytes() == b"other rewrite"
    assert not writer.df_path.exists() and not writer.qf_path.exists()


def test_is_locked_sees_another_holder(tmp_path: Path) -> None:
    path = tmp_path / "qfX"
    path.write_bytes(b"x")
    assert not is_locked(path)
    with open(path, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert is_locked(path)
    assert not is_locked(path)
    assert not is_locked(tmp_path / "missing")


def test_job_lock_excludes_other_processors(tmp_path: Path) -> None:
    from postroom.core.queue import JobLock, JobNotFoundError, QueueLockedError

    from .helpers import queue_message

    qid = queue_message(QueueStore(tmp_path))
    path = tmp_path / ("qf" + qid)
    with JobLock(path) as lock:
        assert lock.fd is not None and is_locked(path)
        with pytest.raises(QueueLockedError):
            JobLock(path)
    assert not is_locked(path)
    with pytest.raises(JobNotFoundError):
        JobLock(tmp_path / "qfAAAAAAAA000000")
