"""Who a file or program delivery runs as: the owner named by the qf ``C`` line.

The ``C`` line reads ``user:uid:gid:alias`` (or ``:alias`` with no user).
:func:`parse_controlling_user` reads it; :func:`delivery_owner` picks the
account a delivery really runs as.  When we are root, that is the owner --
but never root: a root or unknown owner becomes ``nobody`` (Sendmail's
DefaultUser).  When we are not root we cannot change identity, and the
delivery runs as ourselves.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass

NOBODY_UID = 65534


@dataclass(frozen=True)
class Owner:
    """An account: name, uid, gid and home folder."""

    name: str
    uid: int
    gid: int
    home: str


def parse_controlling_user(text: str | None) -> Owner | None:
    """The owner in a ``C`` line value, or None when it names no user."""
    if not text:
        return None
    parts = text.split(":")
    if len(parts) < 3 or not parts[0]:
        return None
    try:
        uid, gid = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    try:
        home = pwd.getpwuid(uid).pw_dir
    except KeyError:
        home = "/"
    return Owner(parts[0], uid, gid, home)


def nobody() -> Owner:
    """The unprivileged default account."""
    try:
        entry = pwd.getpwnam("nobody")
        return Owner(entry.pw_name, entry.pw_uid, entry.pw_gid, "/")
    except KeyError:
        return Owner("nobody", NOBODY_UID, NOBODY_UID, "/")


def current() -> Owner:
    """The account this process runs as."""
    uid = os.geteuid()
    try:
        entry = pwd.getpwuid(uid)
        return Owner(entry.pw_name, uid, os.getegid(), entry.pw_dir)
    except KeyError:
        return Owner(str(uid), uid, os.getegid(), "/")


def delivery_owner(owner: Owner | None) -> Owner:
    """The account to run as: the owner (never root) when we are root, else ourselves."""
    if os.geteuid() != 0:
        return current()
    if owner is None or owner.uid == 0:
        return nobody()
    return owner


def needs_switch(owner: Owner) -> bool:
    """True if running as ``owner`` means changing identity."""
    return os.geteuid() == 0 and owner.uid != 0
