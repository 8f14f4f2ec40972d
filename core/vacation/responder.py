"""The built-in responder the local delivery agent calls: :class:`VacationService`.

:func:`respond` is the whole cycle for one delivered message: parse the
header, :func:`.rules.should_reply`, build the reply
(:func:`.reply.build_reply`), hand it to ``submit(sender, recipients,
message_bytes)`` with the null sender ``""`` (``MAIL FROM:<>``) and the
incoming envelope sender as the only recipient, then record the reply and
the global send in the memory.  Nothing is recorded when ``submit`` raises.

:class:`VacationService` binds what the local agent has at hand:
``VacationDirectory`` (settings files and ``replies.db``), the host name and
LocalDomains (the user's addresses are ``user@<each local domain>``), the
``submit`` callable, a clock and the rate limit.  :meth:`VacationService.handle`
never raises for a user's bad settings file: it answers
``Decision(False, "settings unreadable: ...")`` so the delivery itself is not
affected; only a broken reply database raises :class:`ReplyMemoryError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .errors import SettingsError
from .incoming import IncomingMessage, parse_incoming
from .memory import ReplyMemory
from .reply import build_reply
from .rules import Decision, RateLimit, VacationUser, bare_address, should_reply
from .settings import VacationSettings, load_settings

Submit = Callable[[str, Sequence[str], bytes], object]
"""``submit(envelope_sender, recipients, message_bytes)``; ``""`` is the null sender."""

MEMORY_FILE = "replies.db"


def respond(
    message_bytes: bytes,
    *,
    envelope_sender: str,
    user: VacationUser,
    settings: VacationSettings,
    memory: ReplyMemory,
    now: float,
    submit: Submit,
    host_name: str,
    rate_limit: RateLimit | None = None,
    message_id: str | None = None,
) -> Decision:
    """Decide, build, submit and remember one reply (see the module docstring)."""
    message = parse_incoming(message_bytes)
    decision = should_reply(
        message, envelope_sender, user, settings, memory, now, rate_limit=rate_limit
    )
    if not decision.reply:
        return decision
    sender = bare_address(envelope_sender)
    reply = reply_message(
        message,
        envelope_sender=envelope_sender,
        user=user,
        settings=settings,
        now=now,
        host_name=host_name,
        message_id=message_id,
    )
    submit("", [sender], reply)
    memory.record(user.name, sender, now)
    memory.note_sent(now, keep=max(86400, (rate_limit or RateLimit()).window))
    return decision


def reply_message(
    message: IncomingMessage,
    *,
    envelope_sender: str,
    user: VacationUser,
    settings: VacationSettings,
    now: float,
    host_name: str,
    message_id: str | None = None,
) -> bytes:
    """The reply :func:`respond` submits for ``message`` (also the GUI's preview)."""
    return build_reply(
        message,
        to=bare_address(envelope_sender),
        from_address=user.from_address or f"{user.name}@{host_name}",
        subject=settings.subject,
        body=settings.message,
        now=now,
        host_name=host_name,
        message_id=message_id,
    )


class VacationService:
    """The local agent's vacation hook for every user with a settings file."""

    def __init__(
        self,
        directory: Path,
        *,
        host_name: str,
        local_domains: Iterable[str],
        submit: Submit,
        clock: Callable[[], float] = time.time,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.host_name = host_name
        self.local_domains = tuple(sorted({d.lower() for d in local_domains} | {host_name}))
        self.submit = submit
        self.clock = clock
        self.rate_limit = rate_limit or RateLimit()

    def user(self, name: str) -> VacationUser:
        """The :class:`VacationUser` for login ``name``: ``name@`` each local domain."""
        lname = name.lower()
        return VacationUser(
            lname,
            frozenset(f"{lname}@{d}" for d in self.local_domains),
            from_address=f"{lname}@{self.host_name}",
        )

    def handle(self, user: str, message_bytes: bytes, envelope_sender: str) -> Decision:
        """Apply ``user``'s settings to one message delivered to their mailbox."""
        try:
            settings = load_settings(self.directory, user.lower())
        except SettingsError as exc:
            return Decision(False, f"settings unreadable: {exc}")
        now = self.clock()
        if not settings.active(now):
            return Decision(False, "vacation is off or outside its dates")
        with ReplyMemory(self.directory / MEMORY_FILE) as memory:
            return respond(
                message_bytes,
                envelope_sender=envelope_sender,
                user=self.user(user),
                settings=settings,
                memory=memory,
                now=now,
                submit=self.submit,
                host_name=self.host_name,
                rate_limit=self.rate_limit,
            )
