"""``queue.list`` from the rows index gives the rows reading the folder gives."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control import queue_methods, server
from postroom.core.control.queue_rows import has_rows_index
from postroom.core.queue import QueueStore, quarantine
from postroom.core.queue.listing_refresh import open_listing
from postroom.core.queue.listing_schema import rows_schema
from postroom.core.queue.listing_store import index_path

from tests.control.queuefill import fill_queue
from tests.control.support import write_config

PARAMS: list[dict[str, Any]] = [
    {},
    {"sort": "none"},
    {"sort": "none", "queues": ["queue", "hold", "lost"]},
    {"queues": ["queue", "hold", "lost"]},
    {"descending": True},
    {"queues": ["hold"], "descending": True},
    {"sort": "size", "descending": True},
    {"sort": "sender"},
    {"sort": "priority", "domain": "example.net", "offset": 7, "limit": 60},
    {"sort": "arrival", "status": "refused", "min_age": 600},
    {"sort": "none", "sender": "SENDER1", "offset": 3},
    {"recipient": "user1", "limit": 5},
    {"queue_id": "A", "sort": "none"},
    {"sender": "\u212a"},  # KELVIN SIGN: lower-cases to an ASCII k
    {"limit": 0},
]


def call(config: Path, params: dict[str, Any]) -> tuple[list[list[dict[str, Any]]], Any]:
    """(chunks, result) of one queue.list served in this process."""
    request = json.dumps({"id": 1, "method": "queue.list", "params": params}).encode() + b"\n"
    out = io.BytesIO()
    server.serve(io.BytesIO(request), out, config)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [m["chunk"] for m in lines if "chunk" in m], lines[-1]["result"]


def from_folder(config: Path, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(queue_methods, "list_rows", lambda *args: None)
        patch.setattr(queue_methods, "has_rows_index", lambda *args: True)  # build no index
        return call(config, params)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A queue of 700 jobs, filled once and copied for each test."""
    q = tmp_path_factory.mktemp("template") / "mqueue"
    ids = fill_queue(q, 700)
    quarantine(q, ids[3], "held for review")
    quarantine(q, ids[4], "held by \u212aelvin")
    os.rename(q / ("qf" + ids[5]), q / ("Qf" + ids[5]))
    (q / "qfBROKEN0000001").write_bytes(b"V8\nT12\nSsomeone\n")
    (q / ("df" + ids[6])).unlink()
    return q


@pytest.fixture
def config(tmp_path: Path, template: Path) -> Path:
    path = write_config(tmp_path / "mta")
    q = tmp_path / "mta" / "mqueue"
    q.rmdir()
    shutil.copytree(template, q)
    return path


@pytest.mark.parametrize("params", PARAMS)
def test_rows_from_the_index_are_the_rows_of_the_folder(
    config: Path, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    q = config.parent / "mqueue"
    expected_chunks, expected = from_folder(config, params, monkeypatch)
    assert not index_path(q, "rows").exists()
    for _ in range(3):  # read from the folder (the index is built after), then from it
        chunks, result = call(config, params)
        assert result == {**expected, "time": result["time"]}
        if params.get("sort") == "none" and ("offset" in params or "limit" in params):
            continue  # a page of an unspecified order: only the counts can agree
        if params.get("sort") == "none":  # any order; the same rows
            key = lambda r: (r["queue_name"], r["queue_id"])  # noqa: E731
            flat = sorted((r for c in chunks for r in c), key=key)
            assert flat == sorted((r for c in expected_chunks for r in c), key=key)
        else:
            assert chunks == expected_chunks
    assert index_path(q, "rows").exists()


def test_rows_follow_changes_and_locks(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    q = config.parent / "mqueue"
    call(config, {})
    store = QueueStore(q, fsync=False)
    writer = store.new_message()
    writer.write(b"new\n")
    from tests.control.queuefill import job_qf

    writer.commit(job_qf(writer.qid, 4, 3, 1_800_000_000))
    victim = sorted(n for n in os.listdir(q) if n.startswith("qf"))[10]
    with open(q / victim, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        chunks, _ = call(config, {"sort": "none"})
        rows = {r["queue_id"]: r for c in chunks for r in c}
        assert rows[victim[2:]]["locked"] is True
        assert rows[victim[2:]]["queue_name"] == "active"
        assert writer.qid in rows
        assert from_folder(config, {}, monkeypatch)[0] == call(config, {})[0]
    listing = open_listing(q, rows_schema(0))
    try:
        assert (listing.origin, listing.reread) in (("scan", 0), ("stamp", 0))
    finally:
        listing.close()


def test_an_unreadable_job_makes_the_server_read_the_folder(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    q = config.parent / "mqueue"
    os.symlink("/nonexistent", q / "qfSYMLINK000001")
    chunks, result = call(config, {})
    assert (chunks, result["count"]) == (from_folder(config, {}, monkeypatch)[0], result["count"])
    broken = [r for c in chunks for r in c if r["queue_id"] == "SYMLINK000001"]
    assert broken and broken[0]["error"]


def test_the_first_listing_reads_the_folder_and_leaves_an_index(config: Path) -> None:
    q = config.parent / "mqueue"
    assert not has_rows_index(q, 0)
    chunks, result = call(config, {"sort": "none"})  # streamed from the folder
    assert result["count"] == sum(len(c) for c in chunks) > 0
    assert has_rows_index(q, 0)  # built after the answer, before the session ended
    listing = open_listing(q, rows_schema(0))
    try:
        assert listing.reread == 0
    finally:
        listing.close()
