"""``queue.list``, ``queue.show`` and ``queue.shape`` over a real server process."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control.client import RpcClient, RpcError
from postroom.core.control.protocol import CHUNK_ROWS
from postroom.core.queue import JobLock, QueueStore
from postroom.gui.transport import LocalTransport

from .queuefill import AGES, fill_queue
from .support import SERVER, connect, write_config


def test_ten_thousand_jobs_stream_in_chunks(rpc: RpcClient, queue_dir: Path) -> None:
    ids = fill_queue(queue_dir, 10_000)
    chunks: list[int] = []
    rows: list[dict[str, Any]] = []

    def take(chunk: list[dict[str, Any]]) -> None:
        chunks.append(len(chunk))
        rows.extend(chunk)

    result = rpc.call("queue.list", {"sort": "none"}, on_chunk=take)
    assert result["count"] == result["matched"] == result["scanned"] == 10_000
    assert len(chunks) == 10_000 // CHUNK_ROWS and set(chunks) == {CHUNK_ROWS}
    assert sorted(r["queue_id"] for r in rows) == sorted(ids)
    ordered = rpc.call("queue.list")["rows"]
    times = [r["arrival_time"] for r in ordered]
    assert times == sorted(times) and len(ordered) == 10_000


def test_rows_look_like_postqueue_json(rpc: RpcClient, queue_dir: Path) -> None:
    (qid,) = fill_queue(queue_dir, 1)
    (row,) = rpc.call("queue.list")["rows"]
    assert row["queue_id"] == qid
    assert row["queue_name"] == "incoming"
    assert row["sender"] == "sender0@origin.test"
    assert row["message_size"] == (queue_dir / f"df{qid}").stat().st_size
    assert row["recipients"] == [
        {"address": "user0@example.org", "delay_reason": ""},
        {"address": "other0@example.net", "delay_reason": ""},
    ]
    assert (row["attempts"], row["locked"], row["quarantine"], row["error"]) == (
        0,
        False,
        None,
        None,
    )
    assert row["next_try"] == row["arrival_time"]
    assert abs(time.time() - AGES[0] - row["arrival_time"]) < 120


def test_deferred_rows_carry_attempts_and_per_recipient_status(
    rpc: RpcClient, queue_dir: Path
) -> None:
    fill_queue(queue_dir, 2)
    row = next(r for r in rpc.call("queue.list")["rows"] if r["attempts"])
    assert row["queue_name"] == "deferred"
    assert row["recipients"][0]["delay_reason"] == "Deferred: Connection refused by mx.example.net"
    assert row["recipients"][1]["delay_reason"] == ""
    assert row["last_attempt"] and row["next_try"] == row["last_attempt"]


def test_filters_sorting_and_paging(rpc: RpcClient, queue_dir: Path) -> None:
    fill_queue(queue_dir, 40)

    def ids(**params: Any) -> list[str]:
        return [r["queue_id"] for r in rpc.call("queue.list", params)["rows"]]

    every = rpc.call("queue.list")["rows"]
    by_sender = [r["queue_id"] for r in every if "sender3@" in r["sender"]]
    assert sorted(ids(sender="SENDER3@")) == sorted(by_sender)
    gmail = [
        r["queue_id"] for r in every if any("gmail.test" in x["address"] for x in r["recipients"])
    ]
    assert sorted(ids(domain="GMAIL.test")) == sorted(gmail) and gmail
    assert sorted(ids(recipient="user7@")) == [
        r["queue_id"] for r in every if r["recipients"][0]["address"].startswith("user7@")
    ]
    refused = ids(status="connection refused")
    assert refused and len(refused) == sum(1 for r in every if r["attempts"])
    old = ids(min_age=3000)
    assert set(old) == {r["queue_id"] for r in every if time.time() - r["arrival_time"] >= 3000}
    sizes = [
        r["message_size"]
        for r in rpc.call("queue.list", {"sort": "size", "descending": True})["rows"]
    ]
    assert sizes == sorted(sizes, reverse=True)
    assert ids(offset=10, limit=5) == [r["queue_id"] for r in every][10:15]
    page = rpc.call("queue.list", {"offset": 38, "limit": 5})
    assert (page["count"], page["matched"]) == (2, 40)


def test_bad_list_params(rpc: RpcClient) -> None:
    for params in (
        {"sort": "colour"},
        {"min_age": -1},
        {"limit": "ten"},
        {"queues": ["mqueue"]},
        {"sender": "a\nb"},
        {"descending": "yes"},
    ):
        with pytest.raises(RpcError) as info:
            rpc.call("queue.list", params)
        assert info.value.code == "bad_params", params


def test_held_locked_and_damaged_jobs_are_listed_as_such(rpc: RpcClient, queue_dir: Path) -> None:
    held, locked, *_ = fill_queue(queue_dir, 3)
    QueueStore(queue_dir, fsync=False).quarantine(held, "looks like spam")
    (queue_dir / "qfBROKEN0000001").write_bytes(b"V8\nT12\nSsomeone\n")
    with JobLock(queue_dir / f"qf{locked}"):
        rows = {r["queue_id"]: r for r in rpc.call("queue.list")["rows"]}
    assert rows[held]["queue_name"] == "hold" and rows[held]["quarantine"] == "looks like spam"
    assert rows[held]["next_try"] is None
    assert rows[locked]["locked"] is True and rows[locked]["queue_name"] == "active"
    assert "no final '.' line" in rows["BROKEN0000001"]["error"]
    only_held = rpc.call("queue.list", {"queues": ["hold"]})["rows"]
    assert [r["queue_id"] for r in only_held] == [held]
    assert held not in {
        r["queue_id"] for r in rpc.call("queue.list", {"queues": ["queue"]})["rows"]
    }


def test_show_returns_envelope_recipients_headers_and_body(rpc: RpcClient, queue_dir: Path) -> None:
    qid, deferred = fill_queue(queue_dir, 2, body_size=5000)
    job = rpc.call("queue.show", {"id": qid, "body_bytes": 100})
    assert job["envelope"]["sender"] == "<sender0@origin.test>"
    assert [r["address"] for r in job["recipients"]] == [
        "<user0@example.org>",
        "<other0@example.net>",
    ]
    assert {"name": "Return-Path", "value": "<$g>", "condition": "P"} in job["headers"]
    assert job["body"].startswith("Body of message 0") and len(job["body"]) == 100
    assert job["body_truncated"] is True
    other = rpc.call("queue.show", {"id": deferred})
    assert other["recipients"][0]["status"].startswith("Deferred:")
    assert other["body_truncated"] is False and len(other["body"]) == 5000


def test_show_errors(rpc: RpcClient, queue_dir: Path) -> None:
    (queue_dir / "qfDAMAGED000001").write_bytes(b"V8\nT1\nXbogus\n.\n")
    broken = rpc.call("queue.show", {"id": "DAMAGED000001"})
    assert "unrecognized line" in broken["error"] and "Xbogus" in broken["control_text"]
    cases = [
        ({"id": "NOSUCHJOB00001"}, "not_found"),
        ({"id": "../etc"}, "bad_params"),
        ({}, "bad_params"),
        ({"id": "A", "body_bytes": 10**9}, "bad_params"),
    ]
    for params, code in cases:
        with pytest.raises(RpcError) as info:
            rpc.call("queue.show", params)
        assert info.value.code == code, params


def test_shape_counts_domains_in_age_buckets(rpc: RpcClient, queue_dir: Path) -> None:
    fill_queue(queue_dir, 70)
    shape = rpc.call("queue.shape")
    assert shape["buckets"] == ["0-5m", "5-10m", "10-20m", "20-40m", "40-80m", "80-160m", "160m+"]
    assert shape["total"]["total"] == 70 and sum(shape["total"]["counts"]) == 70
    rows = {r["domain"]: r for r in shape["rows"]}
    assert set(rows) == {
        "example.org",
        "example.net",
        "mail.example.com",
        "gmail.test",
        "corp.test",
    }
    assert all(sum(r["counts"]) == r["total"] for r in rows.values())
    assert shape["rows"][0]["total"] >= shape["rows"][-1]["total"]
    top = rpc.call("queue.shape", {"top": 2, "by": "sender"})
    assert [r["domain"] for r in top["rows"]] == ["origin.test"] and top["other"]["domains"] == 0
    with pytest.raises(RpcError) as info:
        rpc.call("queue.shape", {"by": "colour"})
    assert info.value.code == "bad_params"


def test_restrictmailq_refuses_a_user_outside_the_queue_group() -> None:
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the server as another user")
    base = Path(tempfile.mkdtemp(prefix="postroom-rpc-"))  # pytest's tmp is 0700
    try:
        os.chmod(base, 0o755)
        config = write_config(base)
        text = config.read_text().replace('["authwarnings"]', '["authwarnings", "restrictmailq"]')
        config.write_text(text)
        client = connect_as_nobody(config)
        try:
            with pytest.raises(RpcError) as info:
                client.call("queue.list")
            assert info.value.code == "permission_denied"
            assert "not permitted to see the queue" in info.value.message
            assert client.call("server.info")["caller"]["may_see_queue"] is False
            with pytest.raises(RpcError) as info:
                client.call("queue.delete", {"id": "AAAAAAAA000001"})
            assert info.value.code == "permission_denied"
        finally:
            client.close()
    finally:
        shutil.rmtree(base)


def connect_as_nobody(config: Path) -> RpcClient:
    transport = LocalTransport(
        config, command=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *SERVER]
    )
    return RpcClient(transport, timeout=60)


def test_connect_helper_gives_independent_sessions(config_path: Path) -> None:
    a, b = connect(config_path), connect(config_path)
    try:
        assert a.call("server.info")["pid"] != b.call("server.info")["pid"]
    finally:
        a.close()
        b.close()
