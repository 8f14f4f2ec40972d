"""Benchmark: ``mailq`` of a 100,000-message queue, Postroom against Sendmail 8.17, one run.

Fills a queue with N messages through the real ``QueueStore`` (reused from ``--queue-dir``
when it already holds them), then, round after round, times on the same queue:

- Sendmail 8.17's ``sendmail -bp`` (the test peer, ``tests/peers/sendmail.py``);
- ``postroom-mta -bp`` with a *cold* index (``.postroom-index`` removed first: every
  control file is read, as Sendmail does);
- ``postroom-mta -bp`` with a warm index after the folder changed (a file created and
  removed: one ``scandir`` checks every name and inode, nothing is re-read);
- the same after ``--new`` new messages arrived (those files are read);
- ``postroom-mta -bp`` with a warm index on a *settled* folder (unchanged for over 2 s:
  the folder's ``stat`` stands for it, no directory read).

Each command runs under ``/usr/bin/time`` for its peak memory; the best of ``--runs``
times is printed with the ratio to Sendmail's best, the load average before and after,
the machine and the date.  Our output is checked to be byte for byte Sendmail's.

    .venv/bin/python bench/mailq.py [--messages 100000] [--queue-dir DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from postroom.core.queue import QueueStore  # noqa: E402

from tests.control.queuefill import fill_queue, job_qf  # noqa: E402
from tests.control.support import write_config  # noqa: E402
from tests.peers.sendmail import SendmailPeer, ensure_sendmail  # noqa: E402

INDEX = ".postroom-index"


@dataclass
class Figures:
    """Times and peak memory of one scenario over the rounds."""

    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    def add(self, seconds: float, rss_kb: int) -> None:
        self.seconds.append(seconds)
        self.rss_kb.append(rss_kb)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    """(wall seconds, peak RSS in kB, stdout) of one command under /usr/bin/time."""
    with tempfile.NamedTemporaryFile(prefix="bench-time-") as report:
        cmd = ["/usr/bin/time", "-o", report.name, "-f", "%M", *argv]
        start = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, env=env, check=True)
        seconds = time.monotonic() - start
        rss = int(Path(report.name).read_text().split()[-1])
    return seconds, rss, done.stdout


def prepare_queue(queue_dir: Path, count: int) -> None:
    have = sum(1 for name in os.listdir(queue_dir) if name.startswith("qf"))
    if have != count:
        for entry in os.scandir(queue_dir):
            if entry.is_dir():
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        start = time.monotonic()
        fill_queue(queue_dir, count)
        print(f"filled the queue with {count:,} messages in {time.monotonic() - start:.1f} s")


def add_messages(queue_dir: Path, count: int) -> list[str]:
    store = QueueStore(queue_dir, fsync=False)
    ids = []
    for i in range(count):
        writer = store.new_message()
        writer.write(b"new message\n")
        writer.commit(job_qf(writer.qid, 12, i, int(time.time())))
        ids.append(writer.qid)
    return ids


def remove_messages(queue_dir: Path, ids: list[str]) -> None:
    for qid in ids:
        for prefix in ("qf", "df"):
            os.unlink(queue_dir / (prefix + qid))


def touch_folder(queue_dir: Path) -> None:
    marker = queue_dir / "xfBENCHMARK"
    marker.write_bytes(b"")
    marker.unlink()


def settle(queue_dir: Path) -> None:
    """Wait until the folder has been unchanged for over 2 s (what the stamp requires)."""
    while True:
        st = os.stat(queue_dir)
        age = time.time() - max(st.st_mtime, st.st_ctime)
        if age > 2.2:
            return
        time.sleep(2.3 - age)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queue-dir", type=Path, help="keep the filled queue here for reuse")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new", type=int, default=1000, help="messages added between runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="postroom-mailq-bench-"))
    try:
        config = write_config(work / "mta")
        queue_dir = config.parent / "mqueue"
        if args.queue_dir is not None:
            args.queue_dir.mkdir(parents=True, exist_ok=True)
            queue_dir = args.queue_dir.resolve()
            text = config.read_text().replace('"mqueue"', f'"{queue_dir}"')
            config.write_text(text)
        prepare_queue(queue_dir, args.messages)
        (work / "sendmail").mkdir()
        peer = SendmailPeer(ensure_sendmail(), work / "sendmail", queue_dir)
        theirs_argv, theirs_env = peer.command("-bp"), peer.env()
        ours = [sys.executable, "-m", "postroom.core.cli", "-bp", "-C", str(config)]
        env = {k: v for k, v in os.environ.items() if k != "TZ"}  # as Sendmail: system zone
        load_before = os.getloadavg()
        figures = {
            name: Figures()
            for name in ("sendmail", "cold", "changed", f"{args.new} new", "settled")
        }
        for run in range(args.runs):
            seconds, rss, expected = timed(theirs_argv, theirs_env)
            figures["sendmail"].add(seconds, rss)
            shutil.rmtree(queue_dir / INDEX, ignore_errors=True)
            seconds, rss, out = timed(ours, env)
            assert out == expected, "our listing differs from Sendmail's"
            figures["cold"].add(seconds, rss)
            touch_folder(queue_dir)
            seconds, rss, out = timed(ours, env)
            figures["changed"].add(seconds, rss)
            added = add_messages(queue_dir, args.new)
            seconds, rss, out = timed(ours, env)
            figures[f"{args.new} new"].add(seconds, rss)
            remove_messages(queue_dir, added)
            timed(ours, env)  # the index follows the removal
            settle(queue_dir)
            timed(ours, env)  # a scan of a settled folder writes the stamp
            seconds, rss, out = timed(ours, env)
            assert out == expected, "our listing differs from Sendmail's"
            figures["settled"].add(seconds, rss)
            print(f"round {run + 1} done")
        load_after = os.getloadavg()
        report(args, figures, load_before, load_after)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(
    args: argparse.Namespace,
    figures: dict[str, Figures],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    best = min(figures["sendmail"].seconds)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {_cpu()}, "
          f"{os.cpu_count()} CPUs, Linux {platform.release()}")  # fmt: skip
    print(f"queue: {args.messages:,} messages; best of {args.runs}")
    print(f"load average before {_load(load_before)}, after {_load(load_after)}")
    print(f"{'':<26}{'best':>8}{'runs':>24}{'peak RSS':>10}{'vs Sendmail':>13}")
    labels = {
        "sendmail": "Sendmail 8.17 mailq",
        "cold": "ours, cold (no index)",
        "changed": "ours, folder changed",
        f"{args.new} new": f"ours, {args.new:,} new jobs",
        "settled": "ours, settled folder",
    }
    for name, fig in figures.items():
        runs = " ".join(f"{s:.3f}" for s in fig.seconds)
        ratio = best / min(fig.seconds)
        print(
            f"{labels[name]:<26}{min(fig.seconds):>7.3f}s{runs:>24}"
            f"{max(fig.rss_kb) / 1024:>8.0f}MB{ratio:>12.1f}x"
        )


def _load(avg: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in avg)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
