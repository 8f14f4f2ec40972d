"""Start-up sweep of a queue folder: remove crash debris, set aside bad control files.

Run before the daemon accepts mail (another MTA writing the same folder at the
same time could lose a message it has not locked yet).  Rules:

- ``tf`` files and ``df`` files with no ``qf``/``hf``/``Qf`` were never
  acknowledged: removed -- unless a live writer holds their flock, then left
  alone.  The check for a control file is repeated after taking the lock,
  because a writer publishes its qf before it unlocks its df.
- A ``qf``/``hf`` that does not parse is renamed to ``Qf<id>`` (Sendmail's
  "lost" name, listed by ``mailq -qL``), never deleted; the log line names the
  file, the line and the reason, in Sendmail's ``Losing <file>: <why>`` form.
- A zero-length ``qf``/``hf`` older than 10 minutes is removed with its df, as
  Sendmail's ``readqf`` does; a younger one is left for now.
- Locked control files are being worked on and are skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .durable import close_quietly, unlink_quietly
from .errors import InvalidQueueIdError, QueueFileError
from .locks import open_locked
from .qfparse import parse_qf
from .qid import check_qid

ZERO_LENGTH_GRACE = 10 * 60


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did; every entry is a file name inside the queue folder."""

    removed: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    skipped_locked: tuple[str, ...] = ()


@dataclass
class _Work:
    removed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)


def sweep(queue_dir: Path, log: Callable[[str], None], *, now: float | None = None) -> SweepReport:
    """Sweep ``queue_dir``; ``log`` receives one line per action."""
    queue_dir = Path(queue_dir)
    current = time.time() if now is None else now
    control = {qid for prefix, qid in _entries(queue_dir) if prefix in ("qf", "hf", "Qf")}
    work = _Work()
    for prefix, qid in _entries(queue_dir):
        if prefix in ("qf", "hf"):
            _check_control(queue_dir, prefix, qid, current, log, work)
        elif prefix in ("tf", "df") and (prefix == "tf" or qid not in control):
            _remove_debris(queue_dir, prefix, qid, log, work)
    return SweepReport(tuple(work.removed), tuple(work.lost), tuple(work.locked))


def _entries(queue_dir: Path) -> Iterator[tuple[str, str]]:
    """(prefix, qid) of the spool files in ``queue_dir``, in directory order."""
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            prefix, qid = entry.name[:2], entry.name[2:]
            if prefix not in ("qf", "hf", "Qf", "tf", "df"):
                continue
            try:
                check_qid(qid)
            except InvalidQueueIdError:
                continue
            yield prefix, qid


def _has_control(queue_dir: Path, qid: str) -> bool:
    return any(os.path.lexists(queue_dir / (p + qid)) for p in ("qf", "hf", "Qf"))


def _remove_debris(
    queue_dir: Path, prefix: str, qid: str, log: Callable[[str], None], work: _Work
) -> None:
    name = prefix + qid
    fd = open_locked(queue_dir / name)
    if fd is None:
        if os.path.lexists(queue_dir / name):
            work.locked.append(name)
        return
    try:
        if prefix == "df" and _has_control(queue_dir, qid):
            return
        os.unlink(queue_dir / name)
    except FileNotFoundError:
        return
    finally:
        close_quietly(fd)
    what = "temporary control file" if prefix == "tf" else "data file without control file"
    log(f"sweep: removed {what} {name}")
    work.removed.append(name)


def _check_control(
    queue_dir: Path, prefix: str, qid: str, now: float, log: Callable[[str], None], work: _Work
) -> None:
    name = prefix + qid
    path = queue_dir / name
    fd = open_locked(path)
    if fd is None:
        if os.path.lexists(path):
            work.locked.append(name)
        return
    try:
        st = os.fstat(fd)
        if st.st_size == 0:
            if st.st_ctime + ZERO_LENGTH_GRACE < now:
                df = queue_dir / ("df" + qid)
                if os.path.lexists(df):
                    unlink_quietly(df)
                    work.removed.append(df.name)
                os.unlink(path)
                log(f"sweep: removed zero-length control file {name} (older than 10 minutes)")
                work.removed.append(name)
            return
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read()
        try:
            parse_qf(data, str(path))
        except QueueFileError as exc:
            _lose(queue_dir, name, qid, str(exc), log, work)
    finally:
        close_quietly(fd)


def _lose(
    queue_dir: Path, name: str, qid: str, why: str, log: Callable[[str], None], work: _Work
) -> None:
    lost = queue_dir / ("Qf" + qid)
    if os.path.lexists(lost):
        log(f"sweep: cannot set aside {name} ({why}): {lost.name} already exists")
        return
    os.rename(queue_dir / name, lost)
    log(f"Losing {name}: {why}")
    work.lost.append(name)
