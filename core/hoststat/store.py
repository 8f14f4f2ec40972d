"""The host status store: one Sendmail-format file per host, flock'ed while delivering.

:class:`HostStatusStore` works on a HostStatusDirectory tree (layout in
:mod:`.paths`, file format in :mod:`.fileformat`).

Locking: :meth:`~HostStatusStore.lock` takes a non-blocking exclusive
``flock`` on the host's file (creating it empty if missing, as Sendmail's
``mci_lock_host`` does) and keeps it for the ``with`` block; if another
process holds it, :class:`HostStatusLockedError` is raised at once (Sendmail
then treats the host as busy).  :meth:`~HostStatusStore.is_locked` is
hoststat's ``*`` test (a shared non-blocking attempt fails).  A file that is
still empty when the lock is released is removed again (Sendmail leaves it).

Writing: :meth:`~HostStatusStore.write` writes a temporary file named
``.postroom-tmp-*`` (a leading dot: Sendmail's and our tree walks skip it),
flocks it and renames it over the host's file, so a reader sees the old or
the new file, never half of one.  If the writer holds the host's lock, the
lock moves to the new file with the rename; other lockers re-check after
locking that the name still refers to the inode they locked.  Without the
lock, ``write`` takes it for the duration (raising if another process has
it).  Files are created mode 0600, folders 0755, as Sendmail does.  Nothing
is fsync'ed: host status is a hint that may be lost in a crash.

:meth:`~HostStatusStore.recent_failure` is the delivery-time check: a status
with a non-zero exit status whose ``last_use`` is at most
``Timeout.hoststatus`` old (Sendmail's ``MciInfoTimeout``) means the host is
skipped until the status ages.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import HostStatusIOError, HostStatusLockedError
from .fileformat import ENCODING, ERRORS, format_status, parse_status
from .paths import host_components, walk

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o755
TEMP_PREFIX = b".postroom-tmp-"


@dataclass(frozen=True)
class HostStatus:
    """What Sendmail remembers about one host (the ``E H S D R U`` lines)."""

    host: str
    last_use: int
    errno: int = 0
    h_errno: int = 0
    exit_status: int = 0
    dsn: str | None = None
    reply: str | None = None


class HostStatusStore:
    """A HostStatusDirectory tree; one instance may hold locks on several hosts."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._root = os.fsencode(self.directory).rstrip(b"/") or b"/"
        self._held: dict[bytes, int] = {}

    def path_for(self, host: str) -> Path:
        """The status file of ``host``; ``InvalidHostNameError`` if it cannot have one."""
        return Path(os.fsdecode(self._path(host)))

    def read(self, host: str) -> HostStatus | None:
        """The stored status, or None (no file, unreadable, or not a valid status file)."""
        path = self._path(host)
        data = _read_file(path)
        if data is None:
            return None
        return _status(host, path, data)

    def write(self, status: HostStatus) -> None:
        """Replace the host's file atomically (see the module docstring for locking)."""
        path = self._path(status.host)
        data = format_status(
            status.errno,
            status.h_errno,
            status.exit_status,
            status.dsn,
            status.reply,
            status.last_use,
        )
        if path in self._held:
            self._held[path] = self._replace(path, data, self._held[path])
            return
        with self.lock(status.host):
            self._held[path] = self._replace(path, data, self._held[path])

    @contextlib.contextmanager
    def lock(self, host: str) -> Iterator[None]:
        """Hold the host's exclusive flock for the block (``HostStatusLockedError`` if busy)."""
        path = self._path(host)
        if path in self._held:
            raise HostStatusLockedError(f"{host}: already locked by this process")
        self._makedirs(path)
        self._held[path] = _lock_file(path)
        try:
            yield
        finally:
            fd = self._held.pop(path)
            try:
                if os.fstat(fd).st_size == 0 and _same_file(fd, path):
                    with contextlib.suppress(OSError):
                        os.unlink(path)
            finally:
                os.close(fd)

    def is_locked(self, host: str) -> bool:
        """True if some process (this one included) holds the host's lock."""
        return is_locked_path(self._path(host))

    def iter_all(self) -> Iterator[tuple[HostStatus, bool]]:
        """Every valid status in directory-walk order, with its lock state.

        Unusable files are skipped and logged with the reason, as Sendmail does.
        """
        for path, host, is_link in walk(self._root):
            if is_link:
                log.warning("%s: symbolic links not allowed", os.fsdecode(path))
                continue
            data = _read_file(path)
            if data is None:
                continue
            status = _status(host.decode(ENCODING, ERRORS), path, data)
            if status is not None:
                yield status, is_locked_path(path)

    def recent_failure(self, host: str, *, timeout: float, now: float) -> HostStatus | None:
        """The host's failure status if it is younger than ``timeout`` seconds, else None."""
        status = self.read(host)
        if status is None or status.exit_status == 0:
            return None
        if int(now) > status.last_use + timeout:
            return None
        return status

    def _path(self, host: str) -> bytes:
        return b"/".join([self._root, *host_components(host)])

    def _makedirs(self, path: bytes) -> None:
        try:
            os.makedirs(os.path.dirname(path), mode=DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise HostStatusIOError(f"cannot create {os.fsdecode(path)}: {exc}") from exc

    def _replace(self, path: bytes, data: bytes, old_fd: int) -> int:
        """Write ``data`` to a locked temporary file, rename it over ``path``; return its fd."""
        head, tail = os.path.split(path)
        temp = os.path.join(head, TEMP_PREFIX + tail + b"-" + secrets.token_hex(4).encode())
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
        except OSError as exc:
            raise HostStatusIOError(f"cannot create {os.fsdecode(temp)}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.rename(temp, path)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise HostStatusIOError(f"cannot write {os.fsdecode(path)}: {exc}") from exc
        os.close(old_fd)
        return fd


def is_locked_path(path: bytes | str) -> bool:
    """hoststat's ``*`` test: a shared non-blocking flock on the file fails."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _lock_file(path: bytes) -> int:
    """Open (creating if missing) and exclusively lock the file ``path`` names now."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        except OSError as exc:
            raise HostStatusIOError(f"cannot open {os.fsdecode(path)}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HostStatusLockedError(f"{os.fsdecode(path)} is locked") from None
        if _same_file(fd, path):
            return fd
        os.close(fd)  # renamed or removed between open and flock: try the new file


def _same_file(fd: int, path: bytes) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _read_file(path: bytes) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _status(host: str, path: bytes, data: bytes) -> HostStatus | None:
    if not data:
        return None  # created by a lock, not written yet
    parsed = parse_status(data)
    for line, version in parsed.bad_versions:
        log.warning(
            "%s: line %d: Unknown host status version %d: 0 max", os.fsdecode(path), line, version
        )
    if not parsed.ok:
        log.warning("%s: %s; file ignored", os.fsdecode(path), parsed.reason)
        return None
    return HostStatus(
        host=host,
        last_use=parsed.last_use,
        errno=parsed.errno,
        h_errno=parsed.h_errno,
        exit_status=parsed.exit_status,
        dsn=None if parsed.dsn is None else parsed.dsn.decode(ENCODING, ERRORS),
        reply=None if parsed.reply is None else parsed.reply.decode(ENCODING, ERRORS),
    )
