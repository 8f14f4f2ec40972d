"""Who has a mailbox here: the account lookup expansion uses (:class:`UserDb`).

Two sources, chosen as the local delivery agent chooses
(:func:`..receive.setup.local_user_checker`):

- :class:`SystemUsers`: passwd accounts (names looked up lower-cased).  Only
  these have a home folder, so only these get ``.forward`` processing.
- :class:`ConfiguredUsers`: the ``LocalUsers`` option (the embedded profile):
  mailboxes without a system account, hence without ``.forward``.

``postmaster`` always exists (RFC 5321 4.5.1).  :class:`StaticUsers` holds a
fixed set of accounts (tests, tools).  :func:`valid_shells` reads
``/etc/shells`` for Sendmail's "valid shell" rule on programs and files named
in a user's ``.forward``.
"""

from __future__ import annotations

import pwd
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config.model import Config


@dataclass(frozen=True)
class Account:
    """A mailbox owner.  ``system`` accounts have a uid, a home folder and a shell."""

    name: str
    uid: int = -1
    gid: int = -1
    home: str = ""
    shell: str = ""
    system: bool = False


class UserDb(Protocol):
    """Looks up a mailbox owner by (lower-case) name."""

    def lookup(self, name: str) -> Account | None: ...


POSTMASTER = Account("postmaster")


class SystemUsers:
    """passwd accounts; ``postmaster`` always exists."""

    def lookup(self, name: str) -> Account | None:
        lname = name.lower()
        try:
            entry = pwd.getpwnam(lname)
        except (KeyError, ValueError):
            return POSTMASTER if lname == "postmaster" else None
        return Account(
            entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir, entry.pw_shell, True
        )


class ConfiguredUsers:
    """The ``LocalUsers`` names (no system accounts); ``postmaster`` always exists."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(n.lower() for n in names) | {"postmaster"}

    def lookup(self, name: str) -> Account | None:
        lname = name.lower()
        return Account(lname) if lname in self.names else None


class StaticUsers:
    """A fixed set of accounts, by lower-case name; ``postmaster`` always exists."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts = {a.name.lower(): a for a in accounts}

    def lookup(self, name: str) -> Account | None:
        lname = name.lower()
        found = self.accounts.get(lname)
        if found is None and lname == "postmaster":
            return POSTMASTER
        return found


def users_for(config: Config) -> UserDb:
    """``LocalUsers`` when configured, else the system accounts (the local agent's rule)."""
    if config.local_users:
        return ConfiguredUsers(config.local_users)
    return SystemUsers()


def valid_shells(path: Path = Path("/etc/shells")) -> frozenset[str] | None:
    """The shells listed in ``/etc/shells``; None (any shell) when the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
