"""Side by side: how fast Postroom, Postfix, Sendmail and smtp-sink accept mail.

In one run, in turn, on loopback ports, Postfix's ``smtp-source`` sends N
messages of 4 KB (one per connection, its default) at 1, 10 and 50 sessions to:

- **Postroom** (``postroom-mta -bD``, queue-only; a 250 only after df and qf
  are fdatasynced and the queue directory fsynced),
- **Postfix 3.7** (Debian's package unpacked privately; private
  config/queue/data directories; mail put on hold, so it stays queued),
- **Sendmail 8.17** (Debian's package unpacked privately; ``-bD`` on a
  loopback port, queue-only, files-only service switch, private namespaces),
- **smtp-sink** (Postfix's test server: no disk at all, the upper bound).

Each server starts fresh with an empty queue for each session count and is
stopped by pid afterwards; all queues are under one work folder (``--work-dir``,
the system's temporary folder by default), whose file creation and sync rates
are measured and printed first.  The queues are removed only at the end of the
whole run, and the disk is synced between two servers: ext4 without a journal
(this project's machine) skips, when it allocates an inode, every inode freed in
the last minute (six while its inode-table block is dirty), checking each, so
deleting one server's 5,000-10,000 queue files just before the next server ran
made that server's file creations several times slower (see docs/benchmarks.md);
for the same reason a run starts only a minute after the previous one removed
its queues.
For each server it prints messages/s and the server's CPU seconds per message
(its whole process tree, from /proc) beside the whole machine's busy CPU per
message (which also counts the client, and the kernel's own workers: Postroom's
fsyncs run there, through kernel AIO, so its tree alone would undercount it),
checks that every message is in its queue, and then Postroom's ratio to each peer.
``--repeat`` runs the whole comparison several times, each round starting with
the next server: on a shared machine the ratio within a round is what counts.
``uptime``'s load is printed before each round.

    .venv/bin/python bench/compare_mta.py [--messages 5000] [--sessions 1,10,50]
        [--servers postroom,postfix,sendmail,sink] [--repeat 1] [--work-dir DIR]

Must run as root (Postfix's master and Sendmail's daemon). Exits 2 with the
reason when a server cannot be set up, 1 when one loses messages. Nothing is
installed and the system's mail configuration is never touched; Postfix's
``postfix`` user and ``postdrop`` group are created if missing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.debpeers import postfix_tool
from bench.mta_servers import LABELS, NAMES, Server, make_server, versions, wait_ready
from bench.postfix_peer import PeerSetupError
from bench.proctree import tree_cpu_seconds
from tests.support.mta import free_port

SOURCE_TIMEOUT = 600.0
FREED_INODE_SECONDS = 70.0  # ext4 without a journal skips inodes freed in the last 60 s
CLEANED_STAMP = ".postroom-compare-cleaned"  # in --work-dir: when the last run removed its queues


class LostMail(Exception):
    """A server did not keep what it acknowledged, or the sending failed."""


@dataclass
class Measurement:
    server: str
    sessions: int
    rate: float  # messages per second
    cpu_per_msg: float  # server CPU seconds per message
    machine_cpu_per_msg: float  # busy CPU seconds of the whole machine per message
    idle: float  # share of the machine's time spent idle (not counting iowait)


def send(port: int, sessions: int, messages: int, size: int) -> float:
    """Run smtp-source; returns the elapsed seconds. Raises on a failed run."""
    argv, env = postfix_tool("smtp-source")
    start = time.monotonic()
    done = subprocess.run(
        [*argv, "-s", str(sessions), "-m", str(messages), "-l", str(size),
         "-f", "bench@example.org", "-t", "alice@example.test", "-M", "client.example.org",
         f"127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=SOURCE_TIMEOUT, check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    if done.returncode != 0 or done.stderr.strip():
        raise RuntimeError(f"smtp-source exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed


def unused_folder(base: Path, stem: str) -> Path:
    """``base/stem-N`` for the first N not yet used (earlier rounds' queues are kept)."""
    number = 1
    while (base / f"{stem}-{number}").exists():
        number += 1
    return base / f"{stem}-{number}"


def measure(name: str, sessions: int, opts: argparse.Namespace, base: Path) -> Measurement:
    options: dict[str, object] = opts.postroom_options
    return measure_server(
        name,
        sessions,
        opts.messages,
        opts.size,
        base,
        options=options,
        label=LABELS[name],
        stem=name,
    )


def measure_server(
    kind: str,
    sessions: int,
    messages: int,
    size: int,
    base: Path,
    *,
    options: dict[str, object],
    label: str,
    stem: str,
    code: Path | None = None,
) -> Measurement:
    """One run of ``kind`` in a new folder under ``base``: smtp-source sends ``messages``
    messages of ``size`` bytes over ``sessions`` sessions.  ``code``: a folder holding
    ``postroom/core``, put first on the server's ``PYTHONPATH``.  Raises
    :class:`LostMail` if the send fails or the queue does not hold every message."""
    work = unused_folder(base, f"{stem}-{sessions}")
    port = free_port()
    server = make_server(kind, work, port, options)
    try:
        start_with_pythonpath(server, code)
        wait_ready(server, port, label)
        machine_before, before = cpu_times(), tree_cpu_seconds(server.pid)
        try:
            elapsed = send(port, sessions, messages, size)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            raise LostMail(f"{label} at {sessions} sessions: {exc}") from exc
        machine_after, cpu = cpu_times(), tree_cpu_seconds(server.pid) - before
        queued = server.queued()
        if queued is not None and queued != messages:
            raise LostMail(
                f"{label} at {sessions} sessions: {messages} messages acknowledged, "
                f"{queued} in its queue"
            )
    finally:
        server.stop()
        os.sync()  # what this server left unwritten is not written during the next one's run
    delta = [b - a for a, b in zip(machine_before, machine_after, strict=True)]
    busy = (sum(delta) - delta[3] - delta[4]) / os.sysconf("SC_CLK_TCK")
    idle = delta[3] / max(1, sum(delta))
    return Measurement(kind, sessions, messages / elapsed, cpu / messages, busy / messages, idle)


def start_with_pythonpath(server: Server, code: Path | None) -> None:
    """Start ``server``, with ``code`` first on its ``PYTHONPATH`` when given."""
    saved = os.environ.get("PYTHONPATH")
    if code is not None:
        os.environ["PYTHONPATH"] = str(code)
    try:
        server.start()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def cpu_times() -> list[int]:
    """The machine's ``cpu`` line of ``/proc/stat``: user nice system idle iowait ..."""
    with open("/proc/stat") as stat:
        return [int(field) for field in stat.readline().split()[1:]]


def disk_probe(folder: Path, count: int = 200) -> str:
    """File creations per second and 4 KB write+fdatasync per second in ``folder``."""
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=folder))  # removed with the run's folder
    start = time.monotonic()
    for n in range(count):
        os.close(os.open(probe / f"c{n}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    creates = count / (time.monotonic() - start)
    fd = os.open(probe / "sync", os.O_WRONLY | os.O_CREAT, 0o600)
    start = time.monotonic()
    for _ in range(count // 4):
        os.write(fd, b"x" * 4096)
        os.fdatasync(fd)
    syncs = (count // 4) / (time.monotonic() - start)
    os.close(fd)
    return f"{creates:.0f} file creations/s, {syncs:.0f} 4 KB write+fdatasync/s"


def wait_for_freed_inodes(work_dir: Path, emit: Callable[[str], None]) -> None:
    """Wait until the queues the previous run removed no longer slow file creation."""
    try:
        cleaned = (work_dir / CLEANED_STAMP).stat().st_mtime
    except FileNotFoundError:
        return
    left = cleaned + FREED_INODE_SECONDS - time.time()
    if left > 0:
        emit(f"-- waiting {left:.0f} s: the last run removed its queues less than a minute ago")
        time.sleep(left)


def remove_queues(base: Path, work_dir: Path) -> None:
    """Remove the run's folder, sync, and note when (for the next run's wait)."""
    shutil.rmtree(base, ignore_errors=True)
    os.sync()
    (work_dir / CLEANED_STAMP).touch()


def uptime() -> str:
    try:
        done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
        return done.stdout.strip()
    except OSError:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_round(
    opts: argparse.Namespace, base: Path, emit: Callable[[str], None], number: int = 0
) -> list[Measurement]:
    """Every server at every session count; round ``number`` starts with the
    ``number``-th server, so no server always runs first or right after another."""
    shift = number % len(opts.server_names)
    order = opts.server_names[shift:] + opts.server_names[:shift]
    emit(f"-- {uptime()}")
    emit(f"-- disk ({base}): {disk_probe(base)}")
    emit(f"{'sessions':>8}  {'server':<10} {'msg/s':>8} {'CPU ms/msg':>11} {'machine':>8}")
    results = []
    for sessions in opts.session_counts:
        for name in order:
            got = measure(name, sessions, opts, base)
            results.append(got)
            cpu, machine = got.cpu_per_msg * 1e3, got.machine_cpu_per_msg * 1e3
            emit(f"{sessions:>8}  {LABELS[name]:<10} {got.rate:>8.0f} {cpu:>11.2f} {machine:>8.2f}")
    return results


def ratios(results: list[Measurement], sessions: int) -> dict[str, float]:
    by_name = {m.server: m for m in results if m.sessions == sessions}
    ours = by_name.get("postroom")
    if ours is None:
        return {}
    return {name: ours.rate / m.rate for name, m in by_name.items() if name != "postroom"}


def summary(rounds: list[list[Measurement]], opts: argparse.Namespace) -> list[str]:
    peers = [n for n in opts.server_names if n != "postroom"]
    head = f"{'sessions':>8}  " + " ".join(f"{LABELS[n]:>18}" for n in opts.server_names)
    title = "msg/s (server CPU ms/msg) [machine CPU ms/msg]"
    lines = [f"median of {len(rounds)} round(s): {title}", head]
    for sessions in opts.session_counts:
        cells = []
        for name in opts.server_names:
            found = [m for r in rounds for m in r if m.server == name and m.sessions == sessions]
            rate = statistics.median(m.rate for m in found)
            cpu = statistics.median(m.cpu_per_msg for m in found) * 1e3
            machine = statistics.median(m.machine_cpu_per_msg for m in found) * 1e3
            cells.append(f"{rate:.0f} ({cpu:.1f}) [{machine:.1f}]".rjust(18))
        lines.append(f"{sessions:>8}  " + " ".join(cells))
    if "postroom" in opts.server_names and peers:
        lines.append("Postroom's ratio to each peer: median of the rounds (each round):")
        for sessions in opts.session_counts:
            parts = []
            for name in peers:
                each = [ratios(r, sessions)[name] for r in rounds]
                listed = "/".join(f"{v:.2f}" for v in each)
                parts.append(f"{LABELS[name]} {statistics.median(each):.2f}x ({listed})")
            lines.append(f"{sessions:>8}  " + ", ".join(parts))
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sessions", default="1,10,50")
    ap.add_argument("--servers", default=",".join(NAMES))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--work-dir", type=Path, default=Path(tempfile.gettempdir()),
        help="where the servers' private folders (and queues) are made; default: %(default)s",
    )  # fmt: skip
    ap.add_argument(
        "--postroom-option", action="append", default=[], metavar="NAME=VALUE",
        help="extra Postroom configuration option (integer values), e.g. DaemonProcesses=4",
    )  # fmt: skip
    opts = ap.parse_args(argv)
    opts.session_counts = [int(s) for s in opts.sessions.split(",") if s]
    opts.server_names = [s.strip() for s in opts.servers.split(",") if s.strip()]
    unknown = [s for s in opts.server_names if s not in NAMES]
    if unknown:
        ap.error(f"unknown server(s) {unknown}; choose from {', '.join(NAMES)}")
    options: dict[str, object] = {}
    for item in opts.postroom_option:
        key, _, value = item.partition("=")
        options[key] = int(value) if value.lstrip("-").isdigit() else value
    opts.postroom_options = options
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    started = time.monotonic()

    def emit(text: str) -> None:
        print(text, flush=True)

    now = datetime.datetime.now().astimezone()
    emit(f"compare_mta: {now:%Y-%m-%d %H:%M %Z}; nproc {os.cpu_count()}; {versions()}")
    emit(f"{opts.messages} messages of {opts.size} B a run, smtp-source, sessions {opts.sessions}")
    opts.work_dir.mkdir(parents=True, exist_ok=True)
    wait_for_freed_inodes(opts.work_dir, emit)
    base = Path(tempfile.mkdtemp(prefix="postroom-compare-", dir=opts.work_dir))
    os.chmod(base, 0o755)  # Postfix's and Sendmail's users must reach their folders
    rounds: list[list[Measurement]] = []
    try:
        for number in range(opts.repeat):
            emit(f"round {number + 1} of {opts.repeat}")
            rounds.append(one_round(opts, base, emit, number))
    except PeerSetupError as exc:
        print(f"compare_mta: a server could not be set up: {exc}", file=sys.stderr)
        print("compare_mta: fix the cause above, or leave it out with --servers", file=sys.stderr)
        return 2
    except LostMail as exc:
        print(f"compare_mta: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        remove_queues(base, opts.work_dir)
    for line in summary(rounds, opts):
        emit(line)
    emit(f"compare_mta: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
