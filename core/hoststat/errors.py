"""The hoststat package's exception tree.

Everything raised here derives from :class:`HostStatusError`:

- :class:`InvalidHostNameError` -- a host name Sendmail refuses to map to a
  file (empty, leading ``.``, ``..`` inside, a bogus ``[address]``, too long);
  also a ``ValueError``.
- :class:`HostStatusLockedError` -- another process (or another lock of this
  store) holds the host's flock; Sendmail treats such a host as busy.
- :class:`HostStatusPermissionError` -- purgestat by a user who is neither
  root nor the TrustedUser; ``str`` is Sendmail's text.
- :class:`HostStatusIOError` -- creating folders or writing a status file
  failed (wraps the ``OSError``).
"""

from __future__ import annotations


class HostStatusError(Exception):
    """Base class of every error raised by ``postroom.core.hoststat``."""


class InvalidHostNameError(HostStatusError, ValueError):
    """A host name that has no host status file (Sendmail refuses it too)."""


class HostStatusLockedError(HostStatusError):
    """The host's status file is locked: some process is delivering to it."""


class HostStatusPermissionError(HostStatusError, PermissionError):
    """Only root or the TrustedUser may purge host status."""

    def __init__(self, uid: int) -> None:
        super().__init__("Permission denied (real uid not trusted)")
        self.uid = uid


class HostStatusIOError(HostStatusError):
    """An ``OSError`` while creating folders or writing a host status file."""
