"""HostStatusStore: file format, atomic writes, flock, recent failures."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from postroom.core.hoststat import (
    HostStatus,
    HostStatusLockedError,
    HostStatusStore,
)

from .helpers import FORK, held_elsewhere, put

REFUSED = HostStatus("runsc.example.test", 1795631403, errno=111, h_errno=1, exit_status=75,
                     dsn="4.4.1")  # fmt: skip


def test_write_is_sendmails_format(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(REFUSED)
    path = tmp_path / "test./example./runsc"
    assert path.read_bytes() == b"V0\nE111\nH1\nS75\nD4.4.1\nU1795631403\n.\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "test.").stat().st_mode & 0o777 == 0o755
    assert store.read(REFUSED.host) == REFUSED
    upper = store.read("RUNSC.Example.TEST.")  # same file; the name is the one asked for
    assert upper is not None and upper.host == "RUNSC.Example.TEST."
    assert upper.last_use == REFUSED.last_use and upper.dsn == "4.4.1"


def test_reply_and_dsn_are_cut_to_80_and_lose_newlines(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    reply = "421 4.7.0 " + "x" * 100
    store.write(HostStatus("mx.example.org", 5, exit_status=75, dsn="4.7.0\nfoo", reply=reply))
    lines = (tmp_path / "org./example./mx").read_bytes().split(b"\n")
    assert lines[4] == b"D4.7.0 foo"
    assert lines[5] == b"R" + reply.encode()[:80]
    assert lines[6:] == [b"U5", b".", b""]
    back = store.read("mx.example.org")
    assert back is not None and back.reply == reply[:80]


def test_non_utf8_reply_round_trips(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    status = HostStatus("h.example", 1, reply="550 caf\udce9")
    store.write(status)
    assert (tmp_path / "example./h").read_bytes().count(b"caf\xe9") == 1
    assert store.read("h.example") == status


def test_missing_file_reads_none(tmp_path: Path) -> None:
    assert HostStatusStore(tmp_path).read("nowhere.example") is None


@pytest.mark.parametrize(
    ("text", "usable"),
    [
        ("V0\nE0\nH1\nS68\nD5.1.2\nU9\n.\n", True),
        ("V0\nE0\nH1\nS68\nU9\n", True),  # no end marker, but a version line
        ("E0\nS68\nU9\n.\n", True),  # no version line, but an end marker
        ("E0\nS68\nU9\n", False),  # neither
        ("V0\nX1\nU9\n.\n", False),  # unknown line letter
        ("V0\n\nU9\n.\n", False),  # an empty line is an unknown line
        ("V0\nS68\nU9\n.\nQjunk after the end\n", True),  # never read
    ],
)
def test_reading_rules(tmp_path: Path, text: str, usable: bool) -> None:
    put(tmp_path, "example./h", text)
    status = HostStatusStore(tmp_path).read("h.example")
    assert (status is not None) == usable
    if status is not None:
        assert status.last_use == 9


def test_unknown_line_is_logged_and_skipped_in_iter_all(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    put(tmp_path, "example./bad", "V0\nZ12\n.\n")
    put(tmp_path, "example./good", "V0\nE0\nH0\nS0\nU7\n.\n")
    caplog.set_level(logging.WARNING, logger="postroom.core.hoststat")
    assert list(HostStatusStore(tmp_path).iter_all()) == [(HostStatus("good.example", 7), False)]
    assert 'Unknown host status line "Z12"' in caplog.text
    assert "example./bad" in caplog.text


def test_numbers_are_read_like_atoi(tmp_path: Path) -> None:
    put(tmp_path, "example./h", "V0\nE12abc\nH 3\nS-1\nU99999999999999999999999\n.\n")
    status = HostStatusStore(tmp_path).read("h.example")
    assert status == HostStatus("h.example", 2**63 - 1, errno=12, h_errno=3, exit_status=-1)


def test_iter_all_rebuilds_names_and_reports_locks(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("[127.0.0.1]", 3, errno=111, exit_status=75))
    store.write(HostStatus("example.org", 4, exit_status=68, dsn="5.1.2"))
    with held_elsewhere(tmp_path, "example.org"):
        seen = dict((s.host, locked) for s, locked in store.iter_all())
    assert seen == {"127.0.0.1": False, "example.org": True}


def test_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(REFUSED)
    assert not store.is_locked(REFUSED.host)
    with held_elsewhere(tmp_path, REFUSED.host):
        assert store.is_locked(REFUSED.host)
        with pytest.raises(HostStatusLockedError):
            with store.lock(REFUSED.host):
                pass
        with pytest.raises(HostStatusLockedError):
            store.write(REFUSED)
        assert store.read(REFUSED.host) == REFUSED  # readers are never blocked
    assert not store.is_locked(REFUSED.host)
    with store.lock(REFUSED.host):
        assert store.is_locked(REFUSED.host)
        with pytest.raises(HostStatusLockedError):  # not re-entrant
            with store.lock(REFUSED.host):
                pass


def _try_lock(directory: Path, host: str) -> None:
    try:
        with HostStatusStore(directory).lock(host):
            os._exit(0)
    except HostStatusLockedError:
        os._exit(3)


def test_lock_follows_the_file_across_writes(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    with store.lock("mx.example.org"):
        for n in range(3):
            store.write(HostStatus("mx.example.org", n))
            proc = FORK.Process(target=_try_lock, args=(tmp_path, "mx.example.org"))
            proc.start()
            proc.join(30)
            assert proc.exitcode == 3, "the renamed-in file must still be locked"
            assert store.is_locked("mx.example.org")
    assert not store.is_locked("mx.example.org")
    assert store.read("mx.example.org") == HostStatus("mx.example.org", 2)
    assert sorted(os.listdir(tmp_path / "org./example.")) == ["mx"]  # no temp files left


def test_lock_without_write_leaves_no_empty_file(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    with store.lock("new.example.net"):
        assert (tmp_path / "net./example./new").exists()
        assert store.read("new.example.net") is None
        assert list(store.iter_all()) == []
    assert not (tmp_path / "net./example./new").exists()


def _hammer(directory: Path, rounds: int) -> None:
    store = HostStatusStore(directory)
    n = 0
    while n < rounds:
        reply = f"{n} " + "r" * (n % 70)
        try:
            store.write(HostStatus("busy.example", n, errno=n, exit_status=75, reply=reply))
        except HostStatusLockedError:
            continue  # the other writer has it; Sendmail would skip, we retry
        n += 1


def test_readers_never_see_half_a_file(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("busy.example", 0))
    writers = [FORK.Process(target=_hammer, args=(tmp_path, 400)) for _ in range(2)]
    for proc in writers:
        proc.start()
    reads = 0
    while any(proc.is_alive() for proc in writers) or reads < 200:
        status = store.read("busy.example")
        assert status is not None
        assert status.reply is None or status.reply.startswith(f"{status.last_use} ")
        assert status.errno == status.last_use
        reads += 1
    for proc in writers:
        proc.join(30)
        assert proc.exitcode == 0
    assert reads >= 200


def test_recent_failure(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(REFUSED)
    t = REFUSED.last_use
    assert store.recent_failure(REFUSED.host, timeout=1800, now=t + 1800) == REFUSED
    assert store.recent_failure(REFUSED.host, timeout=1800, now=t + 1801) is None
    store.write(HostStatus("ok.example", t, errno=110))  # S0: not a failure
    assert store.recent_failure("ok.example", timeout=1800, now=t) is None
    assert store.recent_failure("unknown.example", timeout=1800, now=t) is None
