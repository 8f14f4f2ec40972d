"""How fast the queue browser loads a big queue: first rows, full sorted load, memory.

``.venv/bin/python bench/gui_queue_load.py [--messages 100000] [--queue-dir DIR]
[--no-ssh] [--runs 3] [--objects]``

Fills a private queue with ``--messages`` jobs through the real ``QueueStore``
(``tests/control/queuefill.py``; kept in ``--queue-dir`` for the next run when given,
since filling 100,000 takes minutes), then opens the real Queue screen (offscreen) on a
real RPC server -- over the local transport and over SSH to a throw-away OpenSSH server
on loopback (``tests/transport/sshd.py``) -- and measures, per run:

- first rows: from ``queue.list`` being sent until the table has its first rows;
- full load: until every row is in the model and sorted (by arrival, the default);
- client CPU: the app's own CPU time over the full load (its reader, worker and GUI
  threads; the server process is not counted) -- steadier than wall time on a busy
  machine;
- longest stall: the longest gap between ticks of a 10 ms timer on the GUI thread
  during the load (how long the window could not react);
- resort: sorting the loaded table by sender (a header click);
- the app's peak resident memory (``ru_maxrss``, after the first run: later runs
  load again into the same process).

The browser asks for ``row_format="array"`` when the server offers it (each line says
which format came); ``--objects`` makes it ask for object rows, for comparison.

Targets (issue 7): first rows < 0.3 s, full load < 2 s local and < 4 s over SSH,
< 400 MB.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from postroom.core.control.client import Transport  # noqa: E402
from postroom.gui.interpreter import tune_interpreter  # noqa: E402
from postroom.gui.models.queue_model import Column  # noqa: E402
from postroom.gui.models.session import Session  # noqa: E402
from postroom.gui.qt_client import QtRpcClient  # noqa: E402
from postroom.gui.settings import Settings  # noqa: E402
from postroom.gui.transport import KeyFileAuth, SshTransport  # noqa: E402
from postroom.gui.views.openers import local_opener  # noqa: E402
from postroom.gui.views.queue_screen import QueueScreen  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.control.queuefill import fill_queue  # noqa: E402
from tests.control.support import write_config  # noqa: E402
from tests.transport.conftest import remote_command  # noqa: E402
from tests.transport.sshd import SshServer  # noqa: E402


def spin(until: Callable[[], bool], limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out")
        loop = QEventLoop()
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def measure(
    name: str, opener: Callable[[], Transport], settings: Settings, count: int, objects: bool
) -> None:
    session = Session(name, QtRpcClient(opener, name))
    session.start()
    # settled: server.info and events.subscribe (which counts the queue) answered, so
    # queue.list is not timed while it waits behind them on the server
    spin(lambda: session.info is not None and session.counts is not None)
    screen = QueueScreen(session, settings)
    if objects:
        screen.loader.server_info = lambda: None  # as if the server offered no arrays
    row_format = "array" if screen.loader.arrays_offered() else "object"
    screen.resize(1300, 800)
    screen.show()
    spin(lambda: screen.isVisible())
    marks: dict[str, float] = {}
    screen.model.rowsInserted.connect(lambda *_: marks.setdefault("first", time.perf_counter()))
    screen.loader.finished.connect(lambda _s: marks.setdefault("full", time.perf_counter()))
    ticks: list[float] = []
    heartbeat = QTimer(interval=10)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    heartbeat.start()
    cpu = time.process_time()
    start = time.perf_counter()
    screen.reload()
    spin(lambda: "full" in marks)
    cpu = time.process_time() - cpu
    heartbeat.stop()
    stall = max((b - a for a, b in itertools.pairwise([start, *ticks, marks["full"]])), default=0)
    rows = screen.model.rows()
    arrivals = [r.arrival for r in rows]
    assert len(rows) == count, f"{len(rows)} rows, expected {count}"
    assert arrivals == sorted(arrivals), "not sorted by arrival"
    del rows, arrivals
    t0 = time.perf_counter()
    screen.table.sortByColumn(Column.SENDER, Qt.SortOrder.AscendingOrder)
    resort = time.perf_counter() - t0
    print(
        f"{name:>6} ({row_format} rows): first rows {marks['first'] - start:6.3f} s   "
        f"full sorted load {marks['full'] - start:6.3f} s   client CPU {cpu:6.3f} s   "
        f"longest stall {stall * 1000:4.0f} ms   resort {resort:6.3f} s   "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.0f} MB",
        flush=True,
    )
    screen.loader.cancel()
    screen.close()
    screen.deleteLater()
    session.stop()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def prepare_queue(queue_dir: Path, count: int) -> None:
    """Fill ``queue_dir`` with ``count`` jobs unless it already holds exactly that many."""
    have = sum(1 for name in os.listdir(queue_dir) if name.startswith("qf"))
    if have == count:
        print(f"reusing the {count:,} jobs in {queue_dir}", flush=True)
        return
    for name in os.listdir(queue_dir):
        path = queue_dir / name
        if path.is_file():
            path.unlink()
    t0 = time.perf_counter()
    fill_queue(queue_dir, count)
    print(f"filled {count:,} jobs in {time.perf_counter() - t0:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queue-dir", type=Path, help="keep the filled queue here for reuse")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-ssh", action="store_true")
    parser.add_argument("--objects", action="store_true", help="ask for object rows")
    args = parser.parse_args()
    tune_interpreter()  # as the app does
    app = QApplication([])
    with tempfile.TemporaryDirectory(prefix="postroom-gui-bench-") as tmp:
        base = Path(tmp)
        config = write_config(base / "mta")
        queue_dir = config.parent / "mqueue"
        if args.queue_dir is not None:
            queue_dir = args.queue_dir.resolve()
            queue_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            text = config.read_text().replace('"mqueue"', f'"{queue_dir}"')
            config.write_text(text)
        prepare_queue(queue_dir, args.messages)
        settings = Settings(QSettings(str(base / "settings.ini"), QSettings.Format.IniFormat))
        sshd = None if args.no_ssh else SshServer(base / "sshd").start()
        try:
            for _run in range(args.runs):
                opener = local_opener(config)
                measure("local", opener, settings, args.messages, args.objects)
                if sshd is not None:
                    opener = ssh_opener(sshd, config, base)
                    measure("ssh", opener, settings, args.messages, args.objects)
        finally:
            if sshd is not None:
                sshd.stop()
    app.quit()
    return 0


def ssh_opener(sshd: SshServer, config: Path, base: Path) -> Callable[[], Transport]:
    trusted = base / "known_hosts"
    public = (sshd.base / "host_ed25519.pub").read_text().split()
    trusted.write_text(f"[127.0.0.1]:{sshd.port} {public[0]} {public[1]}\n")

    def open_ssh() -> SshTransport:
        transport = SshTransport(
            "127.0.0.1",
            sshd.user,
            KeyFileAuth(sshd.client_key),
            port=sshd.port,
            known_hosts=trusted,
            user_known_hosts=base / "none",
            remote=remote_command(config),
        )
        transport.connect()
        return transport

    return open_ssh


if __name__ == "__main__":
    sys.exit(main())
