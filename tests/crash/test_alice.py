"""ALICE-style record and replay of the queue's write path.

1. Record: the real daemon runs under ``strace`` while clients hand it
   messages over SMTP; :mod:`.straceparse` extracts what happened in the queue
   folder and when each ``250`` left (the queue already holds one older message).
2. Replay: :mod:`.crashstates` generates every state a crash could leave
   under the EXT4 and the WEAK model, writes each into a fresh folder and runs
   the real recovery on it -- the daemon's start-up :func:`sweep`, then the
   queue reader (:func:`iter_jobs`) and, for a sample, ``postroom-mta -bp``.
3. Check: a crash before a message's ``250`` leaves it absent or whole; after
   it, whole (qf parses, df and headers equal what was sent under
   bench/mailgen.py's rule); the older message is whole in every state, and no
   debris (``tf``, a ``df`` without control file, a ``Qf``) survives the sweep.

A last test removes the fsyncs from a recorded trace and shows the checker
then finds acknowledged messages missing: the replay can fail.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from postroom.core.queue.jobs import iter_jobs
from postroom.core.queue.sweep import sweep

from bench.mailgen import SentMessage, SmtpClient, compare, make_message, queue_id
from tests.support.mta import MtaSetup, RunningMta

from .crashstates import EXT4, WEAK, CrashState, Model, crash_states, materialise
from .straceparse import TRACED, Op, parse_trace

pytestmark = pytest.mark.crash


@dataclass
class Recording:
    setup: MtaSetup
    ops: list[Op]
    initial: dict[str, bytes]
    messages: dict[str, SentMessage]  # qid -> message
    sent_at: dict[str, int]  # qid -> index in ops of the send carrying its 250
    older: tuple[str, SentMessage]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _send_concurrently(port: int, messages: list[SentMessage]) -> list[str]:
    """All messages up to the last body line, then every final dot at once (one commit batch)."""
    clients = [SmtpClient(port, timeout=60) for _ in messages]
    try:
        for client, msg in zip(clients, messages, strict=True):
            assert client.command(f"MAIL FROM:<{msg.sender}>").startswith("250")
            for rcpt in msg.recipients:
                assert client.command(f"RCPT TO:<{rcpt}>").startswith("250")
            assert client.command("DATA").startswith("354")
            client.sock.sendall(msg.wire())
        for client in clients:
            client.sock.sendall(b".\r\n")
        qids = []
        for client in clients:
            reply = client.reply()
            qid = queue_id(reply)
            assert qid is not None, reply
            qids.append(qid)
        return qids
    finally:
        for client in clients:
            client.quit()


def record(base: Path, bodies: list[int], seed: int) -> Recording:
    rng = random.Random(seed)
    # One session worker: every acceptance in one process keeps the recording small
    # (the parser keeps a descriptor table per process, see straceparse).
    setup = MtaSetup(base / "mta", options={"DaemonProcesses": 1})
    setup.write(listeners={"MTA": ""})
    (setup.queue_dir / ".hoststat").mkdir()
    older = make_message("older", rng, ["bob@example.test"], size=3000)
    with RunningMta(setup) as plain:
        (older_qid,) = _send_concurrently(plain.port(), [older])
    log = base / "strace.log"
    traced = RunningMta(setup, timeout=90)
    traced.args = ["strace", "-f", "-qq", "-yy", "-xx", "-s", "16777216",
                   "-e", f"trace={TRACED}", "-o", str(log), *traced.args]  # fmt: skip
    messages = [
        make_message(f"m{i}", rng, ["alice@example.test"], size=size)
        for i, size in enumerate(bodies)
    ]
    traced.start()
    assert traced.proc is not None
    try:
        initial = {p.name: p.read_bytes() for p in setup.queue_dir.iterdir() if p.is_file()}
        qids = _send_concurrently(traced.port(), messages)
    finally:
        for pid in _children(traced.proc.pid):  # SIGTERM to strace would only detach it
            os.kill(pid, signal.SIGTERM)
        traced.proc.wait(60)  # strace ends with the daemon
        traced.stop()
    ops = parse_trace(log.read_text(), setup.queue_dir)
    first = min(i for i, op in enumerate(ops) if any(q in op.path for q in qids))
    ops = ops[first:]
    sent_at = {qid: sent_index(ops, qid) for qid in qids}
    return Recording(
        setup, ops, initial, dict(zip(qids, messages, strict=True)), sent_at, (older_qid, older)
    )


def sent_index(ops: list[Op], qid: str) -> int:
    """Where in ``ops`` the ``250`` for ``qid`` was written to the client's socket."""
    marker = f"250 2.0.0 {qid} ".encode()
    return next(i for i, op in enumerate(ops) if op.kind == "send" and marker in op.data)


def outcome(folder: Path, qid: str, msg: SentMessage) -> str:
    """``absent``, ``whole``, or what is wrong with ``qid`` in a swept folder."""
    names = {p.name for p in folder.iterdir()}
    if f"Qf{qid}" in names:
        return "broken: set aside as Qf (unreadable control file)"
    if f"qf{qid}" not in names and f"hf{qid}" not in names:
        if f"df{qid}" in names or f"tf{qid}" in names:
            return "broken: debris left by the sweep"
        return "absent"
    job = next((j for j in iter_jobs(folder) if j.qid == qid), None)
    if job is None or job.queue_file is None:
        return f"broken: the queue reader cannot read it ({job.error if job else 'not listed'})"
    if f"df{qid}" not in names:
        return "broken: qf without df"
    headers = [(h.name, h.value) for h in job.queue_file.headers]
    diff = compare(msg, headers, (folder / f"df{qid}").read_bytes())
    return "whole" if diff is None else f"broken: {diff}"


