"""The reply memory: who was answered when, exclusions, the interval, the global send log.

One SQLite file (it survives restarts; several delivery processes may use it
at once, SQLite's locking serialises them):

- ``replies(user, sender, time)``: the last reply to ``sender`` for ``user``;
  time 0 marks an exclusion (``vacation -x``, "never reply"), as in
  Sendmail's database.  Keys are lower-cased addresses or ``@domain``.
- ``options(user, name, value)``: the ``vacation -r`` interval (Sendmail's
  ``__VACATION__INTERVAL__TIMER__`` key).
- ``sent(time)``: every reply sent, for the global rate limit; rows older
  than the longest window asked for are pruned.

:meth:`ReplyMemory.entries` lists a user's memory and :meth:`ReplyMemory.forget`
drops chosen senders from it (the GUI's "forget": that sender is answered again).

Bounded: at most ``max_entries`` rows per user; when a reply is recorded
beyond that, the oldest replies (never exclusions while replies remain) are
dropped.  The built-in responder keeps one file for all users
(``<VacationDirectory>/replies.db``, ``user`` = the login); the ``vacation``
program keeps one per user (``~/.vacation.db``, ``user`` = ``""``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .errors import ReplyMemoryError

MAX_ENTRIES = 10000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    user TEXT NOT NULL, sender TEXT NOT NULL, time INTEGER NOT NULL,
    PRIMARY KEY (user, sender));
CREATE INDEX IF NOT EXISTS replies_time ON replies (user, time);
CREATE TABLE IF NOT EXISTS options (
    user TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (user, name));
CREATE TABLE IF NOT EXISTS sent (time INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sent_time ON sent (time);
"""


def sender_keys(sender: str) -> list[str]:
    """The keys looked up for a sender: the address, then its ``@domain`` (lower case)."""
    address = sender.strip().strip("<>").lower()
    keys = [address]
    at = address.rfind("@")
    if at >= 0:
        keys.append(address[at:])
    return keys


class ReplyMemory:
    """A reply database at ``path`` (created on first use, mode 0600)."""

    def __init__(self, path: Path, *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        try:
            if not self.path.exists():
                self.path.touch(mode=0o600)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ReplyMemoryError(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ReplyMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise ReplyMemoryError(f"{self.path}: {exc}") from exc

    # -- replies and exclusions -------------------------------------------------

    def last_reply(self, user: str, sender: str) -> int | None:
        """Time of the last reply to ``sender`` or its ``@domain`` (0: excluded), or None."""
        times: list[int] = []
        for key in sender_keys(sender):
            rows = self._run("SELECT time FROM replies WHERE user = ? AND sender = ?", (user, key))
            times += [int(str(r[0])) for r in rows]
        if not times:
            return None
        return 0 if 0 in times else max(times)

    def record(self, user: str, sender: str, when: float) -> None:
        """Remember a reply to ``sender`` at ``when``; keeps the table bounded."""
        key = sender_keys(sender)[0]
        self._run(
            "INSERT INTO replies (user, sender, time) VALUES (?, ?, ?) "
            "ON CONFLICT (user, sender) DO UPDATE SET time = excluded.time "
            "WHERE replies.time != 0",
            (user, key, max(1, int(when))),
        )
        self._prune(user)

    def exclude(self, user: str, key: str) -> None:
        """Never reply to ``key`` (an address or ``@domain``): stored with time 0."""
        self._run(
            "INSERT OR REPLACE INTO replies (user, sender, time) VALUES (?, ?, 0)",
            (user, key.strip().lower()),
        )
        self._prune(user)

    def entries(self, user: str) -> list[tuple[str, int]]:
        """Every (key, time) of ``user``, sorted by key."""
        rows = self._run("SELECT sender, time FROM replies WHERE user = ? ORDER BY sender", (user,))
        return [(str(k), int(str(t))) for k, t in rows]

    def clear(self, user: str) -> None:
        """Forget every reply and exclusion of ``user`` (``vacation -i``)."""
        self._run("DELETE FROM replies WHERE user = ?", (user,))

    def forget(self, user: str, keys: Iterable[str]) -> int:
        """Forget the replies to (or exclusions of) ``keys`` for ``user``; how many were known."""
        wanted = sorted({k.strip().lower() for k in keys})
        before = len(self.entries(user))
        for key in wanted:
            self._run("DELETE FROM replies WHERE user = ? AND sender = ?", (user, key))
        return before - len(self.entries(user))

    def _prune(self, user: str) -> None:
        count = int(str(self._run("SELECT count(*) FROM replies WHERE user = ?", (user,))[0][0]))
        excess = count - self.max_entries
        if excess > 0:
            self._run(
                "DELETE FROM replies WHERE rowid IN (SELECT rowid FROM replies WHERE user = ? "
                "ORDER BY time = 0, time LIMIT ?)",
                (user, excess),
            )

    # -- the interval (vacation -r) ---------------------------------------------

    def interval(self, user: str) -> int | None:
        """The stored interval in seconds (0: reply once), or None when none is stored."""
        rows = self._run("SELECT value FROM options WHERE user = ? AND name = 'interval'", (user,))
        return int(str(rows[0][0])) if rows else None

    def set_interval(self, user: str, seconds: int) -> None:
        self._run(
            "INSERT OR REPLACE INTO options (user, name, value) VALUES (?, 'interval', ?)",
            (user, str(int(seconds))),
        )

    # -- the global send log --------------------------------------------------------

    def sent_since(self, since: float) -> int:
        """Replies sent at or after ``since`` (all users)."""
        return int(str(self._run("SELECT count(*) FROM sent WHERE time >= ?", (int(since),))[0][0]))

    def note_sent(self, when: float, *, keep: float = 86400) -> None:
        """Log one reply sent at ``when``; forget entries older than ``keep`` seconds."""
        self._run("INSERT INTO sent (time) VALUES (?)", (int(when),))
        self._run("DELETE FROM sent WHERE time < ?", (int(when - keep),))
