"""Small helpers shared by the host status tests."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from postroom.core.hoststat import HostStatusStore

FORK = multiprocessing.get_context("fork")


def put(root: Path, rel: str, text: str) -> Path:
    """Write a host status file by hand (as another program would)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


def _hold(directory: Path, host: str, conn: multiprocessing.connection.Connection) -> None:
    store = HostStatusStore(directory)
    with store.lock(host):
        conn.send("locked")
        conn.recv()  # wait until told to release


@contextmanager
def held_elsewhere(directory: Path, host: str) -> Iterator[None]:
    """Another process holds ``host``'s lock for the block (a real fork, a real flock)."""
    parent, child = FORK.Pipe()
    proc = FORK.Process(target=_hold, args=(directory, host, child))
    proc.start()
    try:
        assert parent.poll(30), "child never took the lock"
        assert parent.recv() == "locked"
        yield
    finally:
        parent.send("release")
        proc.join(30)
        assert proc.exitcode == 0
