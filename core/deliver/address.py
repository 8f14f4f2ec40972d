"""Which delivery agent a queued recipient goes to, and its parts.

A qf ``R`` address is shown as Sendmail stores it (``<bob@example.org>``,
``alice``, ``bob@[127.0.0.1]``, ``|/usr/bin/prog arg``, ``/var/log/file``).
:func:`classify` turns it into a :class:`Target`: ``program`` for ``|cmd``,
``file`` for ``/path``, ``local`` for a bare user or a domain in
``LocalDomains``, else ``smtp`` with the domain (a domain literal such as
``[127.0.0.1]`` stays as written).  Nothing here touches the network or the
file system.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    """The delivery agent (Sendmail's mailer) for a recipient."""

    LOCAL = "local"
    FILE = "*file*"
    PROGRAM = "prog"
    SMTP = "esmtp"


@dataclass(frozen=True)
class Target:
    """A classified recipient: ``address`` is the bare mailbox (no angle brackets)."""

    kind: Kind
    shown: str
    address: str
    local_part: str
    domain: str | None

    @property
    def program(self) -> str:
        """The command line of a ``|cmd`` target."""
        return self.address[1:]


def strip_brackets(address: str) -> str:
    """``<a@b>`` -> ``a@b``; anything else unchanged."""
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    return text


def split_address(address: str) -> tuple[str, str | None]:
    """``user@domain`` -> (user, domain); a bare name has no domain."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address, None
    return local, domain


def classify(shown: str, local_domains: frozenset[str]) -> Target:
    """The :class:`Target` for the qf recipient text ``shown``."""
    address = strip_brackets(shown)
    if address.startswith("|"):
        return Target(Kind.PROGRAM, shown, address, address, None)
    if address.startswith("/"):
        return Target(Kind.FILE, shown, address, address, None)
    local, domain = split_address(address)
    if domain is None:
        return Target(Kind.LOCAL, shown, address, local, None)
    if domain.lower().rstrip(".") in local_domains:
        return Target(Kind.LOCAL, shown, address, local, domain)
    return Target(Kind.SMTP, shown, address, local, domain)


def qualify(address: str, host_name: str) -> str:
    """A bare user name gets ``@host_name``; ``<>`` and full addresses are unchanged."""
    bare = strip_brackets(address)
    if not bare or "@" in bare:
        return bare
    return f"{bare}@{host_name}"


def is_null_sender(sender: str) -> bool:
    """The null reverse-path (``<>``) or Sendmail's ``MAILER-DAEMON`` sender of bounces."""
    bare = strip_brackets(sender)
    return bare == "" or bare.split("@", 1)[0].upper() == "MAILER-DAEMON"
