"""``queue.delete``, ``queue.hold`` and ``queue.release``: atomic and lock-respecting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from postroom.core.control.client import RpcClient, RpcError
from postroom.core.queue import JobLock, parse_qf

from .queuefill import fill_queue


def files(queue_dir: Path) -> set[str]:
    return set(os.listdir(queue_dir))


def test_delete_removes_control_and_data_files(rpc: RpcClient, queue_dir: Path) -> None:
    a, b, c = fill_queue(queue_dir, 3)
    (queue_dir / f"xf{a}").write_text("transcript")
    assert rpc.call("queue.delete", {"ids": [a, b]}) == {"done": [a, b], "failed": []}
    assert files(queue_dir) == {f"qf{c}", f"df{c}"}
    assert [r["queue_id"] for r in rpc.call("queue.list")["rows"]] == [c]


def test_hold_and_release_round_trip(rpc: RpcClient, queue_dir: Path) -> None:
    a, b = fill_queue(queue_dir, 2)
    assert rpc.call("queue.hold", {"ids": [a, b], "reason": "check with abuse desk"})["done"] == [
        a,
        b,
    ]
    assert files(queue_dir) == {f"hf{a}", f"df{a}", f"hf{b}", f"df{b}"}
    held = parse_qf((queue_dir / f"hf{a}").read_bytes())
    assert held.quarantine == "check with abuse desk"
    assert rpc.call("queue.hold", {"id": a, "reason": "new reason"})["done"] == [a]
    assert parse_qf((queue_dir / f"hf{a}").read_bytes()).quarantine == "new reason"
    assert rpc.call("queue.release", {"id": a}) == {"done": [a], "failed": []}
    assert parse_qf((queue_dir / f"qf{a}").read_bytes()).quarantine is None
    assert rpc.call("queue.delete", {"id": b})["done"] == [b]
    assert files(queue_dir) == {f"qf{a}", f"df{a}"}


def test_a_locked_job_is_refused_by_name_and_nothing_changes(
    rpc: RpcClient, queue_dir: Path
) -> None:
    a, b, c = fill_queue(queue_dir, 3)
    before = files(queue_dir)
    with JobLock(queue_dir / f"qf{b}"):
        for method, params in (
            ("queue.delete", {"ids": [a, b, c]}),
            ("queue.hold", {"ids": [a, b, c], "reason": "x"}),
        ):
            with pytest.raises(RpcError) as info:
                rpc.call(method, params)
            assert info.value.code == "locked"
            assert b in info.value.message and "nothing was changed" in info.value.message
            assert info.value.data == {"ids": [b]}
            assert files(queue_dir) == before
    assert rpc.call("queue.delete", {"ids": [a, b, c]})["done"] == [a, b, c]


def test_missing_jobs_are_refused_and_nothing_changes(rpc: RpcClient, queue_dir: Path) -> None:
    (a,) = fill_queue(queue_dir, 1)
    before = files(queue_dir)
    with pytest.raises(RpcError) as info:
        rpc.call("queue.delete", {"ids": [a, "ZZZZZZZZ000001"]})
    assert info.value.code == "not_found" and info.value.data == {"ids": ["ZZZZZZZZ000001"]}
    with pytest.raises(RpcError) as info:
        rpc.call("queue.release", {"id": a})  # not held
    assert info.value.code == "not_found" and "held" in info.value.message
    assert files(queue_dir) == before


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("queue.delete", {}),
        ("queue.delete", {"ids": []}),
        ("queue.delete", {"ids": ["../../etc/passwd"]}),
        ("queue.delete", {"id": "A", "ids": ["B"]}),
        ("queue.delete", {"ids": "AAAA"}),
        ("queue.hold", {"id": "AAAAAAAA000001"}),
        ("queue.hold", {"id": "AAAAAAAA000001", "reason": ""}),
        ("queue.hold", {"id": "AAAAAAAA000001", "reason": "two\nlines"}),
        ("queue.release", {"id": 5}),
    ],
)
def test_bad_params(rpc: RpcClient, method: str, params: dict[str, object]) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call(method, params)
    assert info.value.code == "bad_params"
