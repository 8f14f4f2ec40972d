"""The daemon process: ``-bD`` in the foreground, ``-bd`` detached with a pid file.

Start-up sweeps the queue (debris removed, unreadable files set aside), binds
the listeners, forks the session workers (:mod:`.workers`) and serves until
SIGTERM/SIGINT. This process (the one in the pid file) keeps the listeners,
the connection limits, the statistics of connections, the queue runs
(``-q`` and ETRN, run here only, never once per worker) and the signals; the
workers run the sessions. SIGHUP re-reads the configuration: a valid one
replaces the old for new sessions (listeners are rebound and a new
generation of workers starts; the old workers finish their sessions), an
invalid one is logged with its file and line and the old one stays in force.
SIGTERM stops accepting, has the workers answer ``421`` to open sessions and
waits for them, so nothing that is not on disk is acknowledged and every
count is in the statistics files when the daemon exits. SIGUSR1 logs the
state, the workers' sessions included.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path

from ..config.loader import ConfigError, load_config
from ..config.model import Config
from ..deliver import QueueRunner, etrn_selection, host_status_store
from ..logging.maillog import MailLog
from ..logging.traffic import TrafficLog
from ..queue.qid import qid_time
from ..queue.store import sweep
from .context import ReceiverContext
from .server import ListenerError, SmtpServer
from .setup import build_context
from .workers import WorkerPool, default_count

WORKER_START_TIMEOUT = 30.0
RELEASE_TIMEOUT = 10.0  # seconds retiring workers get to close the listening sockets


class Daemon:
    """One running daemon: its configuration source, server and log."""

    def __init__(
        self,
        config: Config,
        *,
        overrides: tuple[str, ...] = (),
        traffic_path: Path | None = None,
        ready: Callable[[SmtpServer], None] | None = None,
        queue_interval: float | None = None,
    ) -> None:
        self.config = config
        self.overrides = overrides
        self.log = MailLog(config.log_level, config.log_file)
        self.traffic = TrafficLog(traffic_path) if traffic_path else None
        self.ready = ready
        self.queue_interval = queue_interval
        self.runner: QueueRunner | None = None
        self._runs: set[asyncio.Task[object]] = set()
        self.server: SmtpServer | None = None
        self.pool: WorkerPool | None = None
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        for warning in self.config.warnings:
            self.log.log(4, f"configuration warning: {warning}")
        sweep(Path(self.config.queue_directory), lambda text: self.log.log(1, text))
        context = build_context(self.config, log=self.log, traffic=self.traffic)
        self.runner = self._make_runner(context)
        context.etrn = self.etrn
        count = default_count(self.config.daemon_processes)
        self.server = SmtpServer(context)
        self.server.start()
        self.pool = WorkerPool(log=self.log, on_etrn=self.etrn)
        self.pool.spawn(context, self.server.sockets(), count)
        try:
            await self.pool.wait_ready(WORKER_START_TIMEOUT)
        except Exception:
            await self._close(context)
            raise
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stop.set)
        loop.add_signal_handler(signal.SIGINT, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn_task(self.reload()))
        loop.add_signal_handler(signal.SIGUSR1, lambda: self._spawn_task(self.dump_state()))
        self.log.log(9, f"starting daemon ({self._listening()}, {count} session workers)")
        if self.ready is not None:
            self.ready(self.server)
        ticker = loop.create_task(self._stats_ticker())
        periodic = None
        if self.queue_interval:
            periodic = loop.create_task(
                self.runner.run_periodically(self.queue_interval, self._stop)
            )
        await self._stop.wait()
        self.log.log(9, "stopping daemon (SIGTERM)")
        ticker.cancel()
        if periodic is not None:
            await asyncio.wait([periodic], timeout=30)
        for run in list(self._runs):
            run.cancel()
        await self._close(self.server.context)

    async def _close(self, context: ReceiverContext) -> None:
        """Stop the workers (no more accepting, 421 to their sessions), flush, close files."""
        assert self.server is not None
        if self.pool is not None:
            await self.pool.stop()
        self.server.shutdown()
        context.committer.close()
        context.stats.close()
        if self.traffic is not None:
            self.traffic.close()

    def _spawn_task(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _listening(self) -> str:
        assert self.server is not None
        bound = self.server.bound_addresses()
        return ", ".join(f"{name}={addr[0]}:{addr[1]}" for name, addr in bound.items())

    def _make_runner(self, context: ReceiverContext) -> QueueRunner:
        return QueueRunner(
            context.config,
            log=self.log,
            store=context.store,
            host_status=host_status_store(context.config, self.log),
            stats=context.stats,
            traffic=self.traffic,
        )

    def etrn(self, argument: str) -> None:
        """ETRN: start a queue run for the recipients at ``argument``'s domain."""
        assert self.runner is not None
        task = asyncio.get_running_loop().create_task(
            self.runner.run_once(etrn_selection(argument))
        )
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)

    async def _stats_ticker(self) -> None:
        """Flush counters every second; sample the queue's size and age every minute."""
        tick = 0
        while True:
            await asyncio.sleep(1.0)
            assert self.server is not None
            stats = self.server.context.stats
            stats.flush()
            if tick % 60 == 0:
                size, oldest = queue_gauges(Path(self.config.queue_directory))
                stats.set_queue_gauges(size, oldest)
            tick += 1

    async def dump_state(self) -> None:
        """SIGUSR1: log listeners, sessions and open files (Sendmail's dumpstate)."""
        assert self.server is not None and self.pool is not None
        sessions = await self.pool.session_lines()
        workers = [w.pid for w in self.pool.workers]
        lines = state_lines(
            self.server,
            self.config,
            sessions,
            workers,
            self.pool.counts.total(),
            len(self._runs),
            self.queue_interval,
        )
        for line in lines:
            self.log.log(0, line)

    async def reload(self) -> None:
        """Re-read the configuration; keep the old one when the new one is invalid."""
        assert self.server is not None
        try:
            new = load_config(Path(self.config.path), self.overrides)
        except ConfigError as exc:
            self.log.log(1, f"reload refused, old configuration stays in force: {exc}")
            return
        try:
            context = build_context(
                new,
                log=self.log,
                traffic=self.traffic,
                store=self.server.context.store,
                committer=self.server.context.committer,
            )
            context.etrn = self.etrn
        except (OSError, ValueError) as exc:
            self.log.log(1, f"reload refused, old configuration stays in force: {exc}")
            return
        assert self.pool is not None
        count = default_count(new.daemon_processes)
        if new.daemon_ports != self.config.daemon_ports:
            # The old workers must close their copies before the ports can be bound again.
            self.pool.retire()
            await self.pool.released(RELEASE_TIMEOUT)
            try:
                self.server.replace(context)
            except ListenerError as exc:
                self.log.log(1, f"reload refused, old configuration stays in force: {exc}")
                self.pool.spawn(self.server.context, self.server.sockets(), count)
                return
        else:
            self.server.context = context
        self.runner = self._make_runner(context)
        self.pool.spawn(context, self.server.sockets(), count)
        self.config = new
        self.log.level = new.log_level
        self.log.log(9, f"configuration reloaded from {new.path} ({self._listening()})")


