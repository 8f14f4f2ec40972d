"""Open SMTP sessions kept for reuse within one queue run.

After a transaction a session goes back to the :class:`ConnectionPool`
under its host name and port; the next job for the same host takes it
instead of connecting again (Sendmail's connection cache).  A session is
used by one job at a time.  :meth:`ConnectionPool.close_all` ends every
session with QUIT (printing Sendmail's ``Closing connection to <host>`` in
verbose mode) and releases the host locks held for them.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .smtpclient import SmtpConnection


class ConnectionPool:
    """Idle sessions by (host, port)."""

    def __init__(self, max_idle_per_host: int = 4) -> None:
        self.max_idle_per_host = max_idle_per_host
        self._idle: dict[tuple[str, int], list[tuple[SmtpConnection, Any]]] = {}

    @staticmethod
    def _key(host: str, port: int) -> tuple[str, int]:
        return host.lower().rstrip("."), port

    def take(self, host: str, port: int) -> tuple[SmtpConnection, Any] | None:
        """An idle, still open session to ``host``, with its lock holder; or None."""
        idle = self._idle.get(self._key(host, port), [])
        while idle:
            conn, hold = idle.pop()
            if not conn.closed:
                return conn, hold
            _release(hold)
        return None

    async def give_back(self, conn: SmtpConnection, hold: Any) -> None:
        """Keep ``conn`` for the next job (or close it when the pool is full or it is broken)."""
        idle = self._idle.setdefault(self._key(conn.host, conn.port), [])
        if conn.closed or conn.dirty or len(idle) >= self.max_idle_per_host:
            await close(conn, hold)
            return
        conn.observer = None
        idle.append((conn, hold))

    async def close_all(self, observer: Any = None) -> None:
        """QUIT every idle session; ``observer`` (a transcript) sees the dialogue."""
        idle, self._idle = self._idle, {}
        for sessions in idle.values():
            for conn, hold in sessions:
                conn.observer = observer
                await close(conn, hold)


async def close(conn: SmtpConnection, hold: Any) -> None:
    """End one session (QUIT when it is still usable) and release its host lock."""
    try:
        if not conn.closed:
            if conn.observer is not None:
                conn.observer.say(f"Closing connection to {conn.host}")
            await conn.quit()
        await conn.wait_closed()
    finally:
        _release(hold)


def _release(hold: Any) -> None:
    with contextlib.suppress(Exception):
        hold.__exit__(None, None, None)
