"""Queue ids: Sendmail 8.12+ format, sequence, 3600-per-second limit, fork safety."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from postroom.core.queue.errors import InvalidQueueIdError
from postroom.core.queue.qid import QueueIdGenerator, check_qid, encode_qid, qid_time

T = 1795631386  # Wed, 25 Nov 2026 18:29:46 GMT (transcript id 6APITkJh015270)


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += 1


def test_transcript_id_is_reproduced() -> None:
    seq = 19 * 60 + 43  # "Jh"
    assert encode_qid(T, seq, 15270) == "6APITkJh015270"
    gen = QueueIdGenerator(clock=lambda: T + 0.5, pid=lambda: 15270, offset=lambda: seq)
    assert gen.next_id() == "6APITkJh015270"
    assert gen.next_id() == "6APITkJi015270"


def test_decode_time() -> None:
    assert qid_time("6APITkJh015270") == datetime(2026, 11, 25, 18, 29, 46, tzinfo=UTC)
    assert qid_time("6APITkJh015270", now=datetime(2080, 1, 1, tzinfo=UTC)).year == 2026 + 60 - 60
    assert qid_time("6APITkJh1234567").second == 46  # 7-digit pid


@pytest.mark.parametrize("bad", ["", "6APITkJh", "6CPITkJh015270", "6AzITkJh015270", "../etc"])
def test_decode_rejects_bad_ids(bad: str) -> None:
    with pytest.raises(InvalidQueueIdError):
        qid_time(bad)


def test_check_qid_refuses_path_characters() -> None:
    assert check_qid("6APITkJh015270") == "6APITkJh015270"
    for bad in ("", "../x", "a/b", "a" * 19, "abc\n"):
        with pytest.raises(InvalidQueueIdError):
            check_qid(bad)


def test_sequence_wraps_and_ids_are_unique_within_a_second() -> None:
    clock = FakeClock(T)
    gen = QueueIdGenerator(clock=clock, pid=lambda: 42, offset=lambda: 3599, sleep=clock.sleep)
    ids = [gen.next_id() for _ in range(3600)]
    assert len(set(ids)) == 3600
    assert ids[0][6:8] == "xx" and ids[1][6:8] == "00"  # (0 + 3599) and (1 + 3599) mod 3600
    assert all(i[:6] == "6APITk" and i.endswith("000042") for i in ids)
    assert clock.sleeps == []


def test_3601st_id_in_one_second_waits_for_the_next_second() -> None:
    clock = FakeClock(T)
    gen = QueueIdGenerator(clock=clock, pid=lambda: 42, offset=lambda: 0, sleep=clock.sleep)
    for _ in range(3600):
        gen.next_id()
    nxt = gen.next_id()
    assert len(clock.sleeps) == 1
    assert nxt == encode_qid(T + 1, 0, 42)


def test_new_second_restarts_counter_at_the_offset() -> None:
    clock = FakeClock(T)
    gen = QueueIdGenerator(clock=clock, pid=lambda: 7, offset=lambda: 100)
    first = gen.next_id()
    gen.next_id()
    clock.now += 1
    assert gen.next_id() == encode_qid(T + 1, 100, 7)
    assert first == encode_qid(T, 100, 7)


def test_pid_change_after_fork_restarts_counter_and_offset() -> None:
    pids = iter([100, 100, 200])
    offsets = iter([5, 9])
    gen = QueueIdGenerator(clock=lambda: T, pid=lambda: next(pids), offset=lambda: next(offsets))
    assert gen.next_id() == encode_qid(T, 5, 100)
    assert gen.next_id() == encode_qid(T, 6, 100)
    assert gen.next_id() == encode_qid(T, 9, 200)


def test_real_generator_uses_this_process() -> None:
    import os

    qid = QueueIdGenerator().next_id()
    assert qid.endswith(f"{os.getpid():06d}") and len(qid) >= 14
    assert abs((qid_time(qid) - datetime.now(UTC)).total_seconds()) < 5
