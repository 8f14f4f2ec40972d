"""SIGKILL under load, restart, and every acknowledged message is queued or delivered whole.

The CI-sized run of ``bench/crash.py`` (3 trials per mailbox format, one per
kill mode: during the load, during a queue run, during a SIGHUP reload); the
by-hand run is 50 trials (see docs/benchmarks.md).  ``POSTROOM_CRASH_SEED``
replays a given seed; otherwise it is chosen at random and named in the
failure message.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from bench.crash import MODES, CrashHarness
from bench.crashcheck import ACCEPTED

pytestmark = pytest.mark.crash


def _seed() -> int:
    return int(os.environ.get("POSTROOM_CRASH_SEED") or random.randrange(1, 10**6))


def _run(base: Path, mailbox: str, drain: float | None) -> None:
    seed = _seed()
    lines: list[str] = []
    harness = CrashHarness(
        base, seed=seed, sessions=6, mailbox=mailbox, largest=100_000, say=lines.append
    )
    try:
        results = harness.run(len(MODES), drain=drain)
        summary = harness.summary()
    finally:
        harness.close()
    report = f"seed {seed}\n" + "\n".join(lines) + "\n" + summary
    assert [r.mode for r in results][: len(MODES)] == list(MODES), report
    assert all(not r.problems for r in results), report
    assert harness.ledger.count(ACCEPTED) >= 10, report
    assert sum(r.lost for r in results) == 0, report


def test_sigkill_loses_nothing_mbox(tmp_path: Path) -> None:
    # No drain: a dot-lock left by a killed mbox delivery blocks that mailbox for 5 minutes.
    _run(tmp_path, "mbox", drain=None)


def test_sigkill_loses_nothing_maildir_then_drains(tmp_path: Path) -> None:
    _run(tmp_path, "maildir", drain=45.0)
