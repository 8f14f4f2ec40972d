"""Benchmark: messages per second accepted into Postroom's durable queue.

Postfix's ``smtp-source`` (from Debian's ``postfix`` package, unpacked, not
installed) sends N messages of 4 KB at 1, 10 and 50 sessions to
``postroom-mta -bD`` on loopback; every 250 means df, qf and directory were
fsynced. Printed beside the disk's raw fsync rate measured in the same run,
and the server's CPU seconds per message (from /proc).

    .venv/bin/python bench/smtp_accept.py [--messages 5000] [--sessions 1,10,50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.debpeers import postfix_tool
from bench.proctree import tree_cpu_seconds
from tests.support.mta import MtaSetup, RunningMta


def fsync_rate(directory: Path, seconds: float = 2.0) -> tuple[float, float]:
    """(fsyncs/s of a 4 KB append, create+fsync+rename+dir-fsync cycles/s) in ``directory``."""
    data = b"x" * 4096
    path = directory / "fsync-probe"  # removed with the other probes below
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    count, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        os.write(fd, data)
        os.fsync(fd)
        count += 1
    os.close(fd)
    plain = count / (time.monotonic() - start)
    dfd = os.open(directory, os.O_RDONLY)
    count, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        tmp = directory / f"tf-probe{count}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.rename(tmp, directory / f"qf-probe{count}")
        os.fsync(dfd)
        count += 1
    os.close(dfd)
    cycle = count / (time.monotonic() - start)
    for p in directory.glob("*-probe*"):
        p.unlink()
    return plain, cycle


def run_once(mta: RunningMta, sessions: int, messages: int, size: int) -> tuple[float, float]:
    argv, env = postfix_tool("smtp-source")
    assert mta.proc is not None
    before = tree_cpu_seconds(mta.proc.pid)
    start = time.monotonic()
    subprocess.run(
        [
            *argv,
            "-s",
            str(sessions),
            "-m",
            str(messages),
            "-l",
            str(size),
            "-f",
            "bench@example.org",
            "-t",
            "alice@example.test",
            "-M",
            "client.example.org",
            f"127.0.0.1:{mta.port()}",
        ],
        env=env,
        check=True,
        timeout=3600,
    )
    elapsed = time.monotonic() - start
    cpu = tree_cpu_seconds(mta.proc.pid) - before
    queued = len(list(mta.setup.queue_dir.glob("qf*")))
    if queued != messages:
        raise SystemExit(f"expected {messages} queued messages, found {queued}")
    return messages / elapsed, cpu / messages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--sessions", default="1,10,50")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE",
        help="extra configuration option, e.g. DaemonProcesses=4",
    )  # fmt: skip
    opts = ap.parse_args()
    options: dict[str, object] = {"LogLevel": 9, "MaxConnectionsPerHost": 200}
    for item in opts.option:
        key, _, value = item.partition("=")
        options[key] = int(value) if value.isdigit() else value
    base = Path(tempfile.mkdtemp(prefix="postroom-bench-", dir=opts.work_dir))
    try:
        setup = MtaSetup(base / "mta", options=options)
        setup.write(listeners={"MTA": ""})
        plain, cycle = fsync_rate(setup.queue_dir)
        print(
            f"disk: {plain:8.0f} fsync/s (4 KB append)   {cycle:8.0f} commit cycles/s "
            "(create+fsync+rename+dir fsync)"
        )
        print(
            f"{'sessions':>8} {'msg/s':>9} {'CPU ms/msg':>11}   ({opts.messages} x "
            f"{opts.size} B, smtp-source)"
        )
        for sessions in (int(s) for s in opts.sessions.split(",")):
            for item in setup.queue_dir.iterdir():
                if item.is_file():
                    item.unlink()
            with RunningMta(setup) as mta:
                rate, cpu = run_once(mta, sessions, opts.messages, opts.size)
            print(f"{sessions:>8} {rate:>9.0f} {cpu * 1000:>11.2f}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
