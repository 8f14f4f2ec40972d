"""The graph ring file: buckets, restart, torn records, wrap-around, fixed size, concurrency."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from postroom.core.stats import COUNTERS, GAUGES, TimeSeries, TimeSeriesError
from postroom.core.stats.timeseries import FILE_SIZE, HEADER_SIZE, RECORD_SIZE

T = 1_794_999_980  # 20 s into a minute
H = 3600
FORK = multiprocessing.get_context("fork")


def minute_offset(t: int) -> int:
    return HEADER_SIZE + (t // 60 % 2880) * RECORD_SIZE


def test_fresh_file_has_its_full_size(tmp_path: Path) -> None:
    path = tmp_path / "series"
    TimeSeries(path).close()
    assert path.stat().st_size == FILE_SIZE == 1024 + (2880 + 2160) * RECORD_SIZE
    assert path.read_bytes()[:8] == b"PRSERIES"
    assert os.listdir(tmp_path) == ["series"]
    empty = TimeSeries(path).read(T, T + 120, resolution="minute")
    assert empty.timestamps == (T - 20, T + 40, T + 100)
    assert empty["received"] == (0, 0, 0)
    assert empty["queue_size"] == (None, None, None)


def test_minute_and_hour_buckets(tmp_path: Path) -> None:
    with TimeSeries(tmp_path / "series") as ts:
        ts.add({"received": 2, "bytes_in": 5000}, now=T)
        ts.add({"received": 1}, now=T + 39)  # same minute
        ts.add({"received": 4, "rejected": 1}, now=T + 40)  # next minute
        ts.set_gauges({"queue_size": 10, "oldest_age": 3.5}, now=T)
        ts.set_gauges({"queue_size": 7}, now=T + 30)  # last value wins
        minutes = ts.read(T - 60, T + 60, resolution="minute")
        assert minutes.resolution == 60
        assert minutes.timestamps == (T - 80, T - 20, T + 40)
        assert minutes["received"] == (0, 3, 4)
        assert minutes["bytes_in"] == (0, 5000, 0)
        assert minutes["rejected"] == (0, 0, 1)
        assert minutes["queue_size"] == (None, 7.0, None)
        assert minutes["oldest_age"] == (None, 3.5, None)
        hours = ts.read(T, T, resolution="hour")
        assert hours.resolution == 3600 and hours.timestamps == (T // H * H,)
        assert hours["received"] == (7,)
        assert hours["queue_size"] == (7.0,)
        assert set(minutes.counters) == set(COUNTERS) and set(minutes.gauges) == set(GAUGES)


def test_auto_resolution(tmp_path: Path) -> None:
    with TimeSeries(tmp_path / "series") as ts:
        assert ts.read(T - 47 * H, T, now=T).resolution == 60
        assert ts.read(T - 49 * H, T, now=T).resolution == 3600
        assert len(ts.read(T - 30 * 86400, T, now=T).timestamps) == 30 * 24 + 1
        assert ts.read(T, T - 60).timestamps == ()


def test_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "series"
    with TimeSeries(path) as ts:
        ts.add({"delivered": 9}, now=T)
        ts.set_gauges({"queue_size": 3}, now=T)
    with TimeSeries(path) as again:
        data = again.read(T, T, resolution="minute")
        assert data["delivered"] == (9,) and data["queue_size"] == (3.0,)
        again.add({"delivered": 1}, now=T)
        assert again.read(T, T, resolution="hour")["delivered"] == (10,)


def test_torn_record_loses_only_its_bucket(tmp_path: Path) -> None:
    path = tmp_path / "series"
    with TimeSeries(path) as ts:
        ts.add({"received": 5}, now=T)
        ts.add({"received": 6}, now=T + 60)
    with open(path, "r+b") as handle:  # half a record rewritten, as by a crash mid-write
        handle.seek(minute_offset(T) + 8)
        handle.write(b"\x07" * (RECORD_SIZE // 2))
    with TimeSeries(path) as ts:
        assert ts.read(T, T + 60, resolution="minute")["received"] == (0, 6)
        assert ts.read(T, T, resolution="hour")["received"] == (11,)  # other ring intact
        ts.add({"received": 1}, now=T)  # the bucket starts again from empty
        assert ts.read(T, T + 60, resolution="minute")["received"] == (1, 6)


def test_wraps_around_after_48_hours(tmp_path: Path) -> None:
    with TimeSeries(tmp_path / "series") as ts:
        ts.add({"received": 5}, now=T)
        later = T + 48 * H  # same minute slot, two days on
        assert ts.read(later, later, resolution="minute")["received"] == (0,)  # stale slot
        ts.add({"received": 2}, now=later)
        assert ts.read(later, later, resolution="minute")["received"] == (2,)
        assert ts.read(T, T, resolution="minute")["received"] == (0,)  # overwritten
        assert ts.read(T, T, resolution="hour")["received"] == (5,)  # hours keep 90 days
        ts.add({"received": 3}, now=T)  # late update for a bucket already reused: dropped
        assert ts.read(later, later, resolution="minute")["received"] == (2,)
        assert ts.read(T, T, resolution="hour")["received"] == (8,)
        much_later = T + 90 * 86400
        ts.add({"received": 1}, now=much_later)
        assert ts.read(T, T, resolution="hour")["received"] == (0,)
        assert ts.read(much_later, much_later, resolution="hour")["received"] == (1,)


def test_never_grows(tmp_path: Path) -> None:
    path = tmp_path / "series"
    with TimeSeries(path) as ts:
        for step in range(0, 100 * 86400, 37 * 60 + 11):
            ts.add({"received": 1, "bytes_in": 2**40}, now=T + step)
            ts.set_gauges({"queue_size": step}, now=T + step)
    assert path.stat().st_size == FILE_SIZE


def test_bad_input(tmp_path: Path) -> None:
    with TimeSeries(tmp_path / "series") as ts:
        with pytest.raises(TimeSeriesError):
            ts.add({"queue_size": 1}, now=T)
        with pytest.raises(TimeSeriesError):
            ts.set_gauges({"received": 1}, now=T)
        with pytest.raises(ValueError):
            ts.add({"nonsense": 1}, now=T)
        with pytest.raises(TimeSeriesError):
            ts.read(0, T, resolution="minute")
    other = tmp_path / "other"
    other.write_bytes(b"\0" * FILE_SIZE)
    with pytest.raises(TimeSeriesError):
        TimeSeries(other)
    short = tmp_path / "short"
    short.write_bytes((tmp_path / "series").read_bytes()[:HEADER_SIZE])
    with pytest.raises(TimeSeriesError):
        TimeSeries(short)


def _writer(path: Path, rounds: int) -> None:
    ts = TimeSeries(path)
    for n in range(rounds):
        ts.add({"received": 1, "bytes_in": 10}, now=T + n % 3 * 60)
    ts.close()


def test_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "series"
    TimeSeries(path).close()
    procs = [FORK.Process(target=_writer, args=(path, 600)) for _ in range(5)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    with TimeSeries(path) as ts:
        assert ts.read(T, T + 120, resolution="minute")["received"] == (1000, 1000, 1000)
        assert ts.read(T, T, resolution="hour")["bytes_in"] == (30000,)
    assert path.stat().st_size == FILE_SIZE


def _create(path: Path) -> None:
    TimeSeries(path).add({"received": 1}, now=T)


def test_concurrent_creation_makes_one_file(tmp_path: Path) -> None:
    path = tmp_path / "series"
    procs = [FORK.Process(target=_create, args=(path,)) for _ in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert TimeSeries(path).read(T, T, resolution="minute")["received"] == (6,)
    assert os.listdir(tmp_path) == ["series"]
