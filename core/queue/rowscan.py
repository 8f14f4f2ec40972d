"""Reading queue jobs as ``queue.list`` rows: one open, one read, one stat per job.

A row is shaped like a line of Postfix's ``postqueue -j`` (``queue_name``, ``queue_id``,
``arrival_time``, ``message_size``, ``sender``, ``recipients[].address``,
``recipients[].delay_reason``) plus Sendmail's own facts: ``attempts``,
``last_attempt``, ``next_try``, ``priority``, ``quarantine`` (the hold reason),
``status`` (the envelope's status text), ``locked`` and ``error``.

``queue_name`` maps Sendmail's spool onto Postfix's names: ``hold`` for a quarantined
``hf`` job, ``corrupt`` for a lost ``Qf`` one, ``active`` for a job some process holds
locked (being delivered), ``deferred`` once a delivery was attempted, else ``incoming``.
``next_try`` is an estimate: the earliest time a queue run will try the job
(``MinQueueAge`` after the last attempt; the arrival time before the first), ``null``
for held and lost jobs.

Unlike :func:`postroom.core.queue.parse_qf` this reader only picks out the envelope
lines (headers are skipped unparsed), which makes it several times faster on 100,000
jobs; a file it cannot make sense of is still listed, with ``error`` set, as ``mailq``
lists it.  ``queue.show`` uses the full parser.  Addresses lose their angle brackets;
the null sender is ``""``.  Text is decoded as UTF-8 with surrogateescape.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .qfmodel import ENCODING, ERRORS, QF_VERSION

KINDS = {"qf": "queue", "hf": "hold", "Qf": "lost"}
"""Control-file prefix -> the name of that part of the queue in params."""
MAX_NAME = 21
_READ = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_V, _T, _K, _N, _P, _S, _R, _M, _Q, _LOWER_R, _C, _H, _LOWER_Q, _DOT = b"VTKNPSRMQrCHq."
_SPACE, _TAB = 0x20, 0x09


def control_names(queue_dir: Path, prefixes: tuple[str, ...]) -> list[str]:
    """The control files of the wanted kinds (``qf``, ``hf``, ``Qf``), in directory order."""
    names = []
    with os.scandir(queue_dir) as entries:
        for entry in entries:
            name = entry.name
            if name[:2] in prefixes and listable(name):
                names.append(name)
    return names


def listable(name: str) -> bool:
    """True for a control file name whose queue id ``queue.list`` accepts."""
    qid = name[2:]
    return 0 < len(qid) < MAX_NAME - 2 and qid.isascii() and qid.isalnum()


def scan(
    queue_dir: Path, names: list[str], *, now: float, min_queue_age: float
) -> Iterator[dict[str, Any]]:
    """A row per control file in ``names``; files gone meanwhile are skipped."""
    dir_fd = os.open(queue_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in names:
            row = read_row(dir_fd, name, min_queue_age)
            if row is not None:
                yield row
    finally:
        os.close(dir_fd)


def read_row(dir_fd: int, name: str, min_queue_age: float) -> dict[str, Any] | None:
    """The row for control file ``name`` in the folder open as ``dir_fd``."""
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _broken(dir_fd, name, f"{name}: {exc.strerror}", False)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            locked = False
        except BlockingIOError:
            locked = True
        data = os.read(fd, _READ)
        if len(data) == _READ:
            parts = [data]
            while part := os.read(fd, _READ):
                parts.append(part)
            data = b"".join(parts)
    except OSError as exc:
        return _broken(dir_fd, name, f"{name}: {exc.strerror}", False)
    finally:
        os.close(fd)
    return complete_row(summarize(data, name), name, _df_size(dir_fd, name), locked, min_queue_age)


def complete_row(
    row: dict[str, Any], name: str, df_size: int, locked: bool, min_queue_age: float
) -> dict[str, Any]:
    """Add what is not in the control file: size, lock, the queue's name, the next try."""
    row["message_size"] = df_size
    row["locked"] = locked
    prefix = name[:2]
    if prefix == "hf":
        row["queue_name"] = "hold"
    elif prefix == "Qf":
        row["queue_name"] = "corrupt"
    elif locked:
        row["queue_name"] = "active"
    else:
        row["queue_name"] = "deferred" if row["attempts"] else "incoming"
    if prefix != "qf" or row["error"]:
        row["next_try"] = None
    elif row["attempts"]:
        last = row["last_attempt"] or row["arrival_time"]
        row["next_try"] = max(last + int(min_queue_age), row["arrival_time"])
    else:
        row["next_try"] = row["arrival_time"]
    return row


