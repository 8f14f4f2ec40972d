"""Persistent host status in Sendmail 8's HostStatusDirectory format, hoststat and purgestat.

Public API (see each module's docstring):

- store: :class:`HostStatus`, :class:`HostStatusStore` (``path_for``, ``read``,
  ``write``, ``lock``, ``is_locked``, ``iter_all``, ``recent_failure``)
- listing: :func:`format_hoststat` (``hoststat`` / ``sendmail -bh``),
  :func:`iter_hoststat`
- purging: :func:`purge` (``purgestat`` / ``sendmail -bH``),
  :func:`check_purge_permission`, :func:`purge_allowed`
- texts: :func:`errstring`, :func:`sysexits_text`, :func:`pintvl`
- errors: :class:`HostStatusError` and its subclasses
"""

from .errors import (
    HostStatusError,
    HostStatusIOError,
    HostStatusLockedError,
    HostStatusPermissionError,
    InvalidHostNameError,
)
from .purge import check_purge_permission, purge, purge_allowed
from .report import format_hoststat, iter_hoststat
from .store import HostStatus, HostStatusStore
from .texts import errstring, pintvl, sysexits_text

__all__ = [
    "HostStatus",
    "HostStatusError",
    "HostStatusIOError",
    "HostStatusLockedError",
    "HostStatusPermissionError",
    "HostStatusStore",
    "InvalidHostNameError",
    "check_purge_permission",
    "errstring",
    "format_hoststat",
    "iter_hoststat",
    "pintvl",
    "purge",
    "purge_allowed",
    "sysexits_text",
]
