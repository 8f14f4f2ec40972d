"""``queue.list`` with ``row_format="array"``: the object rows' values, on every path.

Over a real server process and the real local transport: from the rows index and from
the folder, sorted, filtered and paged, with a locked job, after the index was made by
an older version; in this process (the folder and worker paths forced, as in
``test_parallel``): the single-process and the parallel folder readers.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control import queue_methods, server
from postroom.core.control.client import RpcClient, RpcError
from postroom.core.control.queue_rows import has_rows_index
from postroom.core.queue import JobLock, QueueStore
from postroom.core.queue.listing_entry import Entry
from postroom.core.queue.listing_refresh import open_listing
from postroom.core.queue.listing_schema import rows_schema
from postroom.core.queue.listing_store import IndexFile, index_path

from .queuefill import fill_queue
from .support import connect, write_config

ORDER = ("queue_id", "queue_name", "arrival_time", "message_size", "sender", "recipients",
         "status", "attempts", "last_attempt", "next_try", "priority", "quarantine", "locked",
         "error")  # fmt: skip
"""The array row's values, as the protocol documents them (not imported: checked)."""

PARAMS: list[dict[str, Any]] = [
    {},
    {"sort": "none", "queues": ["queue", "hold", "lost"]},
    {"descending": True, "queues": ["queue", "hold", "lost"]},
    {"sort": "size", "descending": True},
    {"sort": "sender", "offset": 5, "limit": 17},
    {"sort": "priority", "domain": "example.net", "offset": 3, "limit": 20},
    {"sort": "arrival", "status": "refused", "min_age": 600},
    {"sort": "none", "sender": "SENDER1", "offset": 2, "limit": 9},
    {"recipient": "user1", "limit": 5},
    {"queues": ["hold"]},
    {"limit": 0},
]
WAIT = 60.0


def as_object(values: list[Any]) -> dict[str, Any]:
    """An array row read back as an object row (``recipients`` pairs as objects)."""
    assert isinstance(values, list) and len(values) == len(ORDER), values
    row = dict(zip(ORDER, values, strict=True))
    pairs = row["recipients"]
    assert all(isinstance(p, list) and len(p) == 2 for p in pairs), pairs
    row["recipients"] = [{"address": a, "delay_reason": r} for a, r in pairs]
    return row


