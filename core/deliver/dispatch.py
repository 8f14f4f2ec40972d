"""One attempt at every recipient of a job: route each to its agent, collect outcomes.

:class:`Dispatcher` holds the agents of a run.  :meth:`Dispatcher.attempt`
checks the loops first (more than ``MaxHopCount`` -- 25 -- ``Received:``
headers bounce every recipient; a ``Delivered-To:`` equal to the recipient
bounces that recipient), then hands local, file and program recipients to
their agents one by one and groups SMTP recipients by next hop (the
SmartHost when set, else the recipient's domain) for one transaction each.
Program and file recipients need the controlling user of the qf ``C``
line.  Every outcome is written to the transcript in Sendmail's words
(``<addr>... Sent``, ``<addr>... Deferred: ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config.model import Config
from ..queue.qf import QueueFile, QueueRecipient
from .address import Kind, Target, classify, is_null_sender, qualify, strip_brackets
from .fileagent import FileAgent
from .local import LocalAgent
from .message import MessageSource
from .outcome import Outcome, Result, failed
from .owner import parse_controlling_user
from .program import ProgramAgent
from .routing import DeliveryMaps, rewritten_sender, routed_hop
from .smtp import Envelope, NextHop, SmtpAgent, SmtpRecipient
from .transcript import Transcript

MAX_HOP_COUNT = 25


@dataclass(frozen=True)
class Agents:
    """The delivery agents of a run."""

    local: LocalAgent
    file: FileAgent
    program: ProgramAgent
    smtp: SmtpAgent


def notify_param(rcpt: QueueRecipient) -> str | None:
    """The NOTIFY= value to pass on, from the R line flags."""
    if "N" not in rcpt.flags:
        return None
    words = [w for c, w in (("S", "SUCCESS"), ("F", "FAILURE"), ("D", "DELAY")) if c in rcpt.flags]
    return ",".join(words) or "NEVER"


class Dispatcher:
    """Routes recipients to agents."""

    def __init__(
        self,
        config: Config,
        agents: Agents,
        *,
        smtp_port: int = 25,
        maps: DeliveryMaps | None = None,
    ) -> None:
        self.config = config
        self.agents = agents
        self.smtp_port = smtp_port
        self.maps = maps or DeliveryMaps()

    def next_hop(self, target: Target) -> NextHop | Outcome:
        routed = routed_hop(self.maps, (target.domain or "").lower())
        if routed is not None:
            return routed
        smart = self.config.smart_host
        if smart is not None:
            return NextHop(smart.host, smart.port, smart.mx_lookup, "relay")
        return NextHop(target.domain or self.config.host_name, self.smtp_port, True, "esmtp")

    def _loop(self, qf: QueueFile, source: MessageSource, target: Target) -> Outcome | None:
        hops = source.received_count()
        if hops > MAX_HOP_COUNT:
            sender = strip_brackets(qf.sender) or "<>"
            text = (
                f"554 5.4.6 Too many hops {hops} ({MAX_HOP_COUNT} max): from {sender} "
                f"via {self.config.host_name}, to {target.address}"
            )
            return failed(text[10:], status="5.4.6", diagnostic=text)
        if target.kind in (Kind.LOCAL, Kind.SMTP):
            if target.kind is Kind.LOCAL:
                mailbox = self.agents.local.delivered_to(target)
            else:
                mailbox = target.address.lower()
            if mailbox in source.delivered_to():
                text = f"554 5.4.6 {target.shown}... mail forwarding loop for {mailbox}"
                return failed(text[10:], status="5.4.6", diagnostic=text)
        return None

    async def attempt(
        self,
        qf: QueueFile,
        indexes: list[int],
        source: MessageSource,
        transcript: Transcript,
        report: Callable[[int, Target, Outcome], None],
    ) -> dict[int, Outcome]:
        """Outcomes for the recipients at ``indexes``; ``report`` is called for each."""
        results: dict[int, Outcome] = {}
        groups: dict[NextHop, list[SmtpRecipient]] = {}
        targets: dict[int, Target] = {}
        for i in indexes:
            rcpt = qf.recipients[i]
            target = classify(rcpt.address, self.config.local_domains)
            targets[i] = target
            looped = self._loop(qf, source, target)
            if looped is not None:
                results[i] = looped
                report(i, target, looped)
                continue
            if target.kind is Kind.SMTP:
                smtp_rcpt = SmtpRecipient(i, target, notify_param(rcpt), rcpt.orcpt)
                hop = self.next_hop(target)
                if isinstance(hop, Outcome):
                    results[i] = hop
                    report(i, target, hop)
                    continue
                groups.setdefault(hop, []).append(smtp_rcpt)
                continue
            outcome = await self._local_kind(rcpt, target, source, transcript)
            results[i] = outcome
            report(i, target, outcome)
        envelope = Envelope(
            sender=""
            if is_null_sender(qf.sender)
            else rewritten_sender(
                self.maps, qualify(qf.sender, self.config.host_name), self.config.host_name
            ),
            ret=("HDRS" if "n" in qf.flags else "FULL") if "d" in qf.flags else None,
            envid=qf.envid,
            eight_bit=qf.body_type == "8BITMIME" or "8" in qf.flags,
        )
        for hop, rcpts in groups.items():
            outcomes = await self.agents.smtp.deliver(hop, rcpts, envelope, source, transcript)
            for r in rcpts:
                results[r.key] = outcomes[r.key]
                report(r.key, targets[r.key], outcomes[r.key])
        return results

    async def _local_kind(
        self, rcpt: QueueRecipient, target: Target, source: MessageSource, transcript: Transcript
    ) -> Outcome:
        owner = parse_controlling_user(rcpt.controlling_user)
        if target.kind is Kind.LOCAL:
            transcript.say(f"{target.shown}... Connecting to local...")
            return await self.agents.local.deliver(target, source)
        if target.kind is Kind.FILE:
            return await self.agents.file.deliver(target, source, owner)
        transcript.say(f"{target.shown}... Connecting to prog...")
        recipient = qualify(rcpt.address, self.config.host_name)
        if rcpt.final_recipient:
            recipient = rcpt.final_recipient.partition(";")[2].strip() or recipient
        return await self.agents.program.deliver(target, source, owner, recipient)


def describe(target: Target, outcome: Outcome) -> str:
    """Sendmail's ``<addr>... <status>`` line."""
    if outcome.result is Result.FAILED and outcome.diagnostic:
        return outcome.diagnostic
    return f"{target.shown}... {outcome.message}"
