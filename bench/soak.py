"""Soak: mixed load on the real daemon for a long time; memory, files, log and counters checked.

For ``--duration`` seconds (default 1800) ``--sessions`` SMTP sessions send
``--rate`` messages a second in total to ``postroom-mta -bD -q5s``:

- 55 % to ``rcpt@sink.test`` (``SmartHost`` -> the loopback sink of :mod:`bench.sink`),
- 20 % to the local user ``alice`` (mbox),
- 10 % to both,
- 8 % to ``nobody@bounce.test`` (the sink answers ``550``: one DSN goes back
  to the sender, through the sink again),
- 7 % to ``x@closed.test``, which ``mailertable`` sends to a port nobody
  listens on at 127.0.0.2 (deferred, retried all along, never delivered).

Sessions send one to five messages each, then ``QUIT`` and reconnect.  One
``postroom-mta --rpc`` process asks ``queue.list`` every ``--rpc-every``
seconds; every reply must be well-formed (chunks, then a result whose
``count`` is the number of rows).  Every ``--sample-every`` seconds the RSS,
open descriptors and threads of the daemon, the RPC process and their
children are sampled from ``/proc``.

At the end the load stops, the queue settles (only ``closed.test`` jobs left,
every DSN delivered), the daemon is stopped, and these must hold:

- **flat memory**: after a warm-up (the first 15 % of the run), the median
  RSS of the last third exceeds that of the first third by at most
  max(5 %, 4 MiB), for each process;
- **flat files**: the fewest open descriptors seen in the last third is at
  most the fewest seen in the first third plus 2 (the floor, not the peak:
  sessions in flight come and go);
- **no error logged**: no mail-log line matches :data:`ERROR_PATTERNS`,
  nothing on the daemon's standard error;
- **counters reconcile exactly** (``stats.totals``, i.e. the StatusFile that
  ``mailstats`` prints, and ``stats.series`` over the run): messages from
  esmtp == messages acknowledged, kbytes from == sum of ceil(size/1000),
  local deliveries == local recipients acknowledged == messages in the mbox,
  relay deliveries == recipients the sink accepted (sink deliveries + DSNs),
  DSNs == bounce recipients acknowledged, rejected == discarded == 0,
  connections in == sessions the generator opened; series ``received`` ==
  acknowledged, ``bounced`` == bounce recipients, ``deferred`` == the
  log's ``stat=Deferred`` lines.

    .venv/bin/python bench/soak.py [--duration 1800] [--rate 10] [--sessions 4]
                                   [--sample-every 10] [--rpc-every 3] [--keep DIR]

Exit status 0 when everything holds; the figures are printed for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crash import descendants
from bench.mailgen import BOUNCE_RCPT, SINK_RCPT, SendInterrupted, SmtpClient, make_message
from bench.mailgen import queue_id as parse_queue_id
from bench.sink import SmtpSink
from tests.support.mta import MtaSetup, RunningMta, free_port

CLOSED_RCPT = "x@closed.test"
LOCAL_RCPT = "alice@example.test"
MIX = (
    (0.55, (SINK_RCPT,)),
    (0.20, (LOCAL_RCPT,)),
    (0.10, (LOCAL_RCPT, SINK_RCPT)),
    (0.08, (BOUNCE_RCPT,)),
    (0.07, (CLOSED_RCPT,)),
)
ERROR_PATTERNS = re.compile(
    r"Traceback|SYSERR|queue run failed|Losing |cannot rewrite|reload refused|"
    r"queue write failed|cannot create queue file|Exception|internal error"
)


def kbytes(size: int) -> int:
    return (size + 999) // 1000


def pick(rng: random.Random) -> tuple[str, ...]:
    roll = rng.random()
    for share, rcpts in MIX:
        if roll < share:
            return rcpts
        roll -= share
    return MIX[0][1]


# -- load ---------------------------------------------------------------------


@dataclass
class LoadTotals:
    """What the generator did (all threads)."""

    connections: int = 0
    accepted: int = 0
    refused: int = 0
    interrupted: int = 0
    kbytes: int = 0
    rcpts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


class Load:
    """``sessions`` threads sending ``rate`` messages a second in total."""

    def __init__(self, port: int, sessions: int, rate: float, seed: int) -> None:
        self.port = port
        self.rate = rate
        self.sessions = sessions
        self.totals = LoadTotals()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(seed + i, i), daemon=True)
            for i in range(sessions)
        ]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _run(self, seed: int, number: int) -> None:
        rng = random.Random(seed)
        interval = self.sessions / self.rate
        due = time.monotonic() + rng.uniform(0, interval)
        count = 0
        while not self.stop.is_set():
            try:
                client = SmtpClient(self.port, timeout=60)
            except OSError as exc:
                with self._lock:
                    self.totals.problems.append(f"session {number}: cannot connect: {exc}")
                self.stop.wait(1.0)
                continue
            with self._lock:
                self.totals.connections += 1
            try:
                for _ in range(rng.randint(1, 5)):
                    if self.stop.wait(max(0.0, due - time.monotonic())):
                        break
                    due += interval
                    count += 1
                    rcpts = pick(rng)
                    msg = make_message(f"soak{number}n{count}", rng, rcpts, largest=60_000)
                    reply = client.send(msg)
                    with self._lock:
                        if parse_queue_id(reply) is None:
                            self.totals.refused += 1
                            self.totals.problems.append(f"{msg.token}: refused: {reply}")
                        else:
                            self.totals.accepted += 1
                            self.totals.kbytes += kbytes(msg.size())
                            self.totals.rcpts.update(rcpts)
                client.quit()
            except (SendInterrupted, OSError) as exc:
                client.close()
                with self._lock:
                    self.totals.interrupted += 1
                    self.totals.problems.append(f"session {number}: {exc}")


# -- RPC --------------------------------------------------------------------------


class RpcLister:
    """One ``--rpc`` process asking ``queue.list`` every ``every`` seconds."""

    def __init__(self, config: Path, every: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "postroom.core.cli", "--rpc", "-C", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.every = every
        self.calls = 0
        self.rows_last = 0
        self.slowest = 0.0
        self.problems: list[str] = []
        self.stop = threading.Event()
        self._next_id = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> RpcLister:
        self._thread.start()
        return self

    def call(self, method: str, params: dict[str, Any] | None = None) -> tuple[Any, int]:
        """(result, rows streamed in chunks); raises RuntimeError on a malformed reply."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            self._next_id += 1
            rid = self._next_id
            request = {"id": rid, "method": method, "params": params or {}}
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            rows = 0
            while True:
                line = self.proc.stdout.readline()
                if not line.endswith(b"\n"):
                    raise RuntimeError(f"{method}: the RPC process closed its output")
                message = json.loads(line)
                if not isinstance(message, dict) or "event" in message:
                    continue
                if message.get("id") != rid:
                    raise RuntimeError(f"{method}: reply for id {message.get('id')}, not {rid}")
                if "chunk" in message:
                    rows += len(message["chunk"])
                    continue
                if "error" in message:
                    raise RuntimeError(f"{method}: error {message['error']}")
                return message["result"], rows

    def _loop(self) -> None:
        while not self.stop.wait(self.every):
            started = time.monotonic()
            try:
                result, rows = self.call("queue.list")
            except (RuntimeError, ValueError, KeyError, OSError) as exc:
                self.problems.append(str(exc))
                continue
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.calls += 1
            self.rows_last = rows
            if result.get("count") != rows:
                self.problems.append(f"queue.list: count {result.get('count')} but {rows} rows")

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=60)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            err = self.proc.stderr.read().decode("utf-8", "replace").strip()
            if err:
                self.problems.append(f"--rpc stderr: {err[:2000]}")
            self.proc.stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# -- sampling ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: float
    rss_kib: int
    fds: int
    threads: int


