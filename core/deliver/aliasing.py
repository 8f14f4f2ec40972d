"""Alias and .forward expansion at delivery time.

In queue-only mode the receiver stores SMTP recipients unexpanded (as Sendmail
does); the runner expands each recipient without the ``A`` flag when it works
on the job. Expanded targets replace the recipient in the qf with the ``A``
flag (never expanded again) and, for file and program targets, the ``C``
controlling-user line their agents need. Expansion failures become outcomes
directly: permanent ones bounce, temporary ones (an unreadable ``:include:``
or ``.forward``) defer.  Targets reached through a list that has an ``owner-``
alias carry that owner as their envelope sender (:attr:`Expanded.owners`); the job
moves them to a clone of itself (:mod:`.clone`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..aliases import (
    AliasError,
    AliasTable,
    AliasTableCache,
    Expander,
    VirtualResult,
    Virtusertable,
    expander_for,
)
from ..config.model import Config
from ..logging.maillog import MailLog
from ..queue.qf import QueueFile, QueueRecipient
from .address import is_null_sender, strip_brackets
from .outcome import Outcome, deferred, failed
from .transcript import Transcript


@dataclass(frozen=True)
class Expanded:
    """A job's recipients after expansion.

    ``decided`` maps recipient indexes to outcomes the expansion already settled;
    ``owners`` maps indexes to the envelope sender an ``owner-`` alias gives them
    (only where it differs from the job's sender).
    """

    qf: QueueFile
    decided: dict[int, Outcome]
    owners: dict[int, str]


def expander_for_run(config: Config, cache: AliasTableCache | None, log: MailLog) -> Expander:
    """The expander for one queue run; a broken aliases file keeps the last good table."""
    table = AliasTable()
    if cache is not None:
        try:
            table = cache.get()
        except AliasError as exc:
            log.log(1, f"aliases: {exc}; using no aliases for this run")
        for warning in table.warnings:
            log.log(4, warning)
    return expander_for(config, table)


def expand_recipients(
    expander: Expander,
    qf: QueueFile,
    transcript: Transcript,
    log: MailLog,
    qid: str,
    virtusers: Virtusertable | None = None,
    local_domains: frozenset[str] = frozenset(),
) -> Expanded:
    """The qf with its recipients rewritten (virtusertable) and expanded (aliases, .forward),
    the outcomes already decided by that (errors), and the recipients an ``owner-`` alias
    gives another envelope sender."""
    recipients: list[QueueRecipient] = []
    decided: dict[int, Outcome] = {}
    owners: dict[int, str] = {}
    current = strip_brackets(qf.sender).lower()

    def note_owner(sender: str | None) -> None:
        if sender and strip_brackets(sender).lower() != current and not is_null_sender(qf.sender):
            owners[len(recipients)] = sender

    changed = False
    for rcpt in qf.recipients:
        if "A" in rcpt.flags:
            recipients.append(rcpt)
            continue
        address = rcpt.address
        virtual = _virtual(virtusers, address, local_domains)
        if virtual is not None and virtual.error is not None:
            changed = True
            decided[len(recipients)] = failed(
                virtual.error.text, status=virtual.error.dsn, diagnostic=virtual.error.reply
            )
            recipients.append(dataclasses.replace(rcpt, flags=rcpt.flags + "A"))
            continue
        if virtual is not None and virtual.target:
            log.log(10, f"virtusertable {address} => {virtual.target}", qid)
            address = virtual.target
        expansion = expander.expand(address)
        for note in expansion.notes:
            log.log(3, note, qid)
        for line in expansion.transcript_lines():
            transcript.xf(line)
        if expansion.unchanged and address == rcpt.address:
            recipients.append(rcpt)
            continue
        changed = True
        plain = rcpt.address.strip("<>")
        orcpt = rcpt.orcpt or f"rfc822;{plain}"
        for delivery in expansion.deliveries:
            if delivery.via:
                log.log(10, f"alias {plain} => {delivery.address}", qid)
            note_owner(delivery.sender)
            recipients.append(
                dataclasses.replace(
                    rcpt,
                    address=delivery.address,
                    flags=rcpt.flags + "A",
                    orcpt=orcpt,
                    controlling_user=delivery.controlling_user,
                    status=None,
                )
            )
        for failure in expansion.failures:
            note_owner(failure.sender)
            decided[len(recipients)] = (
                deferred(
                    f"Deferred: {failure.text}", status=failure.status, diagnostic=failure.reply
                )
                if failure.temporary
                else failed(failure.text, status=failure.status, diagnostic=failure.reply)
            )
            recipients.append(dataclasses.replace(rcpt, flags=rcpt.flags + "A", orcpt=orcpt))
    if not changed:
        return Expanded(qf, decided, owners)
    return Expanded(dataclasses.replace(qf, recipients=tuple(recipients)), decided, owners)


def _virtual(
    virtusers: Virtusertable | None, address: str, local_domains: frozenset[str]
) -> VirtualResult | None:
    if virtusers is None:
        return None
    domain = address.strip("<>").rpartition("@")[2].lower()
    if domain not in local_domains:
        return None
    return virtusers.lookup(address)
