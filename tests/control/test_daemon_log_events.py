"""``daemon.*``, ``log.tail`` and ``events.subscribe`` against real processes and files."""

from __future__ import annotations

import queue
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control.client import RpcClient, RpcError

from .queuefill import fill_queue
from .support import connect, write_config

# A stand-in daemon whose command line mentions postroom: it says "HUP" on each SIGHUP.
FAKE_DAEMON = """
import signal, sys
signal.signal(signal.SIGHUP, lambda *a: (print("HUP", flush=True)))
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def fake_daemon(queue_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", FAKE_DAEMON, "postroom-fake-daemon"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    (queue_dir / "postroom-mta.pid").write_text(f"{proc.pid}\n")
    yield proc
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait(timeout=20)
    proc.stdout.close()


def read_line(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout), "no output in time"
    return proc.stdout.readline()


def test_status_without_a_daemon(rpc: RpcClient, queue_dir: Path) -> None:
    status = rpc.call("daemon.status")
    assert (status["running"], status["pid"], status["stale_pid_file"]) == (False, None, False)
    assert status["pid_file"] == str(queue_dir / "postroom-mta.pid")
    assert len(status["listeners"]) == 2
    with pytest.raises(RpcError) as info:
        rpc.call("daemon.reload")
    assert info.value.code == "not_found" and "not running" in info.value.message


def test_a_stale_pid_file_is_not_a_running_daemon(rpc: RpcClient, queue_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (queue_dir / "postroom-mta.pid").write_text(done.stdout)
    status = rpc.call("daemon.status")
    assert status["running"] is False and status["stale_pid_file"] is True


def test_status_sees_the_real_daemon(rpc: RpcClient, config_path: Path, queue_dir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "postroom.core.cli", "-bD", "-C", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert "listening" in read_line(proc)
        (queue_dir / "postroom-mta.pid").write_text(f"{proc.pid}\n")
        status = rpc.call("daemon.status")
        assert (status["running"], status["pid"]) == (True, proc.pid)
        assert rpc.call("server.info")["daemon"]["running"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        assert proc.stdout is not None
        proc.stdout.close()


def test_reload_sends_sighup(rpc: RpcClient, fake_daemon: subprocess.Popen[str]) -> None:
    assert rpc.call("daemon.reload") == {"signalled": True, "pid": fake_daemon.pid}
    assert read_line(fake_daemon) == "HUP\n"
    result = rpc.call("config.set", {"changes": {"LogLevel": 11}, "reload": True})
    assert result["reloaded"] is True
    assert read_line(fake_daemon) == "HUP\n"


def test_log_tail_and_follow(rpc: RpcClient, config_path: Path) -> None:
    log = config_path.parent / "maillog"
    log.write_text("".join(f"line {n}\n" for n in range(5000)))
    tail = rpc.call("log.tail", {"lines": 3})
    assert tail["lines"] == ["line 4997", "line 4998", "line 4999"]
    assert tail["offset"] == log.stat().st_size and tail["path"] == str(log)
    with log.open("a") as handle:
        handle.write("new 1\nnew 2\npartial")
    more = rpc.call("log.tail", {"offset": tail["offset"]})
    assert more["lines"] == ["new 1", "new 2"] and more["rotated"] is False
    log.write_text("after rotation\n")
    rotated = rpc.call("log.tail", {"offset": more["offset"]})
    assert rotated["rotated"] is True and rotated["lines"] == ["after rotation"]
    assert rpc.call("log.tail", {"lines": 0})["lines"] == []
    with pytest.raises(RpcError) as info:
        rpc.call("log.tail", {"lines": 10**6})
    assert info.value.code == "bad_params"


def test_log_tail_without_log_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "m")
    path.write_text(path.read_text().replace('LogFile = "maillog"\n', ""))
    client = connect(path)
    try:
        with pytest.raises(RpcError) as info:
            client.call("log.tail")
        assert info.value.code == "not_available" and "syslog" in info.value.message
    finally:
        client.close()


def test_queue_changed_events_arrive_while_requests_are_answered(
    rpc: RpcClient, queue_dir: Path
) -> None:
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    rpc.on_event(lambda name, data: events.put(data), "queue.changed")
    sub = rpc.call(
        "events.subscribe", {"events": ["queue.changed", "stats.tick"], "interval": 0.05}
    )
    assert sub["subscribed"] == ["queue.changed"] and "stats.tick" in sub["unavailable"]
    assert sub["queue"] == {"queued": 0, "held": 0, "lost": 0}
    (qid,) = fill_queue(queue_dir, 1)
    assert events.get(timeout=20)["queued"] == 1
    assert rpc.call("server.info")["protocol"] == 1
    rpc.call("queue.hold", {"id": qid, "reason": "wait"})
    while (data := events.get(timeout=20))["held"] != 1:
        pass
    assert data["queued"] == 0
    assert rpc.call("events.unsubscribe") == {"unsubscribed": ["queue.changed"]}
    with pytest.raises(RpcError) as info:
        rpc.call("events.subscribe", {"events": ["mail.arrived"]})
    assert info.value.code == "bad_params"
