"""When a vacation reply may be sent: :func:`should_reply` -> :class:`Decision` ``(reply, reason)``.

The rules, checked in this order (issue 4 and BAD-INPUTS G; stricter than
Sendmail 8.17's vacation, which only looks at Precedence):

1. the responder is on and ``now`` is within its start/end;
2. the envelope sender is not ``<>``;
3. the sender's local part (Sendmail's ``junkmail``: after the last ``!``,
   before ``%``, ``@`` or ``+``) is not ``mailer-daemon``, ``postmaster``,
   ``uucp`` or ``mailer``, does not start with ``owner-`` and does not end in
   ``-request``, ``-owner`` or ``-relay``;
4. the sender is not the user (one of their addresses);
5. no ``Precedence: bulk|list|junk``, no ``List-*`` header, no
   ``Auto-Submitted`` other than ``no``, no ``X-Auto-Response-Suppress``, no
   ``X-Spam-Flag: YES`` (a forged sender on spam: BAD-INPUTS 80);
6. the user or one of their addresses is in ``To``, ``Cc`` or ``Resent-To``/
   ``Resent-Cc``/``Resent-Bcc`` (addresses compared whole, ``+detail``
   allowed; bare ``names`` -- the ``vacation`` program's login and ``-a``
   aliases -- matched as whole words as Sendmail's ``nsearch`` does), unless
   ``check_recipients`` is off (``vacation -j``);
7. the sender and its ``@domain`` are not excluded (settings or memory);
8. no reply to this sender within the interval (0: only ever one);
9. the global rate limit (:class:`RateLimit`, all users) is not reached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses
from typing import NamedTuple, Protocol

from .incoming import IncomingMessage
from .settings import VacationSettings

JUNK_NAMES = frozenset({"postmaster", "uucp", "mailer-daemon", "mailer"})
JUNK_PREFIXES = ("owner-",)
JUNK_SUFFIXES = ("-request", "-relay", "-owner")
RECIPIENT_HEADERS = ("to", "cc", "resent-to", "resent-cc", "resent-bcc")


class Decision(NamedTuple):
    """Whether to reply, and why (a short reason for the log)."""

    reply: bool
    reason: str


@dataclass(frozen=True)
class RateLimit:
    """At most ``max_replies`` replies in any ``window`` seconds, all users together."""

    max_replies: int = 100
    window: int = 3600


@dataclass(frozen=True)
class VacationUser:
    """The mailbox owner: login ``name``, the addresses mail reaches them at, the reply From."""

    name: str
    addresses: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    from_address: str = ""

    def all_addresses(self, settings: VacationSettings) -> frozenset[str]:
        """The user's addresses plus the settings' extra addresses, lower-cased."""
        return frozenset(a.lower() for a in (*self.addresses, *settings.addresses))


class Memory(Protocol):
    """What the rules read from the reply memory (:class:`.memory.ReplyMemory` fits)."""

    def last_reply(self, user: str, sender: str) -> int | None: ...

    def sent_since(self, since: float) -> int: ...


def bare_address(address: str) -> str:
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    return text


def sender_local_part(address: str) -> str:
    """Sendmail vacation's idea of the sender's user name (see rule 3)."""
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(address):
        c = address[i]
        if not quoted and c in "%@+":
            break
        if c == '"':
            quoted = not quoted
        elif c == "\\":
            i += 1
            if i < len(address):
                out.append(address[i])
        elif c == "!" and not quoted:
            out = []
        else:
            out.append(c)
        i += 1
    return "".join(out)


def junk_sender(address: str) -> bool:
    """Rule 3: a list, daemon or system sender."""
    local = sender_local_part(bare_address(address)).lower()
    if not local:
        return False
    return local in JUNK_NAMES or local.startswith(JUNK_PREFIXES) or local.endswith(JUNK_SUFFIXES)


def nsearch(name: str, text: str) -> bool:
    """Sendmail's whole-word, case-insensitive search (``eric`` in ``<eric+x>``, not ``derick``)."""
    lname, ltext = name.lower(), text.lower()
    start = 0
    while True:
        i = ltext.find(lname, start)
        if i < 0:
            return False
        before = ltext[i - 1] if i > 0 else ""
        after = ltext[i + len(lname) : i + len(lname) + 1]
        if not (before.isascii() and before.isalnum()) and not (
            after.isascii() and after.isalnum()
        ):
            return True
        start = i + 1


