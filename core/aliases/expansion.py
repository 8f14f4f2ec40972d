"""What alias expansion returns: :class:`Expansion`, :class:`Delivery`, :class:`Failure`.

A :class:`Delivery` is one final target, ready to become a qf ``R`` line:

- ``address``: the qf form the delivery runner classifies (``alice``,
  ``bob@example.org``, ``/var/log/list``, ``|/usr/bin/prog arg``);
- ``owner``: the :class:`ControllingUser` for program and file targets -- the
  qf ``C`` line ``name:uid:gid:alias`` (:attr:`Delivery.controlling_user`).
  Targets from the aliases file run as the file's owner, or as ``nobody``
  when root owns it; targets from a ``.forward`` as that user; targets from
  an ``:include:`` file as the file's owner unless root owns it (then as the
  including alias).  Local and remote targets carry no owner;
- ``sender``: the envelope sender to use instead of the job's, from an
  ``owner-<list>`` alias (already qualified with the host name), or None;
- ``via``: the alias/user names that led here, outermost first.

A :class:`Failure` is a target (or the whole address) that bounces or, when
:attr:`Failure.temporary`, must be retried later; ``reply`` is Sendmail's full
``<code> <D.S.N> <addr>... <text>`` line.  ``notes`` are log lines (an unsafe
``.forward`` ignored, for example).
"""

from __future__ import annotations

from dataclasses import dataclass

from .elements import Kind


@dataclass(frozen=True)
class ControllingUser:
    """The account a program or file delivery runs as, and the alias it came from."""

    name: str
    uid: int
    gid: int
    alias: str

    def qf_value(self) -> str:
        """The qf ``C`` line value: ``name:uid:gid:alias``."""
        return f"{self.name}:{self.uid}:{self.gid}:{self.alias}"


@dataclass(frozen=True)
class Delivery:
    """One final target of an expansion."""

    kind: Kind
    address: str
    shown: str
    local_part: str = ""
    domain: str | None = None
    quoted: bool = False
    owner: ControllingUser | None = None
    sender: str | None = None
    via: tuple[str, ...] = ()

    @property
    def mailer(self) -> str:
        """Sendmail's mailer name: ``local``, ``esmtp``, ``*file*`` or ``prog``."""
        return self.kind.value

    @property
    def controlling_user(self) -> str | None:
        """The qf ``C`` value for this target, or None (no ``C`` line needed)."""
        return self.owner.qf_value() if self.owner is not None else None


@dataclass(frozen=True)
class Failure:
    """A target that cannot be delivered (``temporary``: try again later)."""

    address: str
    code: int
    status: str
    text: str
    via: tuple[str, ...] = ()
    sender: str | None = None

    @property
    def temporary(self) -> bool:
        return self.status.startswith("4")

    @property
    def line(self) -> str:
        """``<addr>... <text>`` (transcripts, ``-bv``)."""
        return f"{self.address}... {self.text}"

    @property
    def reply(self) -> str:
        """``<code> <D.S.N> <addr>... <text>`` (DSN diagnostic, log)."""
        return f"{self.code} {self.status} {self.line}"


@dataclass(frozen=True)
class Expansion:
    """Everything one address expands to."""

    original: str
    deliveries: tuple[Delivery, ...] = ()
    failures: tuple[Failure, ...] = ()
    notes: tuple[str, ...] = ()
    aliased: bool = False

    @property
    def unchanged(self) -> bool:
        """No alias or ``.forward`` applied, nothing failed: deliver the address as it is."""
        return not self.aliased and not self.failures and len(self.deliveries) == 1

    @property
    def temporary(self) -> bool:
        """Some part must be retried later (alias database, ``:include:`` or ``.forward`` I/O)."""
        return any(f.temporary for f in self.failures)

    def transcript_lines(self) -> list[str]:
        """Sendmail's transcript note for a list: ``<addr>... expanded to multiple addresses``."""
        if self.aliased and len(self.deliveries) > 1:
            return [f"{self.original}... expanded to multiple addresses"]
        return []
