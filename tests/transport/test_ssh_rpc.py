"""The RPC over SSH to a real OpenSSH server: info, a streamed list, a mutation, events."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control.client import RpcClient, TransportError
from postroom.core.control.protocol import CHUNK_ROWS

from tests.control.queuefill import fill_queue

from .conftest import QUEUE_SIZE, Connect
from .sshd import SshServer


def test_server_info_over_ssh(ssh_rpc: RpcClient, remote_config: Path) -> None:
    info = ssh_rpc.call("server.info")
    assert info["protocol"] == 1 and info["config_path"] == str(remote_config)
    assert info["config_valid"] is True


def test_ten_thousand_rows_stream_over_ssh(ssh_rpc: RpcClient) -> None:
    chunks: list[int] = []
    result = ssh_rpc.call("queue.list", on_chunk=lambda rows: chunks.append(len(rows)))
    assert result["count"] == QUEUE_SIZE == sum(chunks)
    assert len(chunks) == QUEUE_SIZE // CHUNK_ROWS
    rows = ssh_rpc.call("queue.list", {"limit": 3})["rows"]
    assert len(rows) == 3 and rows[0]["recipients"]


def test_a_mutation_and_its_event_over_ssh(ssh_rpc: RpcClient, remote_config: Path) -> None:
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    ssh_rpc.on_event(lambda name, data: events.put(data), "queue.changed")
    ssh_rpc.call("events.subscribe", {"interval": 0.05})
    (qid,) = fill_queue(remote_config.parent / "mqueue", 1)
    assert events.get(timeout=30)["queued"] == QUEUE_SIZE + 1
    assert ssh_rpc.call("queue.hold", {"id": qid, "reason": "over ssh"})["done"] == [qid]
    while events.get(timeout=30)["held"] != 1:
        pass
    held = ssh_rpc.call("queue.list", {"queues": ["hold"]})["rows"]
    assert [(r["queue_id"], r["quarantine"]) for r in held] == [(qid, "over ssh")]
    assert ssh_rpc.call("queue.delete", {"id": qid})["done"] == [qid]


def test_a_connection_killed_mid_stream_is_a_clean_error_without_a_result(
    make_transport: Connect, sshd: SshServer
) -> None:
    transport = make_transport()
    transport.connect()
    client = RpcClient(transport, timeout=120)
    killed = threading.Event()
    rows_seen: list[int] = []

    def on_chunk(rows: list[Any]) -> None:
        rows_seen.append(len(rows))
        if not killed.is_set():
            assert sshd.kill_sessions(), "no sshd session process found"
            killed.set()

    call = client.call_async("queue.list", {"sort": "none"}, on_chunk=on_chunk)
    with pytest.raises(TransportError, match="lost"):
        call.result(60)
    assert killed.is_set() and sum(rows_seen) < QUEUE_SIZE
    with pytest.raises(TransportError):
        client.call("server.info")
    client.close()
