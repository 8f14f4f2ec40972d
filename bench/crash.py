"""Crash-consistency harness: SIGKILL the daemon under load, restart, account for every message.

One harness keeps one queue, one pair of local mailboxes and one loopback
SMTP sink (:mod:`bench.sink`) for all its trials.  A trial:

1. starts ``postroom-mta -bD -q1s`` (so queue runs go on all the time:
   local users ``alice``/``bob`` get mbox or Maildir deliveries, ``@sink.test``
   goes through ``SmartHost`` to the sink, ``@defer.test`` is refused ``451``
   by the sink and stays queued);
2. runs ``--sessions`` concurrent SMTP sessions (:class:`bench.mailgen.SmtpClient`)
   that record every message in a :class:`bench.crashcheck.Ledger`; a reloader
   rewrites the configuration (LogLevel 9 <-> 12) and sends ``SIGHUP`` every
   0.15-0.4 s;
3. kills the daemon and its session workers with ``SIGKILL`` at a random
   moment chosen by the trial's mode, in turn: ``load`` (0.3-2.5 s into the
   load), ``queue-run`` (0-80 ms after the sink sees a delivery session
   open), ``reload`` (0-50 ms after a ``SIGHUP``); ``--modes`` may add
   ``sigterm``: an orderly stop under load instead of a kill, after which a
   message answered anything but ``250`` must not be queued either;
4. restarts the daemon without ``-q`` (its start-up sweep is the recovery),
   stops it with SIGTERM and checks with :class:`bench.crashcheck.Inspector`:
   every acknowledged message is in the queue or delivered, byte for byte
   under the equality rule of :mod:`bench.mailgen`, and nothing not sent
   whole is anywhere.

After the last trial a drain (daemon with ``-q1s``, no load, until only
``@defer.test`` recipients are queued) and a last check show that what the
queue kept is then delivered whole.  Exit status 0 only with zero problems.

    .venv/bin/python bench/crash.py [--trials 50] [--sessions 8] [--mailbox mbox|maildir]
                                    [--modes load,queue-run,reload,sigterm] [--drain 420]
                                    [--seed N] [--keep DIR]

``tests/crash/test_crash.py`` runs three trials (one per mode) in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crashcheck import ACCEPTED, IN_DOUBT, INCOMPLETE, REFUSED, Inspector, Ledger
from bench.mailgen import (
    DEFER_RCPT,
    LOCAL_RCPTS,
    SINK_RCPT,
    SendInterrupted,
    SmtpClient,
    make_message,
    queue_id,
)
from bench.sink import SmtpSink
from tests.support.mta import MtaSetup, RunningMta

MODES = ("load", "queue-run", "reload")
ALL_MODES = (*MODES, "sigterm")
LOG_PROBLEMS = (
    "Traceback",
    "queue run failed",
    "Losing ",
    "cannot rewrite",
    "SYSERR",
    "reload refused",
    "queue write failed",
    "cannot create queue file",
)


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (the daemon's session workers), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(mta: RunningMta) -> None:
    """SIGKILL the daemon and all its processes at once, as a crash of the machine would.

    Everything is frozen (SIGSTOP, the daemon first so it cannot fork a
    replacement) before anything is killed: a session worker must not see its
    daemon die and start an orderly shutdown in the instant between two kills.
    """
    assert mta.proc is not None
    with contextlib.suppress(ProcessLookupError):
        os.kill(mta.proc.pid, signal.SIGSTOP)
    family = [mta.proc.pid, *descendants(mta.proc.pid)]
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    mta.proc.wait()


def stop_daemon(mta: RunningMta, timeout: float) -> str | None:
    """SIGTERM and wait; a problem text (and SIGKILL) when it takes longer than ``timeout``."""
    assert mta.proc is not None
    problem = None
    if mta.proc.poll() is None:
        mta.proc.send_signal(signal.SIGTERM)
        try:
            mta.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            problem = f"the daemon did not exit within {timeout:.0f} s of SIGTERM"
            mta.proc.kill()
    mta.stop()
    return problem


def pick_recipients(rng: random.Random) -> list[str]:
    """A non-empty set of recipients: local users, the sink, now and then a deferral."""
    chosen = [r for r in (*LOCAL_RCPTS, SINK_RCPT) if rng.random() < 0.45]
    if rng.random() < 0.08:
        chosen.append(DEFER_RCPT)
    return chosen or [rng.choice((*LOCAL_RCPTS, SINK_RCPT))]


class DaemonOutput:
    """Reads a running daemon's merged stdout/stderr in a thread (so the pipe never fills)."""

    def __init__(self, mta: RunningMta) -> None:
        assert mta.proc is not None and mta.proc.stdout is not None
        self.lines: list[str] = list(mta.output)
        self._fd = mta.proc.stdout.fileno()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                return
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            self.lines += [ln.decode("utf-8", "replace") for ln in lines]
        if pending:
            self.lines.append(pending.decode("utf-8", "replace"))

    def join(self) -> None:
        self._thread.join(timeout=10)


