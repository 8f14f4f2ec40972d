"""The Qt adapter over the RPC client, against a real server over the real LocalTransport."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

from postroom.core.control.client import TransportError
from postroom.core.control.protocol import UNKNOWN_METHOD, RpcError
from postroom.gui.models.session import Session
from postroom.gui.qt_client import ConnectionState, GuiCaller, QtRpcClient
from postroom.gui.transport import LocalTransport
from postroom.gui.views.openers import local_opener
from pytestqt.qtbot import QtBot

from .conftest import CONNECT_TIMEOUT_MS
from .realistic import BuiltQueue

WAIT = 20_000


def test_states_go_connecting_then_connected(qtbot: QtBot, config_path: Path) -> None:
    client = QtRpcClient(local_opener(config_path), "local")
    seen: list[str] = []
    client.stateChanged.connect(lambda state, _detail: seen.append(state))
    client.connect_to_server()
    qtbot.waitUntil(lambda: seen[-1:] == ["connected"], timeout=CONNECT_TIMEOUT_MS)
    assert seen == ["connecting", "connected"]
    client.shutdown()
    assert seen[-1] == "disconnected"


def test_stream_sends_chunks_then_the_result(
    qtbot: QtBot, session: Session, built: BuiltQueue
) -> None:
    main = threading.current_thread()
    threads: list[threading.Thread] = []

    def transform(rows: list[Any]) -> list[str]:
        threads.append(threading.current_thread())
        return [r["queue_id"] for r in rows]

    got: list[str] = []
    req = session.request("queue.list", {"sort": "none"}, stream=True, transform=transform)
    req.chunk.connect(got.extend)
    with qtbot.waitSignals([req.chunk, req.finished], order="strict", timeout=WAIT):
        pass
    assert sorted(got) == sorted(built.all)
    assert threads and all(t is not main for t in threads)  # converted off the GUI thread


def test_server_errors_arrive_as_failed(qtbot: QtBot, session: Session) -> None:
    req = session.request("queue.lisst")
    with qtbot.waitSignal(req.failed, timeout=WAIT) as blocker:
        pass
    error = blocker.args[0]
    assert isinstance(error, RpcError)
    assert error.code == UNKNOWN_METHOD
    assert "did you mean queue.list?" in error.message
    bad = session.request("queue.show", {"id": "NOSUCHJOB0001"})
    with qtbot.waitSignal(bad.failed, timeout=WAIT) as blocker:
        pass
    assert blocker.args[0].code == "not_found"


def test_a_cancelled_request_emits_nothing(qtbot: QtBot, session: Session) -> None:
    cancelled = session.request("queue.list", stream=True)
    fired: list[str] = []
    cancelled.chunk.connect(lambda _rows: fired.append("chunk"))
    cancelled.finished.connect(lambda _r: fired.append("finished"))
    cancelled.cancel()
    after = session.request("server.info")  # answered after the cancelled one
    with qtbot.waitSignal(after.finished, timeout=WAIT):
        pass
    assert fired == []


def test_a_request_without_connection_fails_later_not_at_once(qtbot: QtBot) -> None:
    client = QtRpcClient(local_opener(None), "nowhere")
    req = client.request("server.info")
    assert not req.done  # the caller can still connect to its signals
    with qtbot.waitSignal(req.failed, timeout=WAIT) as blocker:
        pass
    assert isinstance(blocker.args[0], TransportError)
    client.shutdown()


def test_requests_made_while_connecting_are_sent_once_connected(
    qtbot: QtBot, config_path: Path
) -> None:
    client = QtRpcClient(local_opener(config_path), "local")
    client.connect_to_server()
    req = client.request("server.info")
    with qtbot.waitSignal(req.finished, timeout=CONNECT_TIMEOUT_MS) as blocker:
        pass
    assert blocker.args[0]["config_path"] == str(config_path)
    client.shutdown()


def test_a_killed_server_is_reported_as_lost(qtbot: QtBot, session: Session) -> None:
    transport = session.client.transport
    assert isinstance(transport, LocalTransport)
    with qtbot.waitSignal(
        session.client.stateChanged,
        timeout=WAIT,
        check_params_cb=lambda state, _detail: state == ConnectionState.LOST,
    ):
        os.kill(transport.pid, signal.SIGKILL)
    assert "ended" in session.detail


def test_an_open_failure_is_reported_with_its_exception(qtbot: QtBot, tmp_path: Path) -> None:
    def fail() -> LocalTransport:
        raise TransportError("no such server")

    client = QtRpcClient(fail, "broken")
    errors: list[BaseException] = []
    client.openFailed.connect(errors.append)
    client.connect_to_server()  # "connecting" now; the failure arrives through the loop
    with qtbot.waitSignals(
        [client.openFailed, client.stateChanged],
        order="strict",
        timeout=WAIT,
        check_params_cbs=[None, lambda state, _detail: state == ConnectionState.LOST],
    ):
        pass
    assert client.state == ConnectionState.LOST
    assert client.detail == "no such server"
    assert [str(e) for e in errors] == ["no such server"]
    client.shutdown()


def test_gui_caller_runs_on_the_gui_thread_and_returns(qtbot: QtBot) -> None:
    ran_on: list[threading.Thread] = []

    def answer(value: int) -> int:
        ran_on.append(threading.current_thread())
        return value * 2

    caller: GuiCaller[int, int] = GuiCaller(answer, -1)
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(caller(21)))
    worker.start()
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT)
    worker.join()
    assert results == [42]
    assert ran_on == [threading.main_thread()]


def test_gui_caller_cancel_answers_the_default(qtbot: QtBot) -> None:
    caller: GuiCaller[int, int] = GuiCaller(lambda v: v, -1)
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(caller(5)))
    worker.start()
    qtbot.waitUntil(lambda: bool(caller._open), timeout=WAIT)
    caller.cancel_all()
    worker.join(timeout=10)
    assert results == [-1]
