"""Where did every message go?  The crash harness's inspection of queue, mailboxes and sink.

:class:`Ledger` holds what the load generator sent, per token, with the
client's view of it: ``accepted`` (a ``250`` with its queue id), ``in_doubt``
(the final dot went out, no reply came back), ``incomplete`` (the dot was
never sent) or ``refused`` (any other reply).

:class:`Inspector` looks at what is on disk and in the sink after a crash
and the restart's start-up sweep, and returns the problems it finds:

- queue: no ``tf`` and no ``df`` without its ``qf`` may be left (the sweep
  removes them), no ``Qf`` (a control file the sweep could not read); every
  ``qf`` parses, its ``df`` exists, and header and body equal a message the
  client sent whole (``accepted`` or ``in_doubt``) under
  :func:`.mailgen.compare`; an accepted message's qf carries its queue id;
- delivered copies (mbox or Maildir ``new/`` of the local users, the sink):
  every one equals a message sent whole, to a recipient it was sent to;
- the ledger: every recipient of every accepted message is either delivered
  or still pending in that message's qf -- otherwise the message is *lost*.

Duplicates (a copy delivered twice because the daemon died between the
delivery and the qf update) are counted, not refused: SMTP promises at least
once.  Checks are incremental where the data only grows (mbox offsets,
Maildir names, the sink's list), so the cost of a check does not grow with
the number of trials.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from postroom.core.queue.errors import QueueFileError
from postroom.core.queue.qf import parse_qf

from bench.mailgen import LOCAL_RCPTS, SentMessage, compare, split_message, token_of
from bench.sink import SmtpSink

ACCEPTED, IN_DOUBT, INCOMPLETE, REFUSED = "accepted", "in_doubt", "incomplete", "refused"
SENT_WHOLE = (ACCEPTED, IN_DOUBT)


@dataclass
class Entry:
    message: SentMessage
    state: str = INCOMPLETE
    qid: str | None = None
    trial: int = 0
    reply: str = ""


class Ledger:
    """Every message the generator tried to send, by token (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: dict[str, Entry] = {}

    def begin(self, message: SentMessage, trial: int) -> None:
        with self._lock:
            self.entries[message.token] = Entry(message, trial=trial)

    def settle(self, token: str, state: str, qid: str | None = None, reply: str = "") -> None:
        with self._lock:
            entry = self.entries[token]
            entry.state, entry.qid, entry.reply = state, qid, reply

    def count(self, state: str, trial: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for e in self.entries.values()
                if e.state == state and (trial is None or e.trial == trial)
            )


@dataclass
class QueueView:
    """The queue after the sweep: pending recipients per token, and problems found."""

    pending: dict[str, set[str]] = field(default_factory=dict)
    qids: dict[str, str] = field(default_factory=dict)
    jobs: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class CheckResult:
    problems: list[str]
    queued_jobs: int
    delivered_copies: int
    duplicates: int
    lost: int
    in_doubt_present: int
    in_doubt_absent: int


def _address(shown: str) -> str:
    return shown.strip().strip("<>").lower()


class Inspector:
    """Inspects one harness's queue folder, local mailboxes and sink."""

    def __init__(
        self, ledger: Ledger, queue_dir: Path, spool_dir: Path, sink: SmtpSink, mailbox: str
    ) -> None:
        self.ledger = ledger
        self.queue_dir = queue_dir
        self.spool_dir = spool_dir
        self.sink = sink
        self.mailbox = mailbox
        self.delivered: Counter[tuple[str, str]] = Counter()
        self._mbox_offsets: dict[str, int] = {}
        self._maildir_seen: set[str] = set()
        self._sink_seen = 0
        self._queue_cache: dict[str, tuple[tuple[int, ...], str | None, set[str], str | None]] = {}

    # -- copies ------------------------------------------------------------
    def _check_copy(
        self, where: str, headers: list[tuple[str, str]], body: bytes, rcpts: list[str], mbox: bool
    ) -> str | None:
        """Record one delivered copy; a problem text when it is not a message sent whole."""
        token = token_of(headers)
        entry = self.ledger.entries.get(token or "")
        if token is None or entry is None:
            return f"{where}: a copy without a known token (headers {headers[:3]!r})"
        if entry.state not in SENT_WHOLE:
            why = f"{entry.state} ({entry.reply!r})" if entry.reply else entry.state
            return f"{where}: message {token} was delivered although it was {why}"
        diff = compare(entry.message, headers, body, mbox=mbox)
        if diff is not None:
            return f"{where}: message {token} delivered half-written or altered: {diff}"
        for rcpt in rcpts:
            if rcpt not in entry.message.recipients:
                return f"{where}: message {token} delivered to {rcpt}, not a recipient"
            self.delivered[(token, rcpt)] += 1
        return None

    def _local_copies(self) -> list[str]:
        problems: list[str] = []
        for rcpt in LOCAL_RCPTS:
            user = rcpt.partition("@")[0]
            path = self.spool_dir / user
            if self.mailbox == "maildir":
                problems += self._maildir(path / "new", rcpt)
            elif path.is_file():
                problems += self._mbox(path, rcpt)
        return problems

    def _maildir(self, folder: Path, rcpt: str) -> list[str]:
        problems: list[str] = []
        if not folder.is_dir():
            return problems
        for name in sorted(os.listdir(folder)):
            if name in self._maildir_seen:
                continue
            self._maildir_seen.add(name)
            headers, body = split_message((folder / name).read_bytes())
            problem = self._check_copy(f"{folder / name}", headers, body, [rcpt], mbox=False)
            if problem:
                problems.append(problem)
        return problems

    def _mbox(self, path: Path, rcpt: str) -> list[str]:
        problems: list[str] = []
        offset = self._mbox_offsets.get(str(path), 0)
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        self._mbox_offsets[str(path)] = offset + len(data)
        if not data:
            return problems
        if not data.startswith(b"From "):
            return [f"{path}@{offset}: does not start with a From line: {data[:60]!r}"]
        starts = [0] + [i + 1 for i in _find_all(data, b"\nFrom ")]
        for begin, end in zip(starts, [*starts[1:], len(data)], strict=True):
            chunk = data[begin:end]
            from_line, _, content = chunk.partition(b"\n")
            headers, body = split_message(content)
            where = f"{path}@{offset + begin}"
            problem = self._check_copy(where, headers, body, [rcpt], mbox=True)
            if problem is None:
                token = token_of(headers) or ""
                sender = self.ledger.entries[token].message.sender
                if not from_line.startswith(f"From {sender} ".encode()):
                    problem = f"{where}: From line {from_line[:80]!r} does not name {sender}"
            if problem:
                problems.append(problem)
        return problems

    def _sink_copies(self) -> list[str]:
        problems: list[str] = []
        messages = self.sink.messages()
        for index in range(self._sink_seen, len(messages)):
            msg = messages[index]
            headers, body = split_message(msg.data)
            rcpts = [r.lower() for r in msg.recipients]
            problem = self._check_copy(f"sink #{index}", headers, body, rcpts, mbox=False)
            if problem:
                problems.append(problem)
        self._sink_seen = len(messages)
        return problems

    # -- the queue ---------------------------------------------------------
    def queue(self) -> QueueView:
        """The queue's jobs; files that vanish while it reads count only in a drain's polling."""
        view = QueueView()
        names = sorted(os.listdir(self.queue_dir))
        present = set(names)
        for name in names:
            prefix, qid = name[:2], name[2:]
            if prefix == "tf":
                view.problems.append(f"queue: {name} left after the start-up sweep")
            elif prefix == "Qf":
                view.problems.append(f"queue: {name}: a control file the sweep could not read")
            elif prefix == "df" and f"qf{qid}" not in present and f"hf{qid}" not in present:
                view.problems.append(f"queue: {name} without a control file after the sweep")
            elif prefix in ("qf", "hf"):
                view.jobs += 1
                self._queued(view, name, qid, present)
        return view

    def _queued(self, view: QueueView, name: str, qid: str, present: set[str]) -> None:
        qf_path, df_path = self.queue_dir / name, self.queue_dir / f"df{qid}"
        if f"df{qid}" not in present:
            view.problems.append(f"queue: {name} has no df{qid}")
            return
        try:
            qst, dst = qf_path.stat(), df_path.stat()
        except FileNotFoundError:  # delivered meanwhile (only while a daemon runs: the drain)
            return
        key = (qst.st_ino, qst.st_mtime_ns, qst.st_size, dst.st_ino, dst.st_size)
        cached = self._queue_cache.get(name)
        if cached is not None and cached[0] == key:
            _, token, rcpts, problem = cached
        else:
            try:
                token, rcpts, problem = self._read_job(name, qf_path, df_path)
            except FileNotFoundError:
                return
            self._queue_cache[name] = (key, token, rcpts, problem)
        if problem is not None:
            view.problems.append(problem)
        if token is not None:
            view.pending.setdefault(token, set()).update(rcpts)
            view.qids[token] = qid

    def _read_job(
        self, name: str, qf_path: Path, df_path: Path
    ) -> tuple[str | None, set[str], str | None]:
        try:
            qf = parse_qf(qf_path.read_bytes(), str(qf_path))
        except QueueFileError as exc:
            return None, set(), f"queue: {name} does not parse: {exc}"
        headers = [(h.name, h.value) for h in qf.headers]
        token = token_of(headers)
        entry = self.ledger.entries.get(token or "")
        if token is None or entry is None:
            return None, set(), f"queue: {name} is not a message the harness sent ({qf.sender})"
        rcpts = {_address(r.address) for r in qf.recipients}
        if entry.state not in SENT_WHOLE:
            why = f"{entry.state} ({entry.reply!r})" if entry.reply else entry.state
            return token, rcpts, f"queue: {name} holds message {token}, which was {why}"
        diff = compare(entry.message, headers, df_path.read_bytes())
        if diff is not None:
            return token, rcpts, f"queue: {name} holds message {token} altered: {diff}"
        if entry.state == ACCEPTED and entry.qid != name[2:]:
            return token, rcpts, f"queue: {name} holds {token}, acknowledged as {entry.qid}"
        extra = rcpts - set(entry.message.recipients)
        if extra:
            return token, rcpts, f"queue: {name} has recipients never sent: {sorted(extra)}"
        return token, rcpts, None

    # -- everything ----------------------------------------------------------
    def check(self) -> CheckResult:
        """Inspect the queue first, then the deliveries (a copy never escapes both)."""
        view = self.queue()
        problems = list(view.problems)
        problems += self._local_copies()
        problems += self._sink_copies()
        lost = 0
        present = absent = 0
        for token, entry in self.ledger.entries.items():
            if entry.state == IN_DOUBT:
                found = token in view.pending or any(
                    self.delivered[(token, r)] for r in entry.message.recipients
                )
                present, absent = present + found, absent + (not found)
            if entry.state != ACCEPTED:
                continue
            pending = view.pending.get(token, set())
            for rcpt in entry.message.recipients:
                if rcpt not in pending and not self.delivered[(token, rcpt)]:
                    lost += 1
                    problems.append(
                        f"LOST: {token} (qid {entry.qid}, trial {entry.trial}) for {rcpt}: "
                        "neither delivered nor in the queue"
                    )
        duplicates = sum(n - 1 for n in self.delivered.values() if n > 1)
        return CheckResult(
            problems,
            view.jobs,
            sum(self.delivered.values()),
            duplicates,
            lost,
            present,
            absent,
        )


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found: list[int] = []
    start = data.find(needle)
    while start >= 0:
        found.append(start)
        start = data.find(needle, start + 1)
    return found
