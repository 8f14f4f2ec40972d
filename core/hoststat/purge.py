"""``purgestat`` / ``sendmail -bH``: remove host status older than Timeout.hoststatus.

:func:`purge` follows Sendmail 8.17's ``mci_traverse_persistent`` with
``mci_purge_persistent``: every entry (names starting with ``.`` skipped)
whose modification time is more than ``timeout`` seconds old is removed -- a
file with ``unlink``, a folder only if its name ends in ``.``, nothing in it
was left behind, and ``rmdir`` works.  A folder whose files were just
removed has a fresh modification time and therefore survives this run (the
transcripts show exactly that); a later run removes it.  After a pass over a
folder that removed something, the folder is read again, as Sendmail does.
An error (a failed ``unlink`` or ``rmdir``) stops the walk of that folder.

Differences from Sendmail, neither visible on a tree only Sendmail wrote:
leftover ``.postroom-tmp-*`` files of a crashed writer that are older than
the timeout are removed too (they would otherwise keep their folder
forever), and an entry that is neither a folder nor a regular file counts as
kept (Sendmail loops forever on one).

:func:`check_purge_permission` is the caller's gate: only root or the
TrustedUser may purge; anyone else gets :class:`HostStatusPermissionError`
("Permission denied (real uid not trusted)") and the attempt is logged as
"user <uid> attempted to purge host status".
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from pathlib import Path

from .errors import HostStatusPermissionError
from .store import TEMP_PREFIX

log = logging.getLogger(__name__)

KEPT = 1


def purge_allowed(uid: int, trusted_uid: int | None = None) -> bool:
    """True for root and for the TrustedUser."""
    return uid == 0 or (trusted_uid is not None and uid == trusted_uid)


def check_purge_permission(uid: int | None = None, trusted_uid: int | None = None) -> None:
    """Raise ``HostStatusPermissionError`` unless ``uid`` (default: real uid) may purge."""
    real = os.getuid() if uid is None else uid
    if not purge_allowed(real, trusted_uid):
        log.warning("user %d attempted to purge host status", real)
        raise HostStatusPermissionError(real)


def purge(directory: Path, *, timeout: float, now: float | None = None) -> int:
    """Remove expired host status below ``directory``; return the number of files removed."""
    walker = _Purge(int(time.time() if now is None else now), timeout)
    walker.traverse(os.fsencode(directory).rstrip(b"/") or b"/")
    return walker.removed


class _Purge:
    def __init__(self, now: int, timeout: float) -> None:
        self.now = now
        self.timeout = timeout
        self.removed = 0

    def traverse(self, path: bytes) -> int:
        """``mci_traverse_persistent``: <0 error, 0 removed, 1 kept."""
        try:
            st = os.stat(path)
        except OSError:
            return -1
        if stat.S_ISREG(st.st_mode):
            return self.action(path, is_file=True)
        if not stat.S_ISDIR(st.st_mode):
            return KEPT
        ret = 0
        while True:
            left_one = removed_one = False
            try:
                names = os.listdir(path)
            except OSError:
                return -1
            for name in names:
                if name.startswith(b"."):
                    self._stale_temp(path + b"/" + name)
                    continue
                ret = self.traverse(path + b"/" + name)
                if ret < 0:
                    break
                if ret == KEPT:
                    left_one = True
                elif ret == 0:
                    removed_one = True
            if ret < 0 or not removed_one:
                break
        if not left_one:
            ret = self.action(path, is_file=False)
        return ret

    def action(self, path: bytes, *, is_file: bool) -> int:
        """``mci_purge_persistent`` for one file or folder."""
        try:
            st = os.stat(path)
        except OSError:
            return -1
        if self.now - int(st.st_mtime) <= self.timeout:
            return KEPT
        try:
            if is_file:
                os.unlink(path)
                self.removed += 1
            elif path.endswith(b"."):
                os.rmdir(path)
            else:
                return KEPT
        except OSError as exc:
            log.error("purgestat: cannot remove %s: %s", os.fsdecode(path), exc.strerror)
            return -1
        return 0

    def _stale_temp(self, path: bytes) -> None:
        if not os.path.basename(path).startswith(TEMP_PREFIX):
            return
        with contextlib.suppress(OSError):
            if self.now - int(os.lstat(path).st_mtime) > self.timeout:
                os.unlink(path)
