"""Host status during delivery: in memory, and on disk when HostStatusDirectory is set.

:class:`HostStatusCache` answers "did this host fail recently?" and records
the result of every attempt, like Sendmail's ``mci`` cache: in memory for
the life of the runner, and -- when a :class:`..hoststat.HostStatusStore` is
given -- in Sendmail's on-disk format, so other processes and ``hoststat``
see it.  A failure is trusted for ``Timeout.hoststatus`` seconds; a host
within that window is not tried again.  Writing is a hint: an I/O error or
a lock held by another process is logged and ignored.

:meth:`HostStatusCache.hold` takes the host's file lock while a connection
to it is open (``hoststat`` shows ``*``); a lock held elsewhere only means
no lock for us, never a blocked runner.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ..hoststat import HostStatus, HostStatusError, HostStatusStore

MAX_TEXT = 80


class HostStatusCache:
    """Per-runner host status, optionally backed by a persistent store."""

    def __init__(
        self,
        store: HostStatusStore | None,
        *,
        timeout: float,
        clock: Callable[[], float],
        log: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.store = store
        self.timeout = timeout
        self.clock = clock
        self.log = log
        self._memory: dict[str, HostStatus] = {}

    @staticmethod
    def key(host: str) -> str:
        return host.lower().rstrip(".")

    def recent_failure(self, host: str) -> HostStatus | None:
        """The host's failure status when younger than Timeout.hoststatus, else None."""
        now = self.clock()
        status = self._memory.get(self.key(host))
        if status is None and self.store is not None:
            try:
                status = self.store.recent_failure(host, timeout=self.timeout, now=now)
            except HostStatusError as exc:
                self.log(f"host status of {host} unusable: {exc}")
                status = None
        if status is None or status.exit_status == 0:
            return None
        if int(now) > status.last_use + self.timeout:
            return None
        return status

    def record(
        self,
        host: str,
        *,
        errno: int = 0,
        h_errno: int = 0,
        exit_status: int = 0,
        dsn: str | None = None,
        reply: str | None = None,
    ) -> HostStatus:
        """Remember one attempt's result (and write it to the store)."""
        status = HostStatus(
            host=host,
            last_use=int(self.clock()),
            errno=errno,
            h_errno=h_errno,
            exit_status=exit_status,
            dsn=dsn[:MAX_TEXT] if dsn else dsn,
            reply=_clean(reply)[:MAX_TEXT] if reply else None,
        )
        self._memory[self.key(host)] = status
        if self.store is not None:
            try:
                self.store.write(status)
            except HostStatusError as exc:
                self.log(f"cannot record host status of {host}: {exc}")
        return status

    def hold(self, host: str) -> contextlib.AbstractContextManager[Any]:
        """The host's lock for as long as a connection is open (or nothing if busy)."""
        if self.store is None:
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(self.store.lock(host))
        except HostStatusError:
            stack.close()
            return contextlib.nullcontext()
        return stack


def _clean(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)
