"""The queue runner: what ``-q`` does once and ``-q30m`` does periodically.

:class:`QueueRunner` owns the agents, the per-run SMTP connection pool and
the host status of one runner process.  :meth:`QueueRunner.run_once`:

1. removes stale ``xf`` files (each under its job's lock);
2. scans the selected jobs (``-qI``/``-qR``/``-qS``, ``!``, ``-qQ``) and
   orders them (:func:`.scan.interleave`: fresh and deferred alternately,
   oldest first);
3. works on at most ``max_active`` jobs at a time (one at a time in verbose
   mode, so the ``-v`` dialogue reads in order), each under its own
   ``flock`` for the whole attempt (:func:`.job.process_job`);
4. DSNs queued by the run are attempted in the same run (``follow_new_jobs``);
5. closes the cached SMTP sessions.

A job whose last attempt is younger than ``MinQueueAge`` (and, in periodic
mode, than its back-off: the interval doubled per attempt, at most
:data:`MAX_BACKOFF`) is skipped unless the run selected jobs explicitly
(``-qI``/``-qR``/``-qS``, ETRN).  :meth:`QueueRunner.run_periodically` is the
daemon's ``-q30m`` loop; :func:`run_queue` is the synchronous entry for the
command line.  The DNS resolver, host status store, statistics counters,
clock and SMTP port are injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..aliases.setup import alias_cache
from ..config.model import Config
from ..hoststat import HostStatusStore
from ..logging.maillog import MailLog
from ..logging.traffic import TrafficLog
from ..policy.privacy import Privacy
from ..queue.selection import Match, QueueSelection, parse_selection
from ..queue.store import QueueStore
from ..vacation import VacationService, queue_submitter
from .aliasing import expander_for_run
from .dispatch import Agents, Dispatcher
from .fileagent import FileAgent
from .hosts import HostStatusCache
from .job import Counters, JobReport, JobStatus, RunContext, process_job
from .local import LocalAgent
from .mx import MailRouter, Resolver
from .notify import Policy
from .pool import ConnectionPool
from .program import ProgramAgent
from .routing import load_delivery_maps
from .scan import Candidate, interleave, scan
from .smtp import SmtpAgent
from .smtpclient import Timeouts, client_tls_context
from .transcript import Transcript, remove_stale_transcripts

MAX_BACKOFF = 4 * 3600.0
MAX_ACTIVE = 100


@dataclass
class RunReport:
    """What one queue run did."""

    jobs: list[JobReport] = field(default_factory=list)

    def count(self, status: JobStatus) -> int:
        return sum(1 for j in self.jobs if j.status is status)


def is_explicit(selection: QueueSelection) -> bool:
    """True when the run names jobs (``-qI``/``-qR``/``-qS``/``-qQ<reason>``)."""
    return bool(selection.ids or selection.recipients or selection.senders or selection.reasons)


def etrn_selection(argument: str) -> QueueSelection:
    """The jobs ETRN ``argument`` asks for: recipients at that domain (``@dom``: and below)."""
    arg = argument.strip()
    if not arg or arg.startswith("#") or any(c.isspace() for c in arg):
        raise ValueError(f"ETRN argument not supported: {argument!r}")
    text = arg[1:] if arg.startswith("@") else "@" + arg
    return QueueSelection(recipients=(Match(text),))


def host_status_store(config: Config, log: MailLog) -> HostStatusStore | None:
    """The persistent store when ``HostStatusDirectory`` exists, else None (with a warning)."""
    folder = Path(config.host_status_directory)
    if not folder.is_dir():
        log.log(1, f"Warning: Cannot use HostStatusDirectory = {folder}: No such file or directory")
        return None
    return HostStatusStore(folder)


class QueueRunner:
    """Runs the queue of one configuration."""

    def __init__(
        self,
        config: Config,
        *,
        log: MailLog,
        store: QueueStore | None = None,
        resolver: Resolver | None = None,
        host_status: HostStatusStore | None = None,
        stats: Counters | None = None,
        verbose: TextIO | None = None,
        traffic: TrafficLog | None = None,
        smtp_port: int = 25,
        max_active: int = MAX_ACTIVE,
        clock: Callable[[], float] = time.time,
        tls_context: ssl.SSLContext | None = None,
        program_timeout: float = 1000.0,
        follow_new_jobs: bool = True,
        dsn_body_limit: int = 1024 * 1024,
    ) -> None:
        self.config = config
        self.log = log
        self.store = store or QueueStore(Path(config.queue_directory), fsync=config.super_safe)
        self.verbose = verbose
        self.traffic = traffic
        self._aliases = alias_cache(config)
        self.smtp_port = smtp_port
        self.max_active = max(1, max_active)
        self.clock = clock
        self.stats = stats
        self.follow_new_jobs = follow_new_jobs
        self.backoff_base = 0.0
        self.router = MailRouter(resolver, host_name=config.host_name, families=_families(config))
        self.hosts = HostStatusCache(
            host_status,
            timeout=config.timeouts.get("hoststatus", 1800.0),
            clock=clock,
            log=lambda text: log.log(3, text),
        )
        self.tls_context = tls_context if tls_context is not None else client_tls_context()
        self.program_timeout = program_timeout
        self.policy = Policy(
            host_name=config.host_name,
            local_domains=config.local_domains,
            warn_after=config.timeouts.get("queuewarn", 4 * 3600.0),
            return_after=config.timeouts.get("queuereturn", 5 * 86400.0),
            noreceipts=bool(config.privacy & Privacy.noreceipts),
            nobodyreturn=bool(config.privacy & Privacy.nobodyreturn),
            postmaster_copy=_addresses(config.postmaster_copy),
            body_limit=min(dsn_body_limit, config.max_message_size or dsn_body_limit),
        )
        self._running = asyncio.Lock()

    def min_age(self, attempts: int) -> float:
        """How long after an attempt a job is left alone (MinQueueAge, periodic back-off)."""
        age = float(self.config.min_queue_age)
        if self.backoff_base > 0 and attempts > 0:
            backoff = min(
                self.backoff_base * 2 ** (attempts - 1), max(MAX_BACKOFF, self.backoff_base)
            )
            age = max(age, backoff - min(backoff / 2, 60.0))
        return age

    def _vacation_service(self) -> VacationService | None:
        """The built-in vacation responder when VacationDirectory is set."""
        if self.config.vacation_directory is None:
            return None
        return VacationService(
            Path(self.config.vacation_directory),
            host_name=self.config.host_name,
            local_domains=self.config.local_domains,
            submit=queue_submitter(self.config, store=self.store),
            clock=self.clock,
        )

    def _context(self, pool: ConnectionPool, ignore_host_status: bool) -> RunContext:
        smtp = SmtpAgent(
            router=self.router,
            hosts=self.hosts,
            pool=pool,
            timeouts=Timeouts.from_mapping(self.config.timeouts),
            helo_name=self.config.host_name,
            client_port=self.config.client_port,
            tls_context=self.tls_context,
            ignore_host_status=ignore_host_status,
            on_connect=self.stats.connection_out if self.stats is not None else lambda: None,
        )
        agents = Agents(
            local=LocalAgent(self.config, vacation=self._vacation_service(), log=self.log),
            file=FileAgent(self.config),
            program=ProgramAgent(
                timeout=self.program_timeout,
                config_path=self.config.path,
                reply_submit=queue_submitter(self.config, store=self.store),
            ),
            smtp=smtp,
        )
        maps = load_delivery_maps(self.config, lambda text: self.log.log(1, text))
        return RunContext(
            config=self.config,
            store=self.store,
            log=self.log,
            dispatcher=Dispatcher(
                self.config,
                agents,
                smtp_port=self.smtp_port,
                maps=maps,
            ),
            policy=self.policy,
            clock=self.clock,
            verbose=self.verbose,
            traffic=self.traffic,
            stats=self.stats,
            min_age=self.min_age,
            expander=expander_for_run(self.config, self._aliases, self.log),
            virtusers=maps.virtusers,
        )

    async def run_once(
        self, selection: QueueSelection | None = None, *, ignore_host_status: bool = False
    ) -> RunReport:
        """One run over the queue (``-q``); runs in one process never overlap."""
        async with self._running:
            return await self._run(selection or QueueSelection(), ignore_host_status)

    async def _run(self, selection: QueueSelection, ignore_host_status: bool) -> RunReport:
        queue_dir = Path(self.store.queue_dir)
        remove_stale_transcripts(queue_dir, lambda text: self.log.log(9, text))
        prefix = "hf" if selection.mode == "quarantine" else "qf"
        if selection.mode == "lost":
            return RunReport()
        explicit = is_explicit(selection)
        order: deque[Candidate] = deque(interleave(scan(queue_dir, selection, now=self.clock())))
        total = [len(order)]
        taken = [0]
        pool = ConnectionPool()
        ctx = self._context(pool, ignore_host_status)
        report = RunReport()
        width = 1 if self.verbose is not None else self.max_active

        async def worker() -> None:
            while order:
                candidate = order.popleft()
                taken[0] += 1
                sequence = (taken[0], total[0])
                try:
                    result = await process_job(
                        ctx, candidate.qid, prefix=prefix, sequence=sequence, explicit=explicit
                    )
                except Exception as exc:  # one broken job must not stop the run
                    self.log.log(1, f"delivery failed: {exc!r}", candidate.qid)
                    continue
                report.jobs.append(result)
                if self.follow_new_jobs and prefix == "qf":
                    for qid in result.new_jobs:
                        order.append(Candidate(qid))
                        total[0] += 1

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, min(width, len(order))))))
        finally:
            observer = (
                Transcript(None, self.verbose, self.traffic)
                if self.verbose is not None or self.traffic is not None
                else None
            )
            await pool.close_all(observer)
        return report

    async def run_periodically(self, interval: float, stop_event: asyncio.Event) -> None:
        """Run the queue every ``interval`` seconds until ``stop_event`` is set (``-q30m``)."""
        self.backoff_base = interval
        while not stop_event.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # keep the daemon's runner alive
                self.log.log(1, f"queue run failed: {exc!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), interval)


def _families(config: Config) -> tuple[str, ...]:
    port = config.client_port
    if port is not None and port.family == "inet6":
        return ("AAAA",)
    if port is not None and port.addr and ":" not in port.addr:
        return ("A",)
    return ("A", "AAAA")


def _addresses(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(a.strip() for a in value.replace(";", ",").split(",") if a.strip())


def run_queue(
    config: Config,
    queue_args: Sequence[str] = (),
    *,
    verbose: TextIO | None = None,
    log: MailLog | None = None,
    stats: Counters | None = None,
    traffic: TrafficLog | None = None,
) -> RunReport:
    """``-q`` / ``-qf`` / ``-qI...`` once, synchronously (raises QueueSelectionError)."""
    selection = parse_selection(list(queue_args))
    log = log or MailLog(config.log_level, config.log_file)
    runner = QueueRunner(
        config,
        log=log,
        host_status=host_status_store(config, log),
        stats=stats,
        verbose=verbose,
        traffic=traffic,
    )
    return asyncio.run(runner.run_once(selection))
