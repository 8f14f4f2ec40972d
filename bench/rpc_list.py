"""Benchmark: ``queue.list`` of 100,000 queued messages over the local and SSH transports.

Fills a queue with N messages through the real ``QueueStore`` (reused from
``--queue-dir`` when it already holds them), then times, from the client's side:

- ``queue.list`` over ``LocalTransport`` (the server as a child process) and over
  ``SshTransport`` to a real OpenSSH ``sshd`` on loopback (connection set-up timed
  separately), each in directory order (``sort="none"``: rows stream while the folder
  is read) and sorted by arrival (the default: the first chunk waits for the sort);
  figures are rows per second and the time to the first chunk;
- each transport once with the rows index removed first (every control file read), then
  the best of ``--runs`` with the index warm;
- ``postroom-mta -bp`` (our ``mailq``) on the same queue, and Sendmail 8.17's ``mailq``
  when the test peer can be obtained (``tests/peers/sendmail.py``); ``bench/mailq.py``
  compares those two in detail.

    .venv/bin/python bench/rpc_list.py [--messages 100000] [--queue-dir DIR] [--runs 3]

The best of ``--runs`` is printed (these are short runs on a shared machine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postroom.core.control.client import RpcClient, Transport
from postroom.gui.transport import KeyFileAuth, LocalTransport, RemoteCommand, SshTransport

from tests.control.queuefill import fill_queue
from tests.control.support import SERVER, write_config
from tests.transport.sshd import SshServer


def prepare_queue(queue_dir: Path, count: int) -> None:
    have = sum(1 for name in os.listdir(queue_dir) if name.startswith("qf"))
    if have != count:
        for entry in os.scandir(queue_dir):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)  # the listing index
            else:
                os.unlink(entry.path)
        start = time.monotonic()
        fill_queue(queue_dir, count)
        print(f"filled the queue with {count} messages in {time.monotonic() - start:.1f} s")


def time_list(client: RpcClient, params: dict[str, Any]) -> tuple[float, float, int]:
    """(seconds to the first chunk, seconds in all, rows) for one queue.list."""
    first: list[float] = []
    rows = 0

    def on_chunk(chunk: list[Any]) -> None:
        nonlocal rows
        if not first:
            first.append(time.monotonic())
        rows += len(chunk)

    start = time.monotonic()
    result = client.call("queue.list", params, on_chunk=on_chunk, timeout=600)
    total = time.monotonic() - start
    assert result["count"] == rows
    return (first[0] - start if first else total), total, rows


def drop_rows_index(queue_dir: Path) -> None:
    """Remove the rows index, so the next queue.list reads every control file."""
    for name in ("rows", "rows.stamp"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(queue_dir / ".postroom-index" / name)


def bench_transport(
    name: str, make: Callable[[], Transport], runs: int, report: list[str], queue_dir: Path
) -> None:
    start = time.monotonic()
    transport = make()
    client = RpcClient(transport, timeout=600)
    client.call("server.info")
    setup = time.monotonic() - start
    report.append(f"{name}: connect + server.info {setup * 1000:.0f} ms")
    drop_rows_index(queue_dir)
    first, total, rows = time_list(client, {"sort": "none"})
    report.append(
        f"{name}, cold rows index, directory order: {rows} rows in {total:.2f} s; "
        f"first chunk after {first * 1000:.0f} ms"
    )
    for label, params in (("directory order", {"sort": "none"}), ("sorted by arrival", {})):
        best = min((time_list(client, params) for _ in range(runs)), key=lambda t: t[1])
        first, total, rows = best
        report.append(
            f"{name}, {label}: {rows} rows in {total:.2f} s = {rows / total:,.0f} rows/s; "
            f"first chunk after {first * 1000:.0f} ms"
        )
    client.close()


def time_command(argv: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )
        best = min(best, time.monotonic() - start)
    return best


def sendmail_mailq(queue_dir: Path, work: Path, runs: int) -> str:
    try:
        from tests.peers.sendmail import PeerUnavailable, SendmailPeer, ensure_sendmail

        work.mkdir(parents=True, exist_ok=True)
        peer = SendmailPeer(ensure_sendmail(), work, queue_dir)
    except Exception as exc:
        return f"Sendmail 8.17 mailq: not run ({exc})"
    try:
        seconds = time_command(peer.command("-bp"), runs, env=peer.env())
    except (subprocess.CalledProcessError, PeerUnavailable) as exc:
        return f"Sendmail 8.17 mailq: failed ({exc})"
    return f"Sendmail 8.17 mailq (-bp): {seconds:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queue-dir", type=Path, help="keep the filled queue here for reuse")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-ssh", action="store_true")
    parser.add_argument("--no-sendmail", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
    try:
        config = write_config(work / "mta")
        queue_dir = config.parent / "mqueue"
        if args.queue_dir is not None:
            args.queue_dir.mkdir(parents=True, exist_ok=True)
            queue_dir.rmdir()
            queue_dir.symlink_to(args.queue_dir.resolve())
            text = config.read_text().replace('"mqueue"', f'"{args.queue_dir.resolve()}"')
            config.write_text(text)
            queue_dir = args.queue_dir.resolve()
        prepare_queue(queue_dir, args.messages)
        report: list[str] = [f"queue: {args.messages} messages, {os.cpu_count()} CPUs"]
        local = lambda: LocalTransport(config, command=SERVER)  # noqa: E731
        bench_transport("local", local, args.runs, report, queue_dir)
        if not args.no_ssh:
            sshd = SshServer(work / "sshd").start()
            try:
                known = work / "known_hosts"
                public = (sshd.base / "host_ed25519.pub").read_text().split()
                known.write_text(f"[127.0.0.1]:{sshd.port} {public[0]} {public[1]}\n")

                def ssh() -> Transport:
                    transport = SshTransport(
                        "127.0.0.1",
                        sshd.user,
                        KeyFileAuth(sshd.client_key),
                        port=sshd.port,
                        known_hosts=known,
                        user_known_hosts=work / "none",
                        remote=RemoteCommand(
                            programs=(sys.executable,),
                            args=("-m", "postroom.core.control"),
                            config=str(config),
                        ),
                    )
                    transport.connect()
                    return transport

                bench_transport("ssh (loopback)", ssh, args.runs, report, queue_dir)
            finally:
                sshd.stop()
        ours = time_command(
            [sys.executable, "-m", "postroom.core.cli", "-bp", "-C", str(config)], args.runs
        )
        report.append(f"postroom-mta -bp (our mailq): {ours:.2f} s")
        if not args.no_sendmail:
            report.append(sendmail_mailq(queue_dir, work / "sendmail", args.runs))
        print("\n".join(report))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
