"""The StatusFile struct, Sendmail's merge rule, reading, reset and concurrent merges."""

from __future__ import annotations

import multiprocessing
import os
import struct
from pathlib import Path

import pytest
from postroom.core.stats import (
    MAILERS,
    StatCounters,
    Statistics,
    StatsFormatError,
    StatsOpenError,
    StatusFile,
)
from postroom.core.stats.statusfile import kbytes, wrap_long

T0 = 1795631359
GOOD = Statistics(1).pack()
V3 = b"\xde\xb1\1\0\3\0\0\0" + b"\0" * 1440
BAD_SIZE = GOOD[:16] + b"\0\4" + GOOD[18:]
FORK = multiprocessing.get_context("fork")


def counters() -> StatCounters:
    c = StatCounters()
    for _ in range(7):
        c.received(MAILERS.index("local"), 1500)
    c.delivered(MAILERS.index("*file*"), 1001)
    c.rejected(MAILERS.index("esmtp"))
    c.discarded(MAILERS.index("esmtp"))
    c.quarantined(MAILERS.index("relay"))
    c.connection_in()
    c.connection_out()
    return c


def test_layout_is_sendmails_x86_64_struct(tmp_path: Path) -> None:
    data = Statistics(T0, cf=8, cr=1, nf=(1,) + (0,) * 24, nq=(0,) * 24 + (9,)).pack()
    assert len(data) == 1448
    assert data[:8] == bytes.fromhex("deb1010004000000")
    assert data[8:16] == struct.pack("<q", T0)
    assert data[16:24] == bytes.fromhex("a805000000000000")  # short 1448, 6 bytes padding
    assert struct.unpack_from("<3q", data, 24) == (8, 0, 1)
    assert struct.unpack_from("<q", data, 48) == (1,)  # nf[0]
    assert struct.unpack_from("<q", data, 1440) == (9,)  # nq[24]
    assert Statistics.unpack(data) == Statistics(
        T0, cf=8, cr=1, nf=(1,) + (0,) * 24, nq=(0,) * 24 + (9,)
    )


def test_counters() -> None:
    c = counters()
    assert (c.nf[3], c.bf[3], c.nt[1], c.bt[1]) == (7, 14, 1, 2)
    assert (c.nr[5], c.nd[5], c.cr, c.nq[8], c.cf, c.ct) == (1, 1, 2, 1, 1, 1)
    assert not c.empty()
    c.clear()
    assert c.empty() and c == StatCounters()
    with pytest.raises(ValueError):
        c.received(25, 1)
    assert [kbytes(n) for n in (0, 1, 999, 1000, 1001)] == [0, 1, 1, 1, 2]
    assert wrap_long(2**63) == -(2**63)


def test_merge_never_creates_the_file(tmp_path: Path) -> None:
    c = counters()
    StatusFile(tmp_path / "statistics").merge(c, now=T0)
    assert not (tmp_path / "statistics").exists()
    assert not c.empty()  # nothing was posted, nothing is forgotten


def test_merge_into_empty_file_then_add(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.touch()
    sf = StatusFile(path)
    c = counters()
    sf.merge(c, now=T0)
    assert c.empty()  # cleared after posting, like Sendmail's clearstats
    first = sf.read()
    assert first == Statistics.from_counters(counters(), T0)
    sf.merge(counters(), now=T0 + 500)
    second = sf.read()
    assert second.itime == T0  # the start time stays
    assert second.nf[3] == 14 and second.cr == 4 and second.cf == 2
    assert path.stat().st_size == 1448


def test_empty_counters_leave_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.touch()
    StatusFile(path).merge(StatCounters(), now=T0)
    assert path.read_bytes() == b""


@pytest.mark.parametrize(
    "junk",
    [
        b"\0" * 1448,  # bad magic
        V3,  # version 3
        GOOD[:1000],  # short
        BAD_SIZE,  # size field
    ],
)
def test_unusable_file_is_overwritten_with_ours(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "statistics"
    path.write_bytes(junk)
    StatusFile(path).merge(counters(), now=T0 + 7)
    assert StatusFile(path).read() == Statistics.from_counters(counters(), T0 + 7)


def test_file_never_grows(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.write_bytes(Statistics(T0).pack() + b"trailing junk")
    StatusFile(path).merge(counters(), now=T0)
    assert path.stat().st_size == 1448 + len(b"trailing junk")
    assert StatusFile(path).read().nf[3] == 7  # the first 1448 bytes are the struct


def test_links_and_non_files_are_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.touch()
    (tmp_path / "sym").symlink_to(real)
    os.link(real, tmp_path / "hard")
    StatusFile(tmp_path / "sym").merge(counters(), now=T0)
    StatusFile(tmp_path / "hard").merge(counters(), now=T0)
    assert real.read_bytes() == b""
    (tmp_path / "dir").mkdir()
    StatusFile(tmp_path / "dir").merge(counters(), now=T0)


def test_read_empty_file_is_zero_from_now(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.touch()
    assert StatusFile(path).read(now=T0 + 0.9) == Statistics(T0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\0" * 1448, "mailstats: incorrect magic number in {f}"),
        (V3, "mailstats version (4) incompatible with {f} version (3)"),
        (GOOD[:1447], "mailstats: file size changed."),
        (BAD_SIZE, "mailstats: file size changed."),
        (b"\xde\xb1", "mailstats: incorrect magic number in {f}"),
    ],
)
def test_read_errors_have_sendmails_texts(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "statistics"
    path.write_bytes(data)
    with pytest.raises(StatsFormatError) as info:
        StatusFile(str(path)).read()
    assert str(info.value) == message.format(f=path)
    assert info.value.exit_code == 71


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StatsOpenError) as info:
        StatusFile(tmp_path / "nope").read()
    assert str(info.value) == f"mailstats: {tmp_path}/nope: No such file or directory"
    assert info.value.exit_code == 66
    with pytest.raises(StatsOpenError):
        StatusFile(tmp_path / "nope").reset()
    assert not (tmp_path / "nope").exists()


def test_reset_and_read_and_reset(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.touch()
    sf = StatusFile(path)
    sf.merge(counters(), now=T0)
    sf.reset()
    assert path.read_bytes() == b""
    sf.merge(counters(), now=T0 + 60)
    assert sf.read_and_reset(now=T0 + 90) == Statistics.from_counters(counters(), T0 + 60)
    assert path.read_bytes() == b""
    assert sf.read(now=T0 + 120) == Statistics(T0 + 120)


def _merge_many(path: Path, rounds: int, mailer: int) -> None:
    sf = StatusFile(path)
    for _ in range(rounds):
        c = StatCounters()
        c.received(mailer, 2500)
        c.delivered(4, 10)
        c.connection_in()
        sf.merge(c)


def test_concurrent_merges_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.touch()
    procs = [FORK.Process(target=_merge_many, args=(path, 300, m)) for m in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    stats = StatusFile(path).read()
    assert stats.nf[:6] == (300,) * 6
    assert stats.bf[:6] == (900,) * 6
    assert stats.nt[4] == 1800 and stats.bt[4] == 1800
    assert stats.cf == 1800
    assert path.stat().st_size == 1448