def _without_detail(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


def _keyword(value: str) -> str:
    """The first word of a header value, without comments or parameters (lower case)."""
    text = re.sub(r"\([^()]*\)", " ", value)
    words = re.split(r"[\s;]+", text.strip())
    return words[0].lower() if words else ""


def list_header(message: IncomingMessage) -> str | None:
    """Rule 5: the header that marks the message as automatic or bulk, or None."""
    for name, value in message.headers:
        lname = name.lower()
        if lname == "precedence" and value.strip().lower()[:4] in ("bulk", "list", "junk"):
            return f"Precedence: {value.strip()}"
        if lname.startswith("list-"):
            return name
        if lname == "auto-submitted" and _keyword(value) != "no":
            return f"Auto-Submitted: {value.strip()}"
        if lname == "x-auto-response-suppress":
            return name
        if lname == "x-spam-flag" and value.strip().lower() == "yes":
            return "X-Spam-Flag: YES"
    return None


def addressed_to(
    message: IncomingMessage, addresses: Iterable[str], names: Iterable[str] = ()
) -> bool:
    """Rule 6: one of ``addresses`` (or a bare ``names`` word) is in To/Cc/Resent-*."""
    wanted = {a.lower() for a in addresses}
    values = [v for n, v in message.headers if n.lower() in RECIPIENT_HEADERS]
    for _display, addr in getaddresses(values):
        lower = addr.lower()
        if lower in wanted or _without_detail(lower) in wanted:
            return True
    return any(nsearch(name, value) for name in names for value in values)


def excluded(sender: str, exclusions: Iterable[str]) -> bool:
    """Rule 7 for the settings' list: the sender or ``@its-domain`` is listed."""
    address = bare_address(sender).lower()
    domain = address[address.rfind("@") :] if "@" in address else None
    items = {e.strip().lower() for e in exclusions}
    return address in items or (domain is not None and domain in items)


def should_reply(
    message: IncomingMessage,
    envelope_sender: str,
    user: VacationUser,
    settings: VacationSettings,
    memory: Memory,
    now: float,
    *,
    check_recipients: bool = True,
    rate_limit: RateLimit | None = None,
    memory_user: str | None = None,
) -> Decision:
    """Apply the module's rules; ``memory_user`` is the memory's key (default: the name)."""
    if not settings.active(now):
        return Decision(False, "vacation is off or outside its dates")
    sender = bare_address(envelope_sender)
    if not sender or sender == "<>":
        return Decision(False, "null sender")
    if junk_sender(sender):
        return Decision(False, f"sender {sender} is a list or system address")
    mine = user.all_addresses(settings)
    if sender.lower() in mine or _without_detail(sender.lower()) in mine:
        return Decision(False, "sender is the user")
    marker = list_header(message)
    if marker is not None:
        return Decision(False, f"automatic or bulk message ({marker})")
    if check_recipients and not addressed_to(message, mine, user.names):
        return Decision(False, "user not named in To/Cc/Resent-*")
    if excluded(sender, settings.exclusions):
        return Decision(False, f"sender {sender} is excluded")
    last = memory.last_reply(memory_user if memory_user is not None else user.name, sender)
    if last == 0:
        return Decision(False, f"sender {sender} is excluded")
    if last is not None and (settings.interval == 0 or now < last + settings.interval):
        return Decision(False, f"already replied to {sender}")
    limit = rate_limit or RateLimit()
    if memory.sent_since(now - limit.window) >= limit.max_replies:
        return Decision(False, "global reply rate limit reached")
    return Decision(True, f"reply to {sender}")