def queue_gauges(queue_dir: Path, now: float | None = None) -> tuple[int, float]:
    """Number of queued jobs and the age of the oldest, from file names alone."""
    stamp = time.time() if now is None else now
    count, oldest = 0, stamp
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            if entry.name.startswith("qf"):
                count += 1
                try:
                    oldest = min(oldest, qid_time(entry.name[2:]).timestamp())
                except ValueError:
                    continue
    return count, stamp - oldest


def state_lines(
    server: SmtpServer,
    config: Config,
    sessions: list[str],
    workers: list[int],
    sessions_open: int,
    runs: int = 0,
    interval: float | None = None,
) -> list[str]:
    """The lines of a state dump, Sendmail's order where it has one."""
    lines = [f"--- dumping state on SIGUSR1: $j = {config.host_name} ---"]
    if config.host_name.lower() not in config.local_domains:
        lines.append(f"*** $j ({config.host_name}) not in LocalDomains ***")
    lines.append(f"CurChildren = {sessions_open}")
    lines.append("session workers: " + (" ".join(str(pid) for pid in workers) or "none"))
    for name, (host, port) in server.bound_addresses().items():
        lines.append(f"listener {name}: {host} port {port}")
    lines.extend(sessions)
    fd_dir = Path("/proc/self/fd")
    for entry in sorted(fd_dir.iterdir(), key=lambda p: int(p.name)):
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        lines.append(f"fd {entry.name}: {target}")
    if interval:
        lines.append(f"queue runner: every {int(interval)}s (-q), ETRN runs in progress: {runs}")
    else:
        lines.append(f"queue runner: none periodic (no -q interval), ETRN runs in progress: {runs}")
    lines.append("connection cache: kept within each queue run only; none open between runs")
    lines.append("--- end of state dump ---")
    return lines


def pid_file_path(config: Config) -> Path:
    return Path(config.queue_directory) / "postroom-mta.pid"


def detach(pid_file: Path) -> None:
    """Classic double fork; the grandchild writes the pid file and carries on."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, pid_file)


def run_daemon(
    config: Config,
    *,
    overrides: tuple[str, ...] = (),
    traffic_path: Path | None = None,
    background: bool = False,
    queue_interval: float | None = None,
) -> int:
    """Entry for ``-bD``/``-bd``; returns the exit status."""
    if background:
        detach(pid_file_path(config))
    daemon = Daemon(
        config, overrides=overrides, traffic_path=traffic_path, queue_interval=queue_interval
    )

    def announce(server: SmtpServer) -> None:
        if not background:
            bound = server.bound_addresses()
            for name, addr in bound.items():
                print(f"postroom-mta: {name} listening on {addr[0]} port {addr[1]}", flush=True)

    daemon.ready = announce
    asyncio.run(daemon.run())
    if background:
        try:
            pid_file_path(config).unlink()
        except FileNotFoundError:
            pass
    sys.stdout.flush()
    return 0
