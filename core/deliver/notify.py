"""Which DSNs one attempt on a job sends, and to whom (SENDMAIL.md §9, RFC 3461).

:func:`plan` looks at every recipient's outcome after an attempt and decides:

- **failure** report to the sender for recipients that failed and asked
  for NOTIFY=FAILURE (the default); a recipient with NOTIFY given but
  without FAILURE is left out (RFC 3461 §6.2.6);
- **delay** report once, after ``Timeout.queuewarn``, for recipients still
  deferred that asked for NOTIFY=DELAY (the default); the job gets flag
  ``w`` so it is sent only once;
- **receipt** for recipients delivered here (or relayed to a server
  without DSN) that asked for NOTIFY=SUCCESS -- never with ``noreceipts``;
- nothing goes back to a null sender or for a job that is itself a DSN
  (flag ``r``): its failures go to the local ``postmaster`` only; when that
  postmaster report itself fails, the job is to be set aside (``lost``);
- **PostmasterCopy**: a headers-only copy of each failure report, except
  for failures of DSNs.

The returned body follows RET (flag ``n`` = headers only), ``nobodyreturn``
and a size cap (a huge message is returned as headers only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..queue.qf import QueueFile, QueueRecipient
from .address import is_null_sender, qualify, strip_brackets
from .dsn import Entry, Kind, Report
from .outcome import Outcome, Result

POSTMASTER = "postmaster"


@dataclass(frozen=True)
class Attempt:
    """A recipient and its outcome in this attempt."""

    rcpt: QueueRecipient
    outcome: Outcome
    when: float


@dataclass(frozen=True)
class Policy:
    """The settings that shape DSNs."""

    host_name: str
    local_domains: frozenset[str]
    warn_after: float
    return_after: float
    noreceipts: bool = False
    nobodyreturn: bool = False
    postmaster_copy: tuple[str, ...] = ()
    body_limit: int = 1024 * 1024


@dataclass
class Plan:
    """The reports to queue, and what to do with the job."""

    reports: list[tuple[Report, tuple[str, ...]]] = field(default_factory=list)
    warned: bool = False
    lost: bool = False


def notify_flags(rcpt: QueueRecipient) -> frozenset[str]:
    """``S``/``F``/``D`` wanted by this recipient (FAILURE and DELAY by default)."""
    if "N" in rcpt.flags:
        return frozenset(c for c in "SFD" if c in rcpt.flags)
    return frozenset("FD")


def _final(rcpt: QueueRecipient, host_name: str) -> str:
    if rcpt.final_recipient:
        return rcpt.final_recipient
    return "RFC822; " + qualify(rcpt.address, host_name)


def _entry(a: Attempt, action: str, host_name: str) -> Entry:
    o = a.outcome
    return Entry(
        shown=a.rcpt.address,
        action=action,
        status=o.status,
        final_recipient=_final(a.rcpt, host_name),
        original_recipient=a.rcpt.orcpt,
        reason=o.diagnostic or o.message,
        diagnostic=o.diagnostic if action != "delayed" or o.diagnostic else None,
        diagnostic_type="SMTP" if o.mailer in ("esmtp", "relay") else "X-Unix",
        remote_mta=o.remote_mta,
        last_attempt=a.when,
    )


def _success_action(o: Outcome) -> str | None:
    if o.mailer in ("esmtp", "relay"):
        return "relayed (to non-DSN-aware mailer)" if o.relayed else None
    return "delivered (to mailbox)"


def plan(
    qf: QueueFile,
    attempts: Sequence[Attempt],
    transcript: str,
    *,
    now: float,
    size: int,
    policy: Policy,
) -> Plan:
    """Decide the reports for one attempt."""
    result = Plan()
    bounce = is_null_sender(qf.sender) or "r" in qf.flags
    failures = [
        a for a in attempts if a.outcome.result is Result.FAILED and "F" in notify_flags(a.rcpt)
    ]
    delayed_all = [a for a in attempts if a.outcome.result is Result.DEFERRED]
    warn_due = (
        "w" not in qf.flags
        and bool(delayed_all)
        and now >= qf.ctime + policy.warn_after
        and policy.warn_after < policy.return_after
    )
    result.warned = warn_due
    delayed = [a for a in delayed_all if "D" in notify_flags(a.rcpt)] if warn_due else []
    successes: list[tuple[Attempt, str]] = []
    if not policy.noreceipts:
        for a in attempts:
            if a.outcome.result is Result.SENT and "S" in notify_flags(a.rcpt):
                action = _success_action(a.outcome)
                if action:
                    successes.append((a, action))
    host = policy.host_name
    entries = [_entry(a, "failed", host) for a in failures]
    entries += [_entry(a, "delayed", host) for a in delayed]
    entries += [_entry(a, action, host) for a, action in successes]
    if bounce:
        if not failures:
            return result
        if all(_is_postmaster(a.rcpt.address, policy.local_domains) for a in failures):
            result.lost = True
            return result
        report = Report(
            Kind.POSTMASTER,
            tuple(_entry(a, "failed", host) for a in failures),
            transcript,
            return_body=_body_ok(qf, size, policy),
            warn_after=policy.warn_after,
            return_after=policy.return_after,
        )
        result.reports.append((report, (POSTMASTER,)))
        return result
    kind = Kind.FAILURE if failures else Kind.DELAY if delayed else Kind.RECEIPT
    if entries:
        body = kind is Kind.FAILURE and _body_ok(qf, size, policy)
        report = Report(
            kind,
            tuple(entries),
            transcript,
            return_body=body,
            warn_after=policy.warn_after,
            return_after=policy.return_after,
        )
        result.reports.append((report, (strip_brackets(qf.sender) or POSTMASTER,)))
    if failures and policy.postmaster_copy:
        copy = Report(
            Kind.POSTMASTER,
            tuple(_entry(a, "failed", host) for a in failures),
            transcript,
            return_body=False,
            warn_after=policy.warn_after,
            return_after=policy.return_after,
        )
        result.reports.append((copy, policy.postmaster_copy))
    return result


def _body_ok(qf: QueueFile, size: int, policy: Policy) -> bool:
    return "n" not in qf.flags and not policy.nobodyreturn and size <= policy.body_limit


def _is_postmaster(address: str, local_domains: frozenset[str]) -> bool:
    bare = strip_brackets(address).lower()
    local, _, domain = bare.partition("@")
    return local == POSTMASTER and (not domain or domain in local_domains)
