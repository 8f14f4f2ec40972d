"""Benchmark: messages per second delivered from the queue to Postfix's ``smtp-sink``.

A queue of N messages (4 KB, one recipient each at a remote domain) is built
with Postroom's own queue writer, then one queue run delivers it through
``SmartHost = [127.0.0.1]:<port>`` to ``smtp-sink`` (Debian ``postfix``,
unpacked, not installed) with 1 and with 10 jobs in flight. Every delivered
recipient is recorded durably (the qf rewrite or removal is fsynced).

    .venv/bin/python bench/deliver.py [--messages 10000] [--parallel 1,10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postroom.core.config.loader import load_config
from postroom.core.deliver import QueueRunner
from postroom.core.logging.maillog import MailLog
from postroom.core.queue import QueueStore
from postroom.core.receive.envelope import (
    Origin,
    RecipientRequest,
    Transaction,
    build_queue_file,
)

from bench.debpeers import postfix_tool
from tests.support.mta import MtaSetup, free_port

BODY = b"".join(
    b"line %04d of a benchmark message body, 64 octets long.........\n" % i for i in range(64)
)


def fill_queue(queue_dir: Path, count: int) -> None:
    store = QueueStore(queue_dir, fsync=False)  # setup speed; delivery itself fsyncs
    origin = Origin(protocol="ESMTP", client="localhost [127.0.0.1]", helo="bench.example")
    headers = [("Subject", "bench"), ("From", "bench@example.org")]
    for i in range(count):
        writer = store.new_message()
        writer.write(BODY)
        tx = Transaction(
            sender="bench@example.org", recipients=[RecipientRequest(f"user{i}@remote.example")]
        )
        qf = build_queue_file(
            writer.qid,
            tx,
            origin,
            headers,
            size=len(BODY) + 40,
            has_8bit=False,
            host_name="mail.example.test",
        )
        writer.commit(qf)


def run(setup: MtaSetup, parallel: int) -> float:
    config = load_config(setup.config_path)
    log = MailLog(config.log_level, config.log_file)
    runner = QueueRunner(config, log=log, max_active=parallel)
    start = time.monotonic()
    asyncio.run(runner.run_once())
    return time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--parallel", default="1,10")
    opts = ap.parse_args()
    sink_argv, env = postfix_tool("smtp-sink")
    base = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
    port = free_port()
    sink = subprocess.Popen([*sink_argv, "-u", "nobody", f"127.0.0.1:{port}", "256"], env=env)
    try:
        setup = MtaSetup(
            base / "mta",
            options={
                "LogLevel": 6,
                "SmartHost": f"[127.0.0.1]:{port}",
                "HostStatusDirectory": "",
            },
        )
        setup.options.pop("HostStatusDirectory")
        setup.write(listeners={"MTA": ""})
        print(f"{'parallel':>8} {'msg/s':>9}   ({opts.messages} x {len(BODY)} B -> smtp-sink)")
        for parallel in (int(p) for p in opts.parallel.split(",")):
            fill_queue(setup.queue_dir, opts.messages)
            elapsed = run(setup, parallel)
            left = sum(1 for n in os.listdir(setup.queue_dir) if n.startswith("qf"))
            if left:
                raise SystemExit(f"{left} messages were not delivered; see {setup.log_file}")
            print(f"{parallel:>8} {opts.messages / elapsed:>9.0f}", flush=True)
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