@dataclass
class Replay:
    states: int
    violations: list[str]
    tally: Counter[str]  # "before 250: absent" ... per message and state


def replay(rec: Recording, model: Model, work: Path, ops: list[Op] | None = None) -> Replay:
    """Check every crash state; the violations are empty when the write path is safe."""
    ops = rec.ops if ops is None else ops
    folder = rec.setup.queue_dir
    inode_of = {str(folder / n): i for i, n in enumerate(sorted(rec.initial), start=1)}
    sent_at = {qid: sent_index(ops, qid) for qid in rec.messages}
    result = Replay(0, [], Counter())
    for state in crash_states(ops, model, folder, inode_of):
        result.states += 1
        into = work / "state"
        shutil.rmtree(into, ignore_errors=True)
        materialise(ops, state, rec.initial, folder, into)
        sweep(into, lambda text: None)
        result.violations += _judge(rec, ops, sent_at, state, into, result.tally)
        if len(result.violations) > 20:
            break
    return result


def _judge(
    rec: Recording,
    ops: list[Op],
    sent_at: dict[str, int],
    state: CrashState,
    into: Path,
    tally: Counter[str],
) -> list[str]:
    found = []
    older_qid, older = rec.older
    if outcome(into, older_qid, older) != "whole":
        found.append(f"older message damaged: {state.describe(ops)}")
    for qid, msg in rec.messages.items():
        got = outcome(into, qid, msg)
        acknowledged = state.crash_after > sent_at[qid]
        tally[f"{'after' if acknowledged else 'before'} 250: {got.partition(':')[0]}"] += 1
        if got == "whole" or (got == "absent" and not acknowledged):
            continue
        when = "after" if acknowledged else "before"
        found.append(f"{qid} {got} (crash {when} its 250): {state.describe(ops)}")
    debris = sorted(p.name for p in into.iterdir() if p.name[:2] in ("tf", "Qf"))
    if debris:
        found.append(f"debris after the sweep {debris}: {state.describe(ops)}")
    return found


@pytest.fixture(scope="module")
def one_big(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """One acceptance of a 150 KB body (the df is written in several chunks)."""
    return record(tmp_path_factory.mktemp("alice-big"), [150_000], seed=3)


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """Three small messages whose final dots arrive together (one group commit)."""
    return record(tmp_path_factory.mktemp("alice-group"), [500, 2000, 0], seed=4)


def test_the_trace_shows_the_protocol(one_big: Recording) -> None:
    kinds = [op.kind for op in one_big.ops[: one_big.sent_at[next(iter(one_big.messages))]]]
    assert kinds.count("create") >= 2 and kinds.count("write") >= 2  # df and tf
    assert "rename" in kinds and kinds.count("fsync") >= 3  # df, tf, folder
    assert kinds.index("rename") < len(kinds) - 1 - kinds[::-1].index("fsync")


@pytest.mark.parametrize("model", [EXT4, WEAK], ids=lambda m: m.name)
def test_every_crash_state_of_one_acceptance(
    one_big: Recording, model: Model, tmp_path: Path
) -> None:
    result = replay(one_big, model, tmp_path)
    assert result.violations == []
    assert set(result.tally) == {"before 250: absent", "before 250: whole", "after 250: whole"}


@pytest.mark.parametrize("model", [EXT4, WEAK], ids=lambda m: m.name)
def test_every_crash_state_of_a_group_commit(
    group: Recording, model: Model, tmp_path: Path
) -> None:
    assert len(set(group.sent_at.values())) == len(group.messages)
    result = replay(group, model, tmp_path)
    assert result.violations == []
    assert set(result.tally) == {"before 250: absent", "before 250: whole", "after 250: whole"}


def test_recovered_states_list_under_mailq(group: Recording, tmp_path: Path) -> None:
    """The real ``postroom-mta -bp`` agrees with the queue reader on sample states."""
    ops, folder = group.ops, group.setup.queue_dir
    inode_of = {str(folder / n): i for i, n in enumerate(sorted(group.initial), start=1)}
    states = list(crash_states(ops, EXT4, folder, inode_of))
    sample = [states[0], states[len(states) // 2], states[-1]]
    for number, state in enumerate(sample):
        into = tmp_path / f"s{number}"
        materialise(ops, state, group.initial, folder, into)
        (into / ".hoststat").mkdir()
        sweep(into, lambda text: None)
        listing = subprocess.run(
            [sys.executable, "-m", "postroom.core.cli", "-bp", "-C",
             str(group.setup.config_path), "-O", f"QueueDirectory={into}"],
            capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
        for qid, msg in [group.older, *group.messages.items()]:
            listed = qid in listing
            assert listed == (outcome(into, qid, msg) == "whole"), (state.describe(ops), listing)


def test_without_fsync_the_replay_finds_lost_mail(one_big: Recording, tmp_path: Path) -> None:
    unsynced = [op for op in one_big.ops if op.kind != "fsync"]
    violations = replay(one_big, WEAK, tmp_path, unsynced).violations
    assert any("(crash after its 250)" in v and "absent" in v for v in violations), violations
