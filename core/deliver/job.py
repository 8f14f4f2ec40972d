"""One delivery attempt on one queued job, from lock to rewrite.

:func:`process_job` takes the job's ``flock`` (non-blocking: a job being
worked on elsewhere is skipped and logged at LogLevel 20), reads and checks
the control file (an unreadable one, or one whose ``df`` is missing, is set
aside as ``Qf`` -- never deleted), skips a job tried more recently than its
minimum age unless the run selected it explicitly, writes the ``xf``
transcript while it works, lets the :class:`.dispatch.Dispatcher` try every
recipient, gives up on recipients older than ``Timeout.queuereturn``
(status 4.4.7), moves recipients an ``owner-`` list gives another sender to a
clone of the job (:mod:`.clone`, delivered right after), queues the DSNs
:func:`.notify.plan` asks for, and only then writes the new state: recipients
that are done leave the qf; the others stay with ``K`` (this attempt),
``N`` + 1, ``P`` + 90000 and the status text in ``M``; a job with no recipient
left is removed.  The lock is held throughout, and released last.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from ..aliases import Expander, Virtusertable
from ..config.model import Config
from ..hoststat import pintvl as clock_interval
from ..logging.maillog import MailLog
from ..logging.traffic import TrafficLog
from ..queue.errors import JobNotFoundError, QueueError, QueueFileError, QueueLockedError
from ..queue.locks import JobLock
from ..queue.qf import QueueFile, parse_qf
from ..queue.qfmodel import RETRY_FACTOR
from ..queue.store import QueueStore
from . import qfupdate
from .address import Target, classify
from .aliasing import expand_recipients
from .clone import Clone, split_by_owner
from .dispatch import Dispatcher, describe
from .dsn import pintvl, subject
from .dsnqueue import queue_report
from .message import MessageSource
from .notify import Attempt, Policy, plan
from .outcome import Outcome, Result, failed
from .transcript import Transcript

MAILER_NUMBERS = {"prog": 0, "*file*": 1, "local": 3, "esmtp": 5, "relay": 8}


class Counters(Protocol):
    """What the runner reports to the statistics (``..stats.recorder.StatsRecorder`` fits)."""

    def delivered(self, mailer: int, size: int) -> None: ...

    def connection_out(self) -> None: ...

    def deferred(self) -> None: ...

    def bounced(self) -> None: ...


class JobStatus(enum.Enum):
    """How an attempt on a job ended."""

    DONE = "done"  # no recipient left; the job is gone
    QUEUED = "queued"  # some recipients wait for a retry
    LOCKED = "locked"  # another process works on it
    TOO_YOUNG = "too young"  # tried more recently than its minimum age
    GONE = "gone"  # finished meanwhile
    LOST = "lost"  # set aside as Qf


@dataclass(frozen=True)
class JobReport:
    """The result of :func:`process_job`."""

    qid: str
    status: JobStatus
    new_jobs: tuple[str, ...] = ()
    outcomes: tuple[tuple[str, Outcome], ...] = ()


@dataclass
class RunContext:
    """What every job of a run shares."""

    config: Config
    store: QueueStore
    log: MailLog
    dispatcher: Dispatcher
    policy: Policy
    clock: Callable[[], float]
    verbose: TextIO | None = None
    traffic: TrafficLog | None = None
    stats: Counters | None = None
    expander: Expander | None = None
    virtusers: Virtusertable | None = None
    min_age: Callable[[int], float] = lambda attempts: 0.0

    @property
    def queue_dir(self) -> Path:
        return Path(self.store.queue_dir)


def _read(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while True:
        block = os.read(fd, 1 << 16)
        if not block:
            return b"".join(chunks)
        chunks.append(block)


async def process_job(
    ctx: RunContext,
    qid: str,
    *,
    prefix: str = "qf",
    sequence: tuple[int, int] = (1, 1),
    explicit: bool = False,
) -> JobReport:
    """Attempt delivery of job ``qid`` once."""
    path = ctx.queue_dir / (prefix + qid)
    try:
        lock = JobLock(path)
    except QueueLockedError:
        ctx.log.log(20, "locked", qid)
        return JobReport(qid, JobStatus.LOCKED)
    except JobNotFoundError:
        return JobReport(qid, JobStatus.GONE)
    with lock:
        assert lock.fd is not None
        try:
            qf = parse_qf(_read(lock.fd), str(path))
        except QueueFileError as exc:
            return _lose(ctx, lock, qid, str(exc))
        now = ctx.clock()
        if not explicit and qf.attempts > 0 and now < qf.last_attempt + ctx.min_age(qf.attempts):
            return JobReport(qid, JobStatus.TOO_YOUNG)
        df = ctx.queue_dir / ("df" + qid)
        if not df.exists():
            return _lose(ctx, lock, qid, f"{path}: data file {df.name} is missing")
        transcript = Transcript(ctx.queue_dir / ("xf" + qid), ctx.verbose, ctx.traffic)
        try:
            return await _attempt(ctx, lock, qf, qid, df, transcript, sequence, now)
        finally:
            transcript.close()


def _lose(ctx: RunContext, lock: JobLock, qid: str, why: str) -> JobReport:
    ctx.log.log(1, f"Losing {lock.path.name}: {why}", qid)
    qfupdate.set_aside(lock, fsync=ctx.config.super_safe)
    return JobReport(qid, JobStatus.LOST)


async def _attempt(
    ctx: RunContext,
    lock: JobLock,
    qf: QueueFile,
    qid: str,
    df: Path,
    transcript: Transcript,
    sequence: tuple[int, int],
    start: float,
) -> JobReport:
    transcript.say("")
    transcript.say(f"Running {ctx.queue_dir}/{qid} (sequence {sequence[0]} of {sequence[1]})")
    decided: dict[int, Outcome] = {}
    clones: tuple[Clone, ...] = ()
    if ctx.expander is not None:
        expanded = expand_recipients(
            ctx.expander, qf, transcript, ctx.log, qid, ctx.virtusers, ctx.config.local_domains
        )
        qf, decided = expanded.qf, expanded.decided
        if expanded.owners:
            split = split_by_owner(ctx.store, qf, df, decided, expanded.owners)
            qf, decided, clones = split.qf, split.decided, split.clones
            for clone in clones:
                ctx.log.log(5, f"clone {clone.qid}, owner={clone.owner}", qid)
    report = await _deliver(ctx, lock, qf, qid, df, transcript, start, decided)
    for clone in clones:
        report = _merge(report, await _deliver_clone(ctx, clone, transcript, start))
    return report


def _merge(report: JobReport, clone: JobReport) -> JobReport:
    """The original's report with a clone's new jobs and outcomes added."""
    return dataclasses.replace(
        report,
        new_jobs=(*report.new_jobs, *clone.new_jobs),
        outcomes=(*report.outcomes, *clone.outcomes),
    )


async def _deliver_clone(
    ctx: RunContext, clone: Clone, transcript: Transcript, start: float
) -> JobReport:
    """Deliver a freshly made clone under its own lock (left queued if that fails)."""
    path = ctx.queue_dir / ("qf" + clone.qid)
    try:
        lock = JobLock(path)
    except (QueueLockedError, JobNotFoundError):
        return JobReport(clone.qid, JobStatus.LOCKED, (clone.qid,))
    with lock:
        df = ctx.queue_dir / ("df" + clone.qid)
        return await _deliver(ctx, lock, clone.qf, clone.qid, df, transcript, start, clone.decided)


async def _deliver(
    ctx: RunContext,
    lock: JobLock,
    qf: QueueFile,
    qid: str,
    df: Path,
    transcript: Transcript,
    start: float,
    decided: dict[int, Outcome],
) -> JobReport:
    """Try every recipient not yet ``decided``, queue DSNs, and write the job's new state."""
    source = MessageSource(qf, df, ctx.config.host_name)
    size = source.size("local")

    def report(index: int, target: Target, outcome: Outcome) -> None:
        _report(ctx, qf, qid, target, outcome, transcript, start, size)

    indexes = [i for i in range(len(qf.recipients)) if i not in decided]
    outcomes = await ctx.dispatcher.attempt(qf, indexes, source, transcript, report)
    for index, outcome in decided.items():
        target = classify(qf.recipients[index].address, ctx.config.local_domains)
        report(index, target, outcome)
        outcomes[index] = outcome
    now = ctx.clock()
    outcomes = _expire(ctx, qf, outcomes, transcript, now)
    attempts = [Attempt(qf.recipients[i], o, now) for i, o in sorted(outcomes.items())]
    decision = plan(qf, attempts, transcript.text(), now=now, size=size, policy=ctx.policy)
    new_jobs: list[str] = []
    for dsn, to in decision.reports:
        new_qid = queue_report(
            ctx.store, dsn, to, qf, source, orig_qid=qid, host_name=ctx.config.host_name, now=now
        )
        ctx.log.log(6, f"{new_qid}: DSN: {subject(dsn)}", qid)
        new_jobs.append(new_qid)
    shown = tuple((qf.recipients[i].address, o) for i, o in sorted(outcomes.items()))
    if decision.lost:
        ctx.log.log(1, "savemail: cannot save rejected email anywhere", qid)
        qfupdate.set_aside(lock, fsync=ctx.config.super_safe)
        return JobReport(qid, JobStatus.LOST, tuple(new_jobs), shown)
    remaining = [r for i, r in enumerate(qf.recipients) if not outcomes[i].done]
    if not remaining:
        qfupdate.remove(lock, fsync=ctx.config.super_safe)
        return JobReport(qid, JobStatus.DONE, tuple(new_jobs), shown)
    deferred_texts = [o.message for o in outcomes.values() if o.result is Result.DEFERRED]
    flags = qf.flags + ("w" if decision.warned and "w" not in qf.flags else "")
    updated = dataclasses.replace(
        qf,
        recipients=tuple(remaining),
        last_attempt=int(start),
        attempts=qf.attempts + 1,
        priority=qf.priority + RETRY_FACTOR,
        status=deferred_texts[-1] if deferred_texts else qf.status,
        flags=flags,
        inode=None,
    )
    try:
        qfupdate.rewrite(lock, updated, fsync=ctx.config.super_safe)
    except (QueueError, OSError) as exc:
        ctx.log.log(1, f"cannot rewrite {lock.path.name}: {exc}", qid)
    return JobReport(qid, JobStatus.QUEUED, tuple(new_jobs), shown)