class LoadGenerator:
    """``sessions`` threads sending messages until stopped; everything goes in the ledger."""

    def __init__(
        self, port: int, ledger: Ledger, trial: int, sessions: int, seed: int, largest: int
    ) -> None:
        self.port = port
        self.ledger = ledger
        self.trial = trial
        self.stop = threading.Event()
        self.unexpected: list[str] = []
        self._largest = largest
        self._threads = [
            threading.Thread(target=self._session_loop, args=(seed * 1000 + i, i), daemon=True)
            for i in range(sessions)
        ]

    def start(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _session_loop(self, seed: int, number: int) -> None:
        rng = random.Random(seed)
        counter = 0
        while not self.stop.is_set():
            try:
                client = SmtpClient(self.port, timeout=30)
            except OSError:
                self.stop.wait(0.02)  # listener being rebound by a reload, or daemon gone
                continue
            try:
                for _ in range(rng.randint(1, 3)):
                    if self.stop.is_set():
                        break
                    counter += 1
                    token = f"t{self.trial}s{number}n{counter}r{rng.randrange(10**6)}"
                    message = make_message(token, rng, pick_recipients(rng), largest=self._largest)
                    self.ledger.begin(message, self.trial)
                    try:
                        reply = client.send(message)
                    except SendInterrupted as exc:
                        self.ledger.settle(token, IN_DOUBT if exc.dot_sent else INCOMPLETE)
                        raise
                    qid = queue_id(reply)
                    if qid is None:
                        self.ledger.settle(token, REFUSED, reply=reply)
                        if not reply.startswith(("421", "451")):
                            self.unexpected.append(f"{token}: {reply}")
                    else:
                        self.ledger.settle(token, ACCEPTED, qid)
                client.quit()
            except (SendInterrupted, OSError):
                client.close()


class Reloader:
    """Rewrites the config (LogLevel 9 <-> 12) and sends SIGHUP, one reload at a time.

    After each SIGHUP it waits (at most 3 s) for the log's ``configuration
    reloaded`` line before the next: overlapping reloads are a separate bug
    (see tests/crash/test_reload_race.py), not what this harness measures.
    """

    def __init__(
        self, config: Path, texts: tuple[str, str], log: Path, pid: int, rng: random.Random
    ) -> None:
        self.config = config
        self.texts = texts
        self.log = log
        self.pid = pid
        self.rng = rng
        self.sent = 0
        self.completed = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._log_offset = log.stat().st_size if log.exists() else 0
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Reloader:
        self._thread.start()
        return self

    def _reloads_logged(self) -> int:
        with open(self.log, "rb") as handle:
            handle.seek(self._log_offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        self._log_offset += end
        return data[:end].count(b"configuration reloaded")

    def _send(self) -> bool:
        tmp = self.config.with_name(self.config.name + ".new")
        tmp.write_text(self.texts[self.sent % 2])
        os.replace(tmp, self.config)  # the daemon never reads a half-written file
        try:
            os.kill(self.pid, signal.SIGHUP)
        except ProcessLookupError:
            return False
        self.sent += 1
        return True

    def hup_now(self) -> None:
        """SIGHUP now (once the reload in progress, if any, has finished); do not wait."""
        with self._lock:
            self._send()

    def _loop(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.15, 0.4)):
            with self._lock:
                if not self._send():
                    return
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline and not self.stop.is_set():
                    done = self._reloads_logged()
                    if done:
                        self.completed += done
                        break
                    self.stop.wait(0.01)

    def join(self) -> None:
        self.stop.set()
        self._thread.join(timeout=10)


@dataclass
class TrialResult:
    index: int
    mode: str
    seconds: float
    accepted: int
    in_doubt: int
    incomplete: int
    refused: int
    sighups: int
    queued_jobs: int
    delivered_copies: int
    duplicates: int
    lost: int
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"trial {self.index:3d} {self.mode:9s} {self.seconds:5.1f}s  acked {self.accepted:4d}"
            f"  in-doubt {self.in_doubt:2d}  incomplete {self.incomplete:2d}"
            f"  refused {self.refused:2d}  HUPs {self.sighups:2d}  queued {self.queued_jobs:5d}"
            f"  delivered {self.delivered_copies:6d}  dup {self.duplicates:3d}"
            f"  lost {self.lost}  problems {len(self.problems)}"
        )


