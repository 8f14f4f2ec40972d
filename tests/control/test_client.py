"""``RpcClient`` against an in-memory transport: ids, chunks, events, timeouts, failures."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import pytest
from postroom.core.control.client import (
    RpcClient,
    RpcError,
    RpcTimeoutError,
    TransportError,
)

WAIT = 10.0


class FakeTransport:
    """Lines the test pushes are read by the client; lines the client sends are kept."""

    def __init__(self) -> None:
        self.incoming: queue.Queue[bytes | BaseException] = queue.Queue()
        self.sent: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closed = threading.Event()

    def send_line(self, data: bytes) -> None:
        if self.closed.is_set():
            raise TransportError("fake transport closed")
        self.sent.put(json.loads(data))

    def read_line(self) -> bytes:
        item = self.incoming.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.closed.set()
        self.incoming.put(TransportError("fake transport closed"))

    def push(self, message: dict[str, Any]) -> None:
        self.incoming.put(json.dumps(message).encode() + b"\n")

    def request(self) -> dict[str, Any]:
        return self.sent.get(timeout=WAIT)


@pytest.fixture
def fake() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def client(fake: FakeTransport) -> RpcClient:
    return RpcClient(fake, timeout=WAIT)


def test_replies_are_matched_by_id_even_out_of_order(
    fake: FakeTransport, client: RpcClient
) -> None:
    first = client.call_async("a.one")
    second = client.call_async("a.two", {"x": 1})
    one, two = fake.request(), fake.request()
    assert (one["method"], two["method"], two["params"]) == ("a.one", "a.two", {"x": 1})
    fake.push({"id": two["id"], "result": "second"})
    fake.push({"id": one["id"], "result": "first"})
    assert (first.result(WAIT), second.result(WAIT)) == ("first", "second")


def test_chunks_are_assembled_into_rows(fake: FakeTransport, client: RpcClient) -> None:
    call = client.call_async("queue.list")
    request_id = fake.request()["id"]
    fake.push({"id": request_id, "chunk": [1, 2]})
    fake.push({"event": "queue.changed", "data": {"queued": 3}})
    fake.push({"id": request_id, "chunk": [3]})
    fake.push({"id": request_id, "result": {"count": 3}})
    assert call.result(WAIT) == {"count": 3, "rows": [1, 2, 3]}


def test_chunks_go_to_the_callback_when_one_is_given(
    fake: FakeTransport, client: RpcClient
) -> None:
    seen: list[list[int]] = []
    call = client.call_async("queue.list", on_chunk=seen.append)
    request_id = fake.request()["id"]
    fake.push({"id": request_id, "chunk": [1, 2]})
    fake.push({"id": request_id, "chunk": [3]})
    fake.push({"id": request_id, "result": {"count": 3}})
    assert call.result(WAIT) == {"count": 3}
    assert seen == [[1, 2], [3]]


def test_error_replies_raise_rpc_errors(fake: FakeTransport, client: RpcClient) -> None:
    call = client.call_async("queue.hold")
    request_id = fake.request()["id"]
    fake.push(
        {"id": request_id, "error": {"code": "locked", "message": "busy", "data": {"ids": ["A"]}}}
    )
    with pytest.raises(RpcError) as info:
        call.result(WAIT)
    assert (info.value.code, info.value.message, info.value.data) == (
        "locked",
        "busy",
        {"ids": ["A"]},
    )


def test_events_reach_their_callbacks(fake: FakeTransport, client: RpcClient) -> None:
    got: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    everything: list[str] = []
    remove = client.on_event(lambda name, data: got.put((name, data)), "queue.changed")
    client.on_event(lambda name, data: everything.append(name))
    fake.push({"event": "stats.tick", "data": {}})
    fake.push({"event": "queue.changed", "data": {"queued": 5}})
    assert got.get(timeout=WAIT) == ("queue.changed", {"queued": 5})
    remove()
    fake.push({"event": "queue.changed", "data": {"queued": 6}})
    call = client.call_async("x.y")  # a round trip, so the events before it were handled
    fake.push({"id": fake.request()["id"], "result": None})
    call.result(WAIT)
    assert got.empty()
    assert everything == ["stats.tick", "queue.changed", "queue.changed"]


def test_a_request_times_out_and_its_late_reply_is_dropped(
    fake: FakeTransport, client: RpcClient
) -> None:
    slow = client.call_async("slow.one", timeout=0.2)
    slow_id = fake.request()["id"]
    with pytest.raises(RpcTimeoutError, match=r"slow\.one"):
        slow.result(WAIT)
    fake.push({"id": slow_id, "result": "too late"})
    fast = client.call_async("fast.one")
    fake.push({"id": fake.request()["id"], "result": "ok"})
    assert fast.result(WAIT) == "ok"


def test_chunks_restart_the_timeout(fake: FakeTransport, client: RpcClient) -> None:
    arrived = threading.Event()
    call = client.call_async("queue.list", timeout=0.5, on_chunk=lambda rows: arrived.set())
    request_id = fake.request()["id"]
    fake.push({"id": request_id, "chunk": [1]})
    assert arrived.wait(WAIT)
    fake.push({"id": request_id, "result": {"count": 1}})
    assert call.result(WAIT) == {"count": 1}


def test_a_dead_transport_fails_every_pending_request_and_later_ones(
    fake: FakeTransport, client: RpcClient
) -> None:
    calls = [client.call_async(f"m.{n}") for n in range(3)]
    first_id = fake.request()["id"]
    fake.push({"id": first_id, "chunk": [1, 2, 3]})
    fake.incoming.put(TransportError("connection to mx1 lost"))
    for call in calls:
        with pytest.raises(TransportError, match="connection to mx1 lost"):
            call.result(WAIT)
    assert str(client.error) == "connection to mx1 lost"
    with pytest.raises(TransportError, match="connection to mx1 lost"):
        client.call("m.later")
    assert fake.closed.is_set()


def test_an_unreadable_reply_is_a_protocol_error(fake: FakeTransport, client: RpcClient) -> None:
    call = client.call_async("m.x")
    fake.incoming.put(b"<html>oops</html>\n")
    with pytest.raises(TransportError, match="protocol error"):
        call.result(WAIT)


def test_close_fails_what_is_pending(fake: FakeTransport, client: RpcClient) -> None:
    call = client.call_async("m.x")
    done = threading.Event()
    call.add_done_callback(lambda c: done.set())
    client.close()
    assert done.is_set()
    with pytest.raises(TransportError, match="closed"):
        call.result(WAIT)


def test_a_failing_chunk_callback_fails_only_its_call(
    fake: FakeTransport, client: RpcClient
) -> None:
    def boom(rows: list[Any]) -> None:
        raise ValueError("model rejected rows")

    bad = client.call_async("queue.list", on_chunk=boom)
    bad_id = fake.request()["id"]
    fake.push({"id": bad_id, "chunk": [1]})
    with pytest.raises(ValueError, match="model rejected rows"):
        bad.result(WAIT)
    fake.push({"id": bad_id, "chunk": [2]})
    fake.push({"id": bad_id, "result": {"count": 2}})
    good = client.call_async("m.next")
    fake.push({"id": fake.request()["id"], "result": 1})
    assert good.result(WAIT) == 1
