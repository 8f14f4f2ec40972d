"""SIGTERM under load: an orderly stop never queues a message it answered 421.

Found by the crash harness's ``sigterm`` mode (bench/crash.py): when the daemon
stops, every open session is answered ``421 4.3.2 ... Shutting down`` and its
message aborted -- including a session whose message already went to the
group committer after its final dot.  The committer still finishes that
commit (``close()`` drains what is pending), so the message is queued and
later delivered although the client was told it was not taken: the client
sends it again, and it arrives twice.  (On commit d17ee34 the abort can also
hit a writer still receiving DATA from another thread:
``QueueError('message ... is aborted, not open')`` escapes the session.)
Expected: a session whose message is being committed waits for the commit
and answers ``250`` (or, if the commit fails, its error), and only then
closes; the others get ``421``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import CrashHarness
from bench.crashcheck import ACCEPTED, REFUSED

pytestmark = pytest.mark.crash


def test_sigterm_under_load_queues_only_what_it_acknowledged(tmp_path: Path) -> None:
    lines: list[str] = []
    harness = CrashHarness(tmp_path, seed=5, sessions=8, mailbox="maildir", say=lines.append)
    try:
        results = harness.run(5, drain=None, modes=("sigterm",))
    finally:
        harness.close()
    assert harness.ledger.count(ACCEPTED) >= 10
    assert harness.ledger.count(REFUSED) >= 1  # the stop did catch sessions mid-way
    assert all(not r.problems for r in results), "\n".join(lines)
