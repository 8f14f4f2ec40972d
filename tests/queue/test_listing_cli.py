"""``postroom-mta -bp`` with the listing index: same bytes, quiet ends, no tracebacks; and
the lock test that spares mailq from opening every control file."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.queue import QueueStore, format_queue_listing
from postroom.core.queue.listing_store import index_dir, index_path
from postroom.core.queue.lockscan import (
    file_system_type,
    locked_inodes,
    parse_proc_locks,
    probe_locked,
)

from tests.support.mta import MtaSetup

from .helpers import message_qf

CLI = [sys.executable, "-m", "postroom.core.cli"]
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture
def setup() -> Iterator[MtaSetup]:
    """A configuration another user can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="postroom-listing-"))
    base.chmod(0o755)
    setup = MtaSetup(base / "mta")
    setup.write()
    setup.base.chmod(0o755)
    yield setup
    shutil.rmtree(base)


def fill(q: Path, count: int) -> list[str]:
    store = QueueStore(q, fsync=False)
    ids = []
    for i in range(count):
        writer = store.new_message()
        writer.write(b"y" * (10 + i))
        writer.commit(message_qf(writer.qid, 10 + i, sender=f"<s{i}@example.org>"))
        ids.append(writer.qid)
    return ids


def mailq(
    setup: MtaSetup, *args: str, user: list[str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    argv = [*(user or []), *CLI, "-C", str(setup.config_path), "-bp", *args]
    return subprocess.run(argv, capture_output=True, timeout=120, check=False)


def test_cli_listing_is_the_file_listing_and_builds_the_index(setup: MtaSetup) -> None:
    q = setup.queue_dir
    fill(q, 25)
    expected = format_queue_listing(q, index=False).encode("utf-8", "surrogateescape")
    for _ in range(2):
        done = mailq(setup)
        assert (done.returncode, done.stderr) == (0, b"")
        assert done.stdout == expected
    assert (index_path(q, "mailq")).exists()
    verbose = mailq(setup, "-v")
    assert verbose.stdout == format_queue_listing(q, verbose=True, index=False).encode()


def test_a_reader_that_goes_away_ends_mailq_quietly(setup: MtaSetup) -> None:
    fill(setup.queue_dir, 400)
    argv = [*CLI, "-C", str(setup.config_path), "-bp"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=60)
    assert b"Traceback" not in err
    assert err == b""


def test_unreadable_jobs_and_index_as_another_user(setup: MtaSetup) -> None:
    """nobody can read the queue folder but not one job, nor root's index: no traceback."""
    q = setup.queue_dir
    ids = fill(q, 3)
    q.chmod(0o755)
    for name in os.listdir(q):
        if name[:2] in ("qf", "df"):
            (q / name).chmod(0o644)
    (q / ("qf" + ids[1])).chmod(0o600)
    assert mailq(setup).returncode == 0  # root builds the index (0700 folder, 0600 file)
    done = mailq(setup, user=NOBODY)
    assert (done.returncode, done.stderr) == (0, b"")
    assert f"{ids[1]} (Permission denied)\n".encode() in done.stdout
    script = (
        "import sys; from pathlib import Path; from postroom.core.queue import "
        "format_queue_listing as f; sys.stdout.write(f(Path(sys.argv[1]), index=False))"
    )
    plain = subprocess.run(
        [*NOBODY, sys.executable, "-c", script, str(q)], capture_output=True, check=True
    )
    assert done.stdout == plain.stdout


def test_restrictmailq_refuses_before_the_index_is_touched(setup: MtaSetup) -> None:
    fill(setup.queue_dir, 2)
    setup.queue_dir.chmod(0o755)
    done = mailq(setup, "-O", "PrivacyOptions=restrictmailq", user=NOBODY)
    assert done.returncode == 77
    assert done.stderr.decode().strip() == "You are not permitted to see the queue"
    assert not index_dir(setup.queue_dir).exists()


def test_proc_locks_parsing() -> None:
    text = (
        b"1: FLOCK  ADVISORY  WRITE 1234 fd:01:131073 0 EOF\n"
        b"1: -> FLOCK  ADVISORY  WRITE 1235 fd:01:131074 0 EOF\n"
        b"2: FLOCK  ADVISORY  READ 99 fd:01:131075 0 EOF\n"
        b"3: POSIX  ADVISORY  WRITE 77 fd:01:131076 0 EOF\n"
        b"4: OFDLCK ADVISORY  WRITE -1 00:2d:131077 0 EOF\n"
        b"5: FLOCK  ADVISORY  WRITE 1 00:2d:garbage 0 EOF\n"
    )
    assert parse_proc_locks(text) == {131073}


def test_a_held_flock_is_found_without_opening_every_file(tmp_path: Path) -> None:
    path = tmp_path / "qfAAAAAAAA000001"
    path.write_bytes(b"x")
    free = tmp_path / "qfAAAAAAAA000002"
    free.write_bytes(b"x")
    dir_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            inodes = locked_inodes(tmp_path)
            # None where /proc/locks cannot be complete (another PID namespace, NFS ...)
            assert inodes is None or path.stat().st_ino in inodes
            assert inodes is None or free.stat().st_ino not in inodes
            assert probe_locked(dir_fd, path.name)
            assert not probe_locked(dir_fd, free.name)
        assert not probe_locked(dir_fd, path.name)
        assert not probe_locked(dir_fd, "qfMISSING")
    finally:
        os.close(dir_fd)
    assert file_system_type(tmp_path)