def listed(rpc: RpcClient, params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """(rows, summary) of one streamed ``queue.list``."""
    rows: list[Any] = []
    summary = rpc.call("queue.list", params, on_chunk=rows.extend)
    return rows, summary


def assert_same_rows(
    objects: list[dict[str, Any]], arrays: list[Any], *, any_order: bool = False
) -> None:
    decoded = [as_object(a) for a in arrays]
    assert all(set(r) == set(ORDER) for r in objects)
    if any_order:  # sort="none" from several worker processes: any order
        objects, decoded = sorted(objects, key=_by_id), sorted(decoded, key=_by_id)
    assert [r["queue_id"] for r in decoded] == [r["queue_id"] for r in objects]
    for got, want in zip(decoded, objects, strict=True):
        for name in ORDER:  # field by field, so a failure names the field
            assert got[name] == want[name], (want["queue_id"], name)


def _by_id(row: dict[str, Any]) -> tuple[str, str]:
    return row["queue_name"], row["queue_id"]


def both(rpc: RpcClient, params: dict[str, Any]) -> None:
    """The object and the array listing of ``params`` agree, counts included."""
    objects, summary = listed(rpc, params)
    arrays, array_summary = listed(rpc, {**params, "row_format": "array"})
    assert array_summary == {**summary, "time": array_summary["time"]}
    assert_same_rows(objects, arrays)  # the index keeps one order, even for sort="none"


def make_queue(queue_dir: Path, count: int = 120) -> list[str]:
    ids = fill_queue(queue_dir, count)
    store = QueueStore(queue_dir, fsync=False)
    store.quarantine(ids[3], "held for review")
    store.quarantine(ids[4], "held by \u212aelvin ü")
    (queue_dir / ("qf" + ids[5])).rename(queue_dir / ("Qf" + ids[5]))
    (queue_dir / "qfBROKEN0000001").write_bytes(b"V8\nT12\nSsomeone\n")
    (queue_dir / ("df" + ids[6])).unlink()
    return ids


def wait_for_index(queue_dir: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not has_rows_index(queue_dir, 0):
        assert time.monotonic() < deadline, "the rows index was never built"
        time.sleep(0.05)


def test_server_info_lists_the_row_formats(rpc: RpcClient) -> None:
    assert rpc.call("server.info")["queue_list_row_formats"] == ["object", "array"]


def test_a_bad_row_format_is_refused_with_the_choices(rpc: RpcClient, queue_dir: Path) -> None:
    fill_queue(queue_dir, 2)
    for value in ("csv", "", 3, ["array"], True):
        with pytest.raises(RpcError) as info:
            rpc.call("queue.list", {"row_format": value})
        assert info.value.code == "bad_params", value
        assert "row_format must be one of object, array, not" in info.value.message, value
    assert len(rpc.call("queue.list", {"row_format": "object"})["rows"]) == 2


def test_array_rows_from_the_index_equal_the_object_rows(
    config_path: Path, queue_dir: Path
) -> None:
    ids = make_queue(queue_dir)
    open_listing(queue_dir, rows_schema(0)).close()  # the index the server keeps
    assert has_rows_index(queue_dir, 0)
    with IndexFile(index_path(queue_dir, "rows")) as index:
        assert len(index.section("arrays")) < 0.7 * len(index.section("rows"))
    rpc = connect(config_path)
    try:
        for params in PARAMS:
            both(rpc, params)
        with JobLock(queue_dir / ("qf" + ids[10])):  # a job being delivered
            both(rpc, {"sort": "none", "queues": ["queue", "hold", "lost"]})
            arrays, _ = listed(rpc, {"row_format": "array", "queue_id": ids[10]})
            (row,) = map(as_object, arrays)
            assert (row["locked"], row["queue_name"]) == (True, "active")
        rpc.call("queue.hold", {"id": ids[11], "reason": "checked by hand"})  # qf rewritten
        both(rpc, {"queues": ["queue", "hold", "lost"]})
        arrays, _ = listed(rpc, {"row_format": "array", "queues": ["hold"]})
        held = {r["queue_id"]: r for r in map(as_object, arrays)}
        assert held[ids[11]]["quarantine"] == "checked by hand"
        assert held[ids[4]]["quarantine"] == "held by \u212aelvin ü"
    finally:
        rpc.close()


def test_array_rows_read_from_the_folder_equal_the_object_rows(
    tmp_path: Path, config_path: Path, queue_dir: Path
) -> None:
    ids = make_queue(queue_dir)
    twin = write_config(tmp_path / "twin")  # the same jobs, for a second first listing
    (twin.parent / "mqueue").rmdir()
    shutil.copytree(queue_dir, twin.parent / "mqueue")
    params = {"sort": "none", "queues": ["queue", "hold", "lost"]}
    with JobLock(queue_dir / ("qf" + ids[10])), JobLock(twin.parent / "mqueue" / ("qf" + ids[10])):
        results = []
        for config, row_format in ((config_path, "object"), (twin, "array")):
            assert not has_rows_index(config.parent / "mqueue", 0)  # so: read from the folder
            rpc = connect(config)
            try:
                results.append(listed(rpc, {**params, "row_format": row_format}))
            finally:
                rpc.close()
    (objects, summary), (arrays, array_summary) = results
    assert array_summary["count"] == summary["count"] == len(ids) + 1
    assert_same_rows(objects, arrays, any_order=True)
    (row,) = [as_object(a) for a in arrays if a[0] == ids[10]]
    assert (row["locked"], row["queue_name"]) == (True, "active")


def test_an_index_made_before_arrays_is_rebuilt(config_path: Path, queue_dir: Path) -> None:
    make_queue(queue_dir, 30)
    current = rows_schema(0)

    def objects_only(control: Any) -> Entry:
        entry = current.entry(control)
        return dataclasses.replace(entry, texts=entry.texts[:1])

    older = dataclasses.replace(
        current, texts=("rows",), entry=objects_only, context=lambda: "MinQueueAge=0"
    )
    open_listing(queue_dir, older).close()
    assert index_path(queue_dir, "rows").exists() and not has_rows_index(queue_dir, 0)
    rpc = connect(config_path)
    try:
        both(rpc, {"queues": ["queue", "hold", "lost"]})  # from the folder
        wait_for_index(queue_dir)  # rebuilt after that answer
        both(rpc, {"queues": ["queue", "hold", "lost"]})  # from the new index
    finally:
        rpc.close()
    with IndexFile(index_path(queue_dir, "rows")) as index:
        assert index.section("arrays")


def serve_here(config: Path, params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """(rows, summary) of one queue.list answered by the server code in this process."""
    request = json.dumps({"id": 1, "method": "queue.list", "params": params}).encode() + b"\n"
    out = io.BytesIO()
    server.serve(io.BytesIO(request), out, config)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert "result" in lines[-1], lines[-1]
    return [r for m in lines if "chunk" in m for r in m["chunk"]], lines[-1]["result"]


@pytest.mark.parametrize("workers", [0, 3])
def test_the_folder_readers_send_arrays_on_every_request(
    config_path: Path, queue_dir: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    make_queue(queue_dir, 1300)
    monkeypatch.setattr(queue_methods, "list_rows", lambda *args: None)  # no index path
    monkeypatch.setattr(queue_methods, "has_rows_index", lambda *args: True)  # none built
    monkeypatch.setattr(queue_methods, "worker_count", lambda jobs: workers)
    for params in PARAMS:
        objects, summary = serve_here(config_path, params)
        arrays, array_summary = serve_here(config_path, {**params, "row_format": "array"})
        assert array_summary == {**summary, "time": array_summary["time"]}, params
        assert_same_rows(objects, arrays, any_order=params.get("sort") == "none")
