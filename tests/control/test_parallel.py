"""Reading a large queue with worker processes gives exactly what one process gives."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control import queue_methods, queue_parallel, server
from postroom.core.control.queue_scan import control_names
from postroom.core.control.queue_select import Selection

from .queuefill import fill_queue


def listing(config: Path, params: dict[str, Any]) -> tuple[list[list[dict[str, Any]]], Any]:
    """(chunks, result) of one queue.list served in this process."""
    request = json.dumps({"id": 1, "method": "queue.list", "params": params}).encode() + b"\n"
    out = io.BytesIO()
    server.serve(io.BytesIO(request), out, config)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [m["chunk"] for m in lines if "chunk" in m], lines[-1]["result"]


@pytest.fixture(autouse=True)
def folder_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about reading the folder (the rows index serves it otherwise)."""
    monkeypatch.setattr(queue_methods, "list_rows", lambda *args: None)
    monkeypatch.setattr(queue_methods, "has_rows_index", lambda *args: True)


@pytest.fixture
def big(config_path: Path, queue_dir: Path) -> Path:
    fill_queue(queue_dir, 1300)
    (queue_dir / "qfBROKEN0000001").write_bytes(b"V8\nT12\nSsomeone\n")
    return config_path


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "size", "descending": True},
        {"sort": "sender"},
        {"sort": "priority", "domain": "example.net", "offset": 7, "limit": 600},
        {"sort": "arrival", "status": "refused", "min_age": 600},
    ],
)
def test_sorted_listings_match(
    big: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]
) -> None:
    single_chunks, single = listing(big, params)
    monkeypatch.setattr(queue_methods, "worker_count", lambda jobs: 3)
    parallel_chunks, parallel = listing(big, params)
    assert parallel == {**single, "time": parallel["time"]}
    assert [len(c) for c in parallel_chunks] == [len(c) for c in single_chunks]
    flat = [r for c in parallel_chunks for r in c]
    assert flat == [r for c in single_chunks for r in c]


def test_streamed_listing_has_the_same_rows(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    single_chunks, single = listing(big, {"sort": "none", "sender": "sender1"})
    spawned: list[int] = []
    real = queue_parallel.subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> Any:
        spawned.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(queue_parallel.subprocess, "Popen", popen)
    monkeypatch.setattr(queue_methods, "worker_count", lambda jobs: 3)
    parallel_chunks, parallel = listing(big, {"sort": "none", "sender": "sender1"})
    assert parallel["count"] == parallel["matched"] == single["count"] > 0
    key = lambda r: r["queue_id"]  # noqa: E731
    rows = sorted((r for c in parallel_chunks for r in c), key=key)
    assert rows == sorted((r for c in single_chunks for r in c), key=key)
    assert all(len(c) <= 500 for c in parallel_chunks)
    assert len(spawned) == 3


def test_worker_count_follows_size_and_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert queue_parallel.worker_count(queue_parallel.PARALLEL_MIN - 1) == 0
    assert queue_parallel.worker_count(queue_parallel.PARALLEL_MIN) == 4
    monkeypatch.setattr(queue_parallel.os, "sched_getaffinity", lambda pid: {0})
    assert queue_parallel.worker_count(10**6) == 0


def test_a_failing_worker_is_an_error(queue_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_queue(queue_dir, 5)
    names = control_names(queue_dir, ("qf",))
    monkeypatch.setattr(queue_parallel, "_COMMAND", ["false"])
    with pytest.raises(OSError, match="exit status 1"):
        queue_parallel.sorted_rows(
            queue_dir, names, 2, selection=Selection(prefixes=("qf",)), now=0, min_queue_age=0
        )
