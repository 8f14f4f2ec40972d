"""Which jobs a queue run takes, and in what order.

:func:`scan` lists the jobs a selection matches (``-qI``/``-qR``/``-qS``
with ``!``, ``-qQ`` for held jobs -- the same rules as ``mailq``, through
:func:`..queue.gather.gather`) and reads the few envelope numbers the
scheduler needs (``T``, ``K``, ``N``, ``P``), one small record per job.

:func:`interleave` orders them for the run: never-tried jobs and retries
each oldest first, taken alternately, so a backlog of deferred mail never
delays fresh mail by more than one job at a time.  The runner works on a
bounded active set taken from the front of this order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..queue.gather import atol, gather
from ..queue.selection import QueueSelection

_HEAD_LINES = 16


@dataclass(frozen=True, slots=True)
class Candidate:
    """A job to attempt."""

    qid: str
    ctime: int = 0
    last_attempt: int = 0
    attempts: int = 0
    priority: int = 0


def read_head(path: Path, qid: str) -> Candidate | None:
    """The ``T K N P`` numbers of one control file (None if it is gone)."""
    values = {b"T": 0, b"K": 0, b"N": 0, b"P": 0}
    try:
        with open(path, "rb") as handle:
            for _, line in zip(range(_HEAD_LINES), handle, strict=False):
                code = line[:1]
                if code in values:
                    values[code] = atol(line[1:])
                if line.startswith(b"S"):
                    break
    except FileNotFoundError:
        return None
    except OSError:
        return Candidate(qid)
    return Candidate(qid, values[b"T"], values[b"K"], values[b"N"], values[b"P"])


def scan(queue_dir: Path, selection: QueueSelection, *, now: float) -> list[Candidate]:
    """The selected jobs of ``queue_dir`` (in no particular order)."""
    found: list[Candidate] = []
    for item in gather(Path(queue_dir), selection, now=now):
        candidate = read_head(Path(queue_dir) / item.name, item.name[2:])
        if candidate is not None:
            found.append(candidate)
    return found


def interleave(candidates: Sequence[Candidate]) -> Iterator[Candidate]:
    """Fresh jobs and retries, each oldest first, alternately."""
    fresh = sorted((c for c in candidates if c.attempts == 0), key=lambda c: (c.ctime, c.qid))
    retry = sorted((c for c in candidates if c.attempts > 0), key=lambda c: (c.ctime, c.qid))
    for i in range(max(len(fresh), len(retry))):
        if i < len(fresh):
            yield fresh[i]
        if i < len(retry):
            yield retry[i]
