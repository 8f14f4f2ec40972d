"""Paired runs: two or more Postroom versions (or Postfix) in turn, round after round.

The machine this project runs on is a VM whose speed drifts: the same server
gives 650 msg/s in one minute and 1,090 a few minutes later.  A change worth a
few per cent only shows when the variants run side by side, again and again,
and each round's ratios are compared.  This script does that:

- each ``--variant NAME=REV`` is Postroom's ``core/`` at git revision ``REV`` of this
  repository (extracted into a private folder and put first on the server's
  ``PYTHONPATH``); ``--variant postfix`` is the Postfix peer of ``compare_mta``;
- every round runs each variant once at each session count, each round in a new
  order (the first variant first in round 1, the second in round 2, ...), with
  Postfix's ``smtp-source`` sending ``--messages`` messages of 4 KB;
- per run it prints msg/s, the server's CPU per message, the whole machine's busy
  CPU per message and its idle share (``/proc/stat``: idle, not counting iowait);
- at the end, per session count, each variant's medians and its ratio to the
  first variant: every round's, and their geometric mean.

    .venv/bin/python bench/paired.py --variant before=HEAD~1 --variant after=HEAD \\
        [--variant postfix] [--sessions 10,50] [--rounds 8] [--messages 3000]

Must run as root when Postfix is a variant.  Queues are kept until the end of the
run and removed then (the next run waits a minute: see ``compare_mta``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.compare_mta import (
    LostMail,
    measure_server,
    remove_queues,
    uptime,
    wait_for_freed_inodes,
)

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Variant:
    name: str
    code: Path | None  # a folder holding ``postroom/core``; None for Postfix


@dataclass(frozen=True)
class Run:
    variant: str
    sessions: int
    round: int
    rate: float
    server_cpu: float  # seconds per message
    machine_cpu: float  # busy seconds of the whole machine per message
    idle: float  # share of the machine's time spent idle


def extract(rev: str, folder: Path) -> Path:
    """``core/`` at ``rev`` as ``folder/postroom/core``; returns ``folder``."""
    package = folder / "postroom"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "core"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive.stdout, check=True)
    return folder


def run_once(variant: Variant, sessions: int, number: int, messages: int, base: Path) -> Run:
    got = measure_server(
        "postroom" if variant.code is not None else "postfix",
        sessions,
        messages,
        4096,
        base,
        options={},
        label=variant.name,
        stem=variant.name,
        code=variant.code,
    )
    return Run(
        variant.name,
        sessions,
        number,
        got.rate,
        got.cpu_per_msg,
        got.machine_cpu_per_msg,
        got.idle,
    )


def describe(run: Run) -> str:
    return (
        f"round {run.round:>2}  {run.variant:<12} {run.sessions:>4} sessions  "
        f"{run.rate:>6.0f} msg/s  server {run.server_cpu * 1e3:.2f} ms/msg  "
        f"machine {run.machine_cpu * 1e3:.2f} ms/msg  idle {run.idle * 100:.0f} %"
    )


def summary(runs: list[Run], names: list[str], session_counts: list[int]) -> list[str]:
    lines = []
    for sessions in session_counts:
        lines.append(
            f"{sessions} sessions: median msg/s, machine ms/msg, idle; ratio to {names[0]}"
        )
        mine = [r for r in runs if r.sessions == sessions]
        first = {r.round: r.rate for r in mine if r.variant == names[0]}
        for name in names:
            own = [r for r in mine if r.variant == name]
            rate = statistics.median(r.rate for r in own)
            machine = statistics.median(r.machine_cpu for r in own) * 1e3
            idle = statistics.median(r.idle for r in own) * 100
            text = f"  {name:<12} {rate:>6.0f}  {machine:.2f}  {idle:>3.0f} %"
            if name != names[0]:
                each = [r.rate / first[r.round] for r in own if r.round in first]
                listed = " ".join(f"{v:.2f}" for v in each)
                above = sum(v >= 1 for v in each)
                text += (
                    f"  geometric mean {statistics.geometric_mean(each):.3f}x "
                    f"({above} of {len(each)} rounds >= 1: {listed})"
                )
            lines.append(text)
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--variant", action="append", required=True, help="NAME=REV or postfix")
    ap.add_argument("--sessions", default="10,50")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()))
    opts = ap.parse_args(argv)
    if len(opts.variant) < 2:
        ap.error("give at least two variants")
    opts.session_counts = [int(s) for s in opts.sessions.split(",")]
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    opts.work_dir.mkdir(parents=True, exist_ok=True)
    wait_for_freed_inodes(opts.work_dir, print)
    base = Path(tempfile.mkdtemp(prefix="postroom-paired-", dir=opts.work_dir))
    os.chmod(base, 0o755)  # Postfix's users must reach their folders
    variants = []
    for spec in opts.variant:
        name, _, rev = spec.partition("=")
        if name == "postfix" and not rev:
            variants.append(Variant("postfix", None))
        else:
            variants.append(Variant(name, extract(rev or "HEAD", base / f"code-{name}")))
    names = [v.name for v in variants]
    print(f"paired: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; variants {opts.variant}")
    runs: list[Run] = []
    try:
        for number in range(1, opts.rounds + 1):
            shift = (number - 1) % len(variants)
            print(f"-- {uptime()}", flush=True)
            for variant in variants[shift:] + variants[:shift]:
                for sessions in opts.session_counts:
                    runs.append(run_once(variant, sessions, number, opts.messages, base))
                    print(describe(runs[-1]), flush=True)
    except LostMail as exc:
        raise SystemExit(str(exc)) from None
    finally:
        remove_queues(base, opts.work_dir)
    print("\n".join(summary(runs, names, opts.session_counts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