def _df_size(dir_fd: int, name: str) -> int:
    try:
        return os.stat("d" + name[1:], dir_fd=dir_fd).st_size
    except OSError:
        return -1


def _broken(dir_fd: int, name: str, error: str, locked: bool) -> dict[str, Any]:
    row = _empty(name)
    row.update(
        error=error,
        message_size=_df_size(dir_fd, name),
        locked=locked,
        queue_name="corrupt" if name[:2] == "Qf" else "hold" if name[:2] == "hf" else "incoming",
        next_try=None,
    )
    return row


def _empty(name: str) -> dict[str, Any]:
    return {
        "queue_name": "",
        "queue_id": name[2:],
        "arrival_time": 0,
        "message_size": -1,
        "sender": "",
        "recipients": [],
        "attempts": 0,
        "last_attempt": None,
        "next_try": None,
        "priority": 0,
        "quarantine": None,
        "status": None,
        "locked": False,
        "error": None,
    }


def _text(raw: bytes) -> str:
    return raw.decode(ENCODING, ERRORS)


def _address(raw: bytes) -> str:
    text = raw.decode(ENCODING, ERRORS)
    if text[:1] == "<" and text[-1:] == ">":
        return text[1:-1]
    return text


def summarize(data: bytes, name: str) -> dict[str, Any]:
    """The row fields found in a control file's bytes (``error`` set if it is damaged)."""
    row = _empty(name)
    recipients: list[dict[str, str]] = []
    pending: bytes | None = None  # an M line waiting to see whether an R follows
    version = 0
    finished = False
    error: str | None = None
    try:
        for number, line in enumerate(data.split(b"\n"), 1):
            if not line:
                continue
            code = line[0]
            if code == _H or code == _SPACE or code == _TAB:
                if code == _H and pending is not None:
                    row["status"], pending = _text(pending[1:]), None
                continue
            if code == _R:
                address = line[1:]
                if version >= 1:
                    address = address.partition(b":")[2]
                reason = _text(pending[1:]) if pending is not None else ""
                recipients.append({"address": _address(address), "delay_reason": reason})
                pending = None
                continue
            if code == _M:
                if pending is not None:
                    row["status"] = _text(pending[1:])
                pending = line
                continue
            if code == _Q or code == _LOWER_R or code == _C:
                continue
            if pending is not None:
                row["status"], pending = _text(pending[1:]), None
            if code == _T:
                row["arrival_time"] = int(line[1:])
            elif code == _K:
                row["last_attempt"] = int(line[1:])
            elif code == _N:
                row["attempts"] = int(line[1:])
            elif code == _P:
                row["priority"] = int(line[1:])
            elif code == _S:
                row["sender"] = _address(line[1:])
            elif code == _LOWER_Q:
                row["quarantine"] = _text(line[1:])
            elif code == _V:
                version = int(line[1:])
                if not 0 <= version <= QF_VERSION:
                    error = f"{name}: line {number}: unsupported queue file version"
                    break
            elif code == _DOT and line == b".":
                finished = True
                break
    except ValueError:
        error = f"{name}: line {number}: bad number"
    if pending is not None:
        row["status"] = _text(pending[1:])
    if error is None and not finished:
        error = f"{name}: incomplete queue file (no final '.' line)"
    row["recipients"] = recipients
    if row["last_attempt"] == 0:
        row["last_attempt"] = None
    if error is not None:
        row["error"] = error
    return row
