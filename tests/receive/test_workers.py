"""The daemon with several session workers: limits, statistics, signals and queue runs.

Each test runs ``postroom-mta -bD`` with ``DaemonProcesses`` > 1 and checks a behaviour
that must not change because sessions are spread over several processes.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from postroom.core.stats import StatusFile

from tests.support.mta import RunningMta, free_port

from .smtpwire import Wire
from .test_daemon_lifecycle import ehlo, wait_for_log
from .test_queue_runs import smtp_send, wait_for_mail


def dump(mta: RunningMta) -> str:
    """A fresh SIGUSR1 state dump (the text from its first line to its last)."""
    log = mta.setup.log_file
    before = log.read_text().count("--- end of state dump ---") if log.exists() else 0
    mta.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.count("--- end of state dump ---") > before:
            start = text.rindex("--- dumping state on SIGUSR1")
            return text[start : text.rindex("--- end of state dump ---")]
        time.sleep(0.05)
    raise AssertionError("no state dump logged")


def worker_pids(mta: RunningMta) -> list[int]:
    line = next(ln for ln in dump(mta).splitlines() if "session workers: " in ln)
    return [int(p) for p in line.split("session workers: ", 1)[1].split()]


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def session_workers(mta: RunningMta) -> set[int]:
    """The worker pids that hold at least one open session (from a state dump)."""
    return {int(pid) for pid in re.findall(r"^.*session .* worker=(\d+)$", dump(mta), re.M)}


def open_sessions(port: int, count: int) -> list[Wire]:
    wires = [Wire(port) for _ in range(count)]
    for wire in wires:
        assert wire.greeting().startswith("220 ")
        assert wire.cmd("EHLO client.example.org").startswith("250")
    return wires


def test_the_daemon_forks_the_configured_workers(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(DaemonProcesses=3)
    assert mta.proc is not None
    pids = worker_pids(mta)
    assert len(pids) == 3
    assert set(pids) == children(mta.proc.pid)
    assert "3 session workers" in mta.setup.log_file.read_text()


def test_per_host_limit_counts_the_sessions_of_every_worker(
    start_mta: Callable[..., RunningMta],
) -> None:
    mta = start_mta(DaemonProcesses=3, MaxConnectionsPerHost=6)
    wires = open_sessions(mta.port(), 6)  # whichever workers took them (tests/receive/test_limits)
    extra = Wire(mta.port())
    assert extra.reply().startswith("421 4.7.0 mail.example.test Too many concurrent")
    assert extra.closed_by_peer()
    wires[0].cmd("QUIT")
    wait_until(lambda: Wire(mta.port()).greeting().startswith("220 "))


def test_max_daemon_children_counts_the_sessions_of_every_worker(
    start_mta: Callable[..., RunningMta],
) -> None:
    mta = start_mta(DaemonProcesses=3, MaxDaemonChildren=5)
    open_sessions(mta.port(), 5)
    assert "CurChildren = 5" in dump(mta)
    extra = Wire(mta.port())
    assert extra.reply().startswith("421 4.3.2 mail.example.test Too many concurrent")


def test_statistics_of_all_workers_add_up(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(DaemonProcesses=3)
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            for i in range(5):
                smtp_send(mta.port(), "alice", f"m{n}-{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert mta.stop() == 0  # every worker flushes its counters before the daemon exits
    stats = StatusFile(mta.setup.base / "statistics").read()
    assert (stats.nf[5], stats.cf) == (30, 30)
    assert len(list(mta.setup.queue_dir.glob("qf*"))) == 30


def test_sigterm_stops_every_worker_with_421(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(DaemonProcesses=3)
    pids = worker_pids(mta)
    wires = open_sessions(mta.port(), 6)
    assert len(session_workers(mta)) >= 1
    mta.send_signal(signal.SIGTERM)
    for wire in wires:
        assert wire.reply().startswith("421 4.3.2 mail.example.test Shutting down")
    assert mta.stop() == 0
    assert not any(alive(pid) for pid in pids)


def test_sighup_reaches_every_worker_without_cutting_a_session(
    start_mta: Callable[..., RunningMta],
) -> None:
    mta = start_mta(DaemonProcesses=2, PrivacyOptions=["public"])
    old = worker_pids(mta)
    early = open_sessions(mta.port(), 1)[0]
    early.cmd("MAIL FROM:<a@example.org>")
    mta.setup.options["PrivacyOptions"] = ["noexpn"]
    mta.setup.write()
    mta.send_signal(signal.SIGHUP)
    wait_for_log(mta.setup.log_file, "configuration reloaded")
    assert len(set(worker_pids(mta)) - set(old)) == 2  # a new generation; old ones retire
    replies = [ehlo(mta.port()) for _ in range(6)]
    assert all("EXPN" not in reply for reply in replies)  # every new worker has the new rules
    assert early.cmd("RCPT TO:<alice>").startswith("250 ")  # the old session carries on
    assert early.cmd("DATA").startswith("354")
    early.send(b"Subject: across a reload\r\n\r\nbody\r\n.\r\n")
    assert early.reply().startswith("250 2.0.0 ")
    early.cmd("QUIT")
    wait_until(lambda: not any(alive(pid) for pid in old))  # retired workers leave


def test_changed_listeners_are_rebound_on_sighup(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(DaemonProcesses=2, listeners={"MTA": ""})
    old_port = mta.port()
    new_port = free_port()
    mta.setup.ports["MTA"] = new_port
    mta.setup.write(listeners={"MTA": ""})
    mta.send_signal(signal.SIGHUP)
    wait_for_log(mta.setup.log_file, f"MTA=127.0.0.1:{new_port}")
    assert ehlo(new_port).startswith("250-")
    try:
        Wire(old_port, timeout=5).greeting()
    except OSError:
        pass
    else:
        raise AssertionError("the old port still answers")


def test_a_worker_that_dies_is_replaced(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(DaemonProcesses=2)
    victim = worker_pids(mta)[0]
    os.kill(victim, signal.SIGKILL)
    wait_for_log(mta.setup.log_file, f"session worker {victim} exited unexpectedly (signal 9)")
    wait_until(lambda: len(worker_pids(mta)) == 2 and victim not in worker_pids(mta))
    for _ in range(4):
        assert ehlo(mta.port()).startswith("250-")


def test_a_stopped_worker_leaves_every_new_connection_to_the_others(
    start_mta: Callable[..., RunningMta],
) -> None:
    """The workers share one listening socket: none of them owns a share of the
    connections (with a socket per worker, about half of these would wait for the
    stopped one)."""
    mta = start_mta(DaemonProcesses=2)
    stopped, running = worker_pids(mta)
    os.kill(stopped, signal.SIGSTOP)
    try:
        for _ in range(8):
            wire = Wire(mta.port(), timeout=5)
            assert wire.greeting().startswith("220 ")
            assert wire.cmd("QUIT").startswith("221")
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert ehlo(mta.port()).startswith("250-")
    assert alive(stopped) and alive(running)


def test_queue_runs_happen_in_the_daemon_only(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta("-q1s", DaemonProcesses=3)
    assert mta.proc is not None
    for n in range(4):
        smtp_send(mta.port(), "alice@example.test", f"run{n}")
    assert len(wait_for_mail(mta.setup, "alice", 4)) == 4
    wait_until(lambda: not list(mta.setup.queue_dir.glob("qf*")))
    delivered = [ln for ln in mta.setup.log_file.read_text().splitlines() if "stat=Sent" in ln]
    assert len(delivered) == 4
    assert all(f"postroom-mta[{mta.proc.pid}]:" in line for line in delivered)