def _expire(
    ctx: RunContext,
    qf: QueueFile,
    outcomes: dict[int, Outcome],
    transcript: Transcript,
    now: float,
) -> dict[int, Outcome]:
    """Recipients still deferred after Timeout.queuereturn fail with 4.4.7."""
    limit = ctx.policy.return_after
    if now < qf.ctime + limit:
        return outcomes
    late = {i: o for i, o in outcomes.items() if o.result is Result.DEFERRED}
    if not late:
        return outcomes
    transcript.xf(f"Message could not be delivered for {pintvl(limit)}")
    transcript.xf("Message will be deleted from queue")
    text = f"Cannot send message for {pintvl(limit)}"
    out = dict(outcomes)
    for i, o in late.items():
        out[i] = failed(
            text,
            status="4.4.7",
            diagnostic=o.diagnostic or o.message,
            remote_mta=o.remote_mta,
            mailer=o.mailer,
        )
    return out


def _report(
    ctx: RunContext,
    qf: QueueFile,
    qid: str,
    target: Target,
    outcome: Outcome,
    transcript: Transcript,
    start: float,
    size: int,
) -> None:
    line = describe(target, outcome)
    if outcome.result is Result.SENT:
        transcript.say(line)
    else:
        if outcome.details:
            transcript.xf(outcome.details)
            transcript.say(outcome.details)
        transcript.note(line)
    now = ctx.clock()
    fields = [
        f"to={target.shown}",
        f"delay={clock_interval(int(now - qf.ctime))}",
        f"xdelay={clock_interval(int(now - start))}",
        f"mailer={outcome.mailer}",
        f"pri={qf.priority + RETRY_FACTOR}",
    ]
    if outcome.relay:
        fields.append(f"relay={outcome.relay}")
    fields += [f"dsn={outcome.status}", f"stat={outcome.message}"]
    level = {Result.SENT: 8, Result.DEFERRED: 9, Result.FAILED: 7}[outcome.result]
    ctx.log.log(level, ", ".join(fields), qid)
    if ctx.stats is None:
        return
    if outcome.result is Result.SENT:
        ctx.stats.delivered(MAILER_NUMBERS.get(outcome.mailer, 3), size)
    elif outcome.result is Result.DEFERRED:
        ctx.stats.deferred()
    else:
        ctx.stats.bounced()
