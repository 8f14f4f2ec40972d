"""``sendmail -bv``: what each address expands to, in Sendmail's words and order.

Lines (sendmail-transcripts.md 10)::

    <path>... deliverable: mailer *file*, user <path>
    "|cmd"... deliverable: mailer prog, user "|cmd"
    root... deliverable: mailer local, user root
    bob@example.org... deliverable: mailer esmtp, host example.org, user bob@example.org
    nosuchuser... User unknown

Order, as Sendmail 8.17 prints it: first every failure, as it is met, then
every deliverable target (once, even when several arguments lead to it).
Sendmail walks each list from its last element to its first (``sendtolist``
builds its list by prepending), so within one
argument both groups come in reverse list order (``staff: alice, bob, carol``
prints carol, bob, alice); arguments are taken in the order given.

Exit status: 67 (EX_NOUSER) when a name is unknown, else 75 (EX_TEMPFAIL)
when something must be retried, else 64 (EX_USAGE) for other failures, else 0.
Under ``restrictexpand`` the caller builds the :class:`.expand.Expander` with
``reader=(uid, gids)`` of the invoking user, so only files that user could read
are expanded (Sendmail drops its privileges for ``-bv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .elements import ElementSyntaxError, Kind, split_list
from .expand import Expander
from .expansion import Delivery, Failure

EX_OK = 0
EX_USAGE = 64
EX_NOUSER = 67
EX_TEMPFAIL = 75


@dataclass(frozen=True)
class VerifyResult:
    """The printed lines, the exit status and log notes (unsafe ``.forward`` files ...)."""

    lines: tuple[str, ...]
    status: int
    notes: tuple[str, ...] = ()


def deliverable_line(delivery: Delivery, smart_host: str | None = None) -> str:
    """``<addr>... deliverable: mailer <m>, [host <h>, ]user <u>``."""
    shown = delivery.shown
    if delivery.kind is Kind.REMOTE:
        host = delivery.address.rpartition("@")[2]
        mailer = "esmtp"
        if smart_host:
            mailer, host = "relay", smart_host
        return f"{shown}... deliverable: mailer {mailer}, host {host}, user {delivery.address}"
    if delivery.kind is Kind.LOCAL:
        user = ("\\" if delivery.quoted else "") + delivery.local_part
        return f"{shown}... deliverable: mailer local, user {user}"
    return f"{shown}... deliverable: mailer {delivery.mailer}, user {shown}"


def exit_status(failures: Sequence[Failure]) -> int:
    """Sendmail's exit status for ``-bv`` with these failures."""
    if any(f.status == "5.1.1" for f in failures):
        return EX_NOUSER
    if any(f.temporary for f in failures):
        return EX_TEMPFAIL
    return EX_USAGE if failures else EX_OK


def verify(
    expander: Expander, arguments: Sequence[str], *, smart_host: str | None = None
) -> VerifyResult:
    """``-bv`` for the command-line ``arguments`` (each may be a comma-separated list)."""
    failures: list[Failure] = []
    deliveries: list[Delivery] = []
    notes: list[str] = []
    for argument in arguments:
        try:
            pieces = split_list(argument)
        except ElementSyntaxError as exc:
            failures.append(Failure(argument.strip(), 553, "5.1.3", str(exc)))
            continue
        for piece in reversed(pieces):
            expansion = expander.expand(piece)
            failures.extend(reversed(expansion.failures))
            deliveries.extend(reversed(expansion.deliveries))
            notes.extend(expansion.notes)
    lines = [f.line for f in failures]
    seen: set[tuple[Kind, str]] = set()
    for delivery in deliveries:
        key = delivery.address if delivery.kind is not Kind.LOCAL else delivery.local_part
        if (delivery.kind, key.lower()) not in seen:
            seen.add((delivery.kind, key.lower()))
            lines.append(deliverable_line(delivery, smart_host))
    return VerifyResult(tuple(lines), exit_status(failures), tuple(notes))