class CrashHarness:
    """The queue, mailboxes and sink shared by a run's trials."""

    def __init__(
        self,
        base: Path,
        *,
        seed: int = 1,
        sessions: int = 8,
        mailbox: str = "mbox",
        largest: int = 300_000,
        say: Callable[[str], None] = print,
    ) -> None:
        self.base = base
        self.rng = random.Random(seed)
        self.seed = seed
        self.sessions = sessions
        self.mailbox = mailbox
        self.largest = largest
        self.say = say
        self.sink = SmtpSink()
        self.setup = MtaSetup(
            base / "mta",
            options={
                "LogLevel": 9,
                "RelayFrom": ["127.0.0.0/8"],
                "MailboxFormat": mailbox,
                "SmartHost": f"[127.0.0.1]:{self.sink.port}",
                "MaxConnectionsPerHost": 200,
            },
        )
        self.config_texts = self._config_texts()
        (self.setup.queue_dir / ".hoststat").mkdir(exist_ok=True)
        self.ledger = Ledger()
        self.inspector = Inspector(
            self.ledger, self.setup.queue_dir, self.setup.spool_dir, self.sink, mailbox
        )
        self.results: list[TrialResult] = []
        self.kills_during_reload = 0

    def _config_texts(self) -> tuple[str, str]:
        """The configuration with LogLevel 12 and with 9 (the reloader alternates them)."""
        texts = []
        for level in (12, 9):
            self.setup.options["LogLevel"] = level
            self.setup.write(listeners={"MTA": ""})
            texts.append(self.setup.config_path.read_text())
        return texts[0], texts[1]

    def close(self) -> None:
        self.sink.close()

    def _start(self, *args: str) -> tuple[RunningMta, DaemonOutput]:
        mta = RunningMta(self.setup, *args, timeout=60).start()
        return mta, DaemonOutput(mta)

    def _log_size(self) -> int:
        try:
            return self.setup.log_file.stat().st_size
        except FileNotFoundError:
            return 0

    def _log_problems(self, since: int, output: DaemonOutput) -> list[str]:
        with open(self.setup.log_file, "rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", "replace")
        found = [f"log: {ln}" for ln in text.splitlines() if any(p in ln for p in LOG_PROBLEMS)]
        found += [
            f"daemon output: {ln}"
            for ln in output.lines
            if ln.strip() and not ln.startswith("postroom-mta: MTA listening")
        ]
        return found

    def _wait_kill_moment(self, mode: str, reloader: Reloader) -> None:
        rng = self.rng
        if mode == "load":
            time.sleep(rng.uniform(0.3, 2.5))
        elif mode == "queue-run":
            time.sleep(rng.uniform(0.3, 1.0))
            self.sink.activity.clear()
            self.sink.activity.wait(5.0)
            time.sleep(rng.uniform(0.0, 0.08))
        elif mode == "sigterm":
            time.sleep(rng.uniform(0.3, 2.0))
        else:
            time.sleep(rng.uniform(0.3, 2.0))
            reloader.hup_now()
            time.sleep(rng.uniform(0.0, 0.05))

    def trial(self, index: int, mode: str) -> TrialResult:
        started = time.monotonic()
        log_start = self._log_size()
        mta, output = self._start("-q1s")
        assert mta.proc is not None
        load = LoadGenerator(
            mta.port(), self.ledger, index, self.sessions, self.seed * 7919 + index, self.largest
        ).start()
        reloader = Reloader(
            self.setup.config_path,
            self.config_texts,
            self.setup.log_file,
            mta.proc.pid,
            random.Random(index),
        ).start()
        self._wait_kill_moment(mode, reloader)
        stopped = None
        if mode == "sigterm":
            reloader.join()  # an orderly stop, not a reload race
            stopped = stop_daemon(mta, 60)
        else:
            kill_tree(mta)
            reloader.join()
        load.join()
        output.join()
        mta.stop()
        problems = self._log_problems(log_start, output) + load.unexpected
        if stopped is not None:
            problems.append(stopped)
        check_start = self._log_size()
        checker, check_output = self._start()  # start-up sweep = recovery
        stopped = stop_daemon(checker, 30)
        check_output.join()
        if stopped is not None:
            problems.append(stopped)
        elif checker.proc is not None and checker.proc.returncode != 0:
            problems.append(f"the restarted daemon exited {checker.proc.returncode}")
        problems += self._log_problems(check_start, check_output)
        check = self.inspector.check()
        problems += check.problems
        led = self.ledger
        result = TrialResult(
            index,
            mode,
            time.monotonic() - started,
            led.count(ACCEPTED, index),
            led.count(IN_DOUBT, index),
            led.count(INCOMPLETE, index),
            led.count(REFUSED, index),
            reloader.sent,
            check.queued_jobs,
            check.delivered_copies,
            check.duplicates,
            check.lost,
            problems,
        )
        self.results.append(result)
        self.say(result.line())
        for problem in problems[:20]:
            self.say(f"    {problem}")
        return result

    def drain(self, deadline: float) -> TrialResult:
        """Deliver what is queued (no load), then check that only deferrals remain."""
        started = time.monotonic()
        log_start = self._log_size()
        mta, output = self._start("-q1s")
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            view = self.inspector.queue()
            if all(rcpts <= {DEFER_RCPT} for rcpts in view.pending.values()):
                break
            time.sleep(0.5)
        stopped = stop_daemon(mta, 30)
        output.join()
        problems = self._log_problems(log_start, output)
        if stopped is not None:
            problems.append(f"drain: {stopped}")
        check = self.inspector.check()
        problems += check.problems
        view = self.inspector.queue()
        for token, rcpts in view.pending.items():
            if rcpts - {DEFER_RCPT}:
                problems.append(f"drain: {token} still queued for {sorted(rcpts - {DEFER_RCPT})}")
        result = TrialResult(
            len(self.results) + 1, "drain", time.monotonic() - started, 0, 0, 0, 0, 0,
            check.queued_jobs, check.delivered_copies, check.duplicates, check.lost, problems,
        )  # fmt: skip
        self.results.append(result)
        self.say(result.line())
        for problem in problems[:20]:
            self.say(f"    {problem}")
        return result

    def run(
        self, trials: int, *, drain: float | None = 420.0, modes: tuple[str, ...] = MODES
    ) -> list[TrialResult]:
        """``trials`` trials, then (unless ``drain`` is None) a drain of at most that long.

        An mbox drain may need the full default: a dot-lock left by a killed
        delivery blocks that mailbox until it is 5 minutes old (STALE_DOT_LOCK).
        """
        for index in range(1, trials + 1):
            self.trial(index, modes[(index - 1) % len(modes)])
        if drain is not None:
            self.drain(drain)
        return self.results

    def summary(self) -> str:
        led = self.ledger
        problems = sum(len(r.problems) for r in self.results)
        check = self.inspector.check()
        trials = sum(1 for r in self.results if r.mode != "drain")
        drained = " + drain" if len(self.results) > trials else ""
        return (
            f"{trials} trials{drained}, mailbox {self.mailbox}: "
            f"{led.count(ACCEPTED)} acknowledged, {led.count(IN_DOUBT)} in doubt "
            f"({check.in_doubt_present} of them kept), "
            f"{led.count(INCOMPLETE)} cut off before the dot, "
            f"{led.count(REFUSED)} refused; {sum(r.lost for r in self.results)} losses, "
            f"{check.duplicates} duplicate deliveries, {problems} problems"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--mailbox", choices=("mbox", "maildir"), default="mbox")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--modes", default=",".join(MODES), help=f"kill modes in turn, from {','.join(ALL_MODES)}"
    )
    ap.add_argument("--drain", type=float, default=420.0, help="drain time limit (0: none)")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    opts = ap.parse_args()
    base = opts.keep or Path(tempfile.mkdtemp(prefix="postroom-crash-"))
    base.mkdir(parents=True, exist_ok=True)
    harness = CrashHarness(base, seed=opts.seed, sessions=opts.sessions, mailbox=opts.mailbox)
    try:
        modes = tuple(m.strip() for m in opts.modes.split(","))
        unknown = set(modes) - set(ALL_MODES)
        if unknown:
            raise SystemExit(f"unknown mode(s): {', '.join(sorted(unknown))}")
        harness.run(opts.trials, drain=opts.drain or None, modes=modes)
        print(harness.summary())
    finally:
        harness.close()
        if opts.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if all(not r.problems for r in harness.results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