def sample(pid: int, started: float) -> Sample | None:
    """RSS, descriptors and threads of ``pid`` and all its descendants together."""
    rss = fds = threads = 0
    for each in [pid, *descendants(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
            fds += len(os.listdir(f"/proc/{each}/fd"))
        except OSError:
            if each == pid:
                return None
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields["VmRSS"].split()[0])
        threads += int(fields["Threads"])
    return Sample(time.monotonic() - started, rss, fds, threads)


def flatness(samples: list[Sample], duration: float) -> tuple[list[str], str]:
    """(problems, one-line description) under the rule in the module docstring."""
    steady = [s for s in samples if s.at >= duration * 0.15]
    if len(steady) < 6:
        return ["too few samples after the warm-up to judge"], "n/a"
    third = len(steady) // 3
    first, last = steady[:third], steady[-third:]
    rss0 = statistics.median(s.rss_kib for s in first)
    rss1 = statistics.median(s.rss_kib for s in last)
    fd0, fd1 = min(s.fds for s in first), min(s.fds for s in last)
    problems = []
    if rss1 - rss0 > max(rss0 * 0.05, 4096):
        problems.append(f"RSS grew from {rss0 / 1024:.1f} to {rss1 / 1024:.1f} MiB")
    if fd1 > fd0 + 2:
        problems.append(f"open descriptors' floor grew from {fd0} to {fd1}")
    text = (
        f"RSS median {rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MiB "
        f"(peak {max(s.rss_kib for s in samples) / 1024:.1f}), fd floor {fd0} -> {fd1} "
        f"(peak {max(s.fds for s in samples)}), threads peak {max(s.threads for s in samples)}"
    )
    return problems, text


# -- the run -----------------------------------------------------------------------


def makemap(base: Path, name: str, text: str) -> None:
    path = base / name
    path.write_text(text)
    code = "import sys; sys.argv[0] = 'makemap'; from postroom.core.cli import main; main()"
    subprocess.run([sys.executable, "-c", code, "hash", str(path)], input=text.encode(), check=True)


def settle(setup: MtaSetup, sink: SmtpSink, bounces: int, deadline: float) -> int:
    """Wait until only closed.test jobs are queued and every DSN arrived; queued jobs left."""
    end = time.monotonic() + deadline
    left = 0
    while time.monotonic() < end:
        dsns = sum(1 for m in sink.messages() if m.sender == "")
        queued = [p for p in setup.queue_dir.glob("qf*")]
        left = len(queued)
        pending_other = 0
        for qf in queued:
            try:
                text = qf.read_bytes()
            except FileNotFoundError:
                continue
            if b"closed.test" not in text:
                pending_other += 1
        if dsns >= bounces and pending_other == 0:
            return left
        time.sleep(1.0)
    return left


def run(opts: argparse.Namespace, base: Path) -> int:
    sink = SmtpSink()
    closed = free_port()
    setup = MtaSetup(
        base / "mta",
        options={
            "LogLevel": 9,
            "RelayFrom": ["127.0.0.0/8"],
            "SmartHost": f"[127.0.0.1]:{sink.port}",
            "MaxConnectionsPerHost": 200,
            "AliasFile": str(base / "mta" / "aliases"),
        },
    )
    setup.base.mkdir(parents=True)
    (setup.base / "aliases").write_text("postmaster: root\n")
    # 127.0.0.2, not .1: host status is kept per host, not per port (as Sendmail's), so
    # refusals from a closed port on the sink's address would defer the sink's mail too.
    makemap(setup.base, "mailertable", f"closed.test\tesmtp:[127.0.0.2]:{closed}\n")
    setup.write(listeners={"MTA": ""})
    (setup.queue_dir / ".hoststat").mkdir(exist_ok=True)
    mta = RunningMta(setup, "-q5s", timeout=60).start()
    assert mta.proc is not None and mta.proc.stdout is not None
    daemon_out: list[bytes] = []
    fd = mta.proc.stdout.fileno()
    reader = threading.Thread(
        target=lambda: daemon_out.extend(iter(lambda: os.read(fd, 65536), b"")), daemon=True
    )
    reader.start()
    rpc = RpcLister(setup.config_path, opts.rpc_every).start()
    started = time.monotonic()
    wall_start = time.time()
    load = Load(mta.port(), opts.sessions, opts.rate, opts.seed).start()
    daemon_samples: list[Sample] = []
    rpc_samples: list[Sample] = []
    next_report = started + 60
    while time.monotonic() - started < opts.duration:
        time.sleep(min(opts.sample_every, max(0.0, opts.duration - (time.monotonic() - started))))
        for pid, into in ((mta.proc.pid, daemon_samples), (rpc.proc.pid, rpc_samples)):
            taken = sample(pid, started)
            if taken is not None:
                into.append(taken)
        if time.monotonic() >= next_report and daemon_samples:
            last = daemon_samples[-1]
            print(
                f"  {last.at:6.0f}s  acked {load.totals.accepted:6d}  daemon RSS "
                f"{last.rss_kib / 1024:.1f} MiB fds {last.fds}  queue {rpc.rows_last}",
                flush=True,
            )
            next_report += 60
    load.join()
    totals = load.totals
    settle_start = time.monotonic()
    left = settle(setup, sink, totals.rcpts[BOUNCE_RCPT], opts.settle)
    settled_in = time.monotonic() - settle_start
    rpc.stop.set()
    mta.stop()  # the daemon flushes its last counts as it exits
    reader.join(timeout=10)
    stopped = time.time()
    stats, _ = rpc.call("stats.totals")
    series, _ = rpc.call(
        "stats.series", {"start": wall_start - 120, "end": stopped + 120, "resolution": "minute"}
    )
    rpc.close()
    problems: list[str] = []
    problems += totals.problems[:20]
    problems += rpc.problems[:20]
    log_text = setup.log_file.read_text("utf-8", "replace")
    errors = [ln for ln in log_text.splitlines() if ERROR_PATTERNS.search(ln)]
    problems += [f"log: {ln}" for ln in errors[:20]]
    out_text = b"".join(daemon_out).decode("utf-8", "replace").strip()
    if out_text:
        problems.append(f"daemon output: {out_text[:2000]}")
    flat_daemon, daemon_text = flatness(daemon_samples, opts.duration)
    flat_rpc, rpc_text = flatness(rpc_samples, opts.duration)
    problems += [f"daemon: {p}" for p in flat_daemon] + [f"--rpc: {p}" for p in flat_rpc]
    problems += reconcile(stats, series, totals, sink, setup, log_text)
    print(f"soak: {opts.duration:.0f} s at {opts.rate}/s over {opts.sessions} sessions")
    print(
        f"  generator: {totals.connections} sessions, {totals.accepted} acknowledged, "
        f"{totals.refused} refused, {totals.interrupted} interrupted; rcpts {dict(totals.rcpts)}"
    )
    print(f"  sink: {len(sink.messages())} messages, {sink.connections} sessions")
    print(f"  queue.list: {rpc.calls} calls, slowest {rpc.slowest * 1000:.0f} ms")
    print(f"  queue left: {left} jobs (closed.test: {totals.rcpts[CLOSED_RCPT]}), "
          f"settled {settled_in:.0f} s after the load stopped")  # fmt: skip
    if left != totals.rcpts[CLOSED_RCPT]:
        problems.append(f"{left} jobs left after settling, {totals.rcpts[CLOSED_RCPT]} expected")
    print(f"  daemon: {daemon_text}")
    print(f"  --rpc:  {rpc_text}")
    print(f"  stats.totals: {json.dumps(stats['total'])}")
    print(f"  ran {time.strftime('%Y-%m-%d %H:%M', time.localtime(wall_start))} to "
          f"{time.strftime('%H:%M', time.localtime(stopped))}")  # fmt: skip
    if opts.samples:
        with open(opts.samples, "w") as handle:
            for name, samples in (("daemon", daemon_samples), ("rpc", rpc_samples)):
                for s in samples:
                    handle.write(f"{name} {s.at:.0f} {s.rss_kib} {s.fds} {s.threads}\n")
    sink.close()
    for problem in problems:
        print(f"  PROBLEM {problem}")
    print("soak: OK" if not problems else f"soak: {len(problems)} problems")
    return 0 if not problems else 1


def reconcile(
    stats: dict[str, Any],
    series: dict[str, Any],
    totals: LoadTotals,
    sink: SmtpSink,
    setup: MtaSetup,
    log_text: str,
) -> list[str]:
    """The counters against what the generator sent and the sink and mailbox received."""
    rows = {row["name"]: row for row in stats["mailers"]}
    esmtp, local, relay = rows.get("esmtp", {}), rows.get("local", {}), rows.get("relay", {})
    messages = sink.messages()
    dsns = sum(1 for m in messages if m.sender == "")
    sink_rcpts = sum(len(m.recipients) for m in messages)
    mbox = setup.spool_dir / "alice"
    in_mbox = mbox.read_bytes().count(b"\nFrom ") + 1 if mbox.exists() else 0
    local_sent = totals.rcpts[LOCAL_RCPT]
    bounces = totals.rcpts[BOUNCE_RCPT]
    counters = {k: sum(v) for k, v in series["counters"].items()}
    deferred_lines = log_text.count("stat=Deferred")
    checks = [
        ("msgsfr esmtp", esmtp.get("msgsfr", 0), totals.accepted),
        ("kbytes from esmtp", esmtp.get("bytes_from", 0), totals.kbytes),
        ("msgsto local", local.get("msgsto", 0), local_sent),
        ("messages in alice's mbox", in_mbox, local_sent),
        ("msgsto relay", relay.get("msgsto", 0), sink_rcpts),
        ("DSNs at the sink", dsns, bounces),
        ("sink deliveries without DSNs", sink_rcpts - dsns, totals.rcpts[SINK_RCPT]),
        ("msgsrej", stats["total"]["msgsrej"], 0),
        ("msgsdis", stats["total"]["msgsdis"], 0),
        ("connections from", stats["connections"]["from"], totals.connections),
        ("series received", counters.get("received", 0), totals.accepted),
        ("series bounced", counters.get("bounced", 0), bounces),
        ("series deferred", counters.get("deferred", 0), deferred_lines),
        ("series delivered", counters.get("delivered", 0), local_sent + sink_rcpts),
    ]
    print("  reconciliation (counter = expected):")
    problems = []
    for name, got, want in checks:
        mark = "ok" if got == want else "MISMATCH"
        print(f"    {name:32s} {got:8d} = {want:8d}  {mark}")
        if got != want:
            problems.append(f"{name}: {got}, expected {want}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=1800.0)
    ap.add_argument("--rate", type=float, default=10.0, help="messages a second, all sessions")
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--sample-every", type=float, default=10.0)
    ap.add_argument("--rpc-every", type=float, default=3.0)
    ap.add_argument(
        "--settle", type=float, default=900.0, help="time limit for the queue to settle"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--samples", type=Path, help="write every sample to this file")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    opts = ap.parse_args()
    base = opts.keep or Path(tempfile.mkdtemp(prefix="postroom-soak-"))
    base.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return run(opts, base)
    finally:
        if opts.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
