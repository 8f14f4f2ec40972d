"""The decision table: every rule that stops (or allows) a vacation reply."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postroom.core.vacation import (
    RateLimit,
    ReplyMemory,
    VacationSettings,
    parse_incoming,
    should_reply,
)
from postroom.core.vacation.rules import junk_sender, nsearch

from tests.vacation.helpers import T0, USER, message

ON = VacationSettings(enabled=True, message="I am away.")


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[ReplyMemory]:
    with ReplyMemory(tmp_path / "replies.db") as mem:
        yield mem


def decide(memory: ReplyMemory, data: bytes, sender: str = "friend@example.com", **kw):
    settings = kw.pop("settings", ON)
    return should_reply(
        parse_incoming(data), sender, USER, settings, memory, kw.pop("now", T0), **kw
    )


def test_plain_message_gets_a_reply(memory: ReplyMemory) -> None:
    assert decide(memory, message()) == (True, "reply to friend@example.com")


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("", "null sender"),
        ("<>", "null sender"),
        ("MAILER-DAEMON@example.com", "list or system address"),
        ("postmaster@example.com", "list or system address"),
        ("uucp@example.com", "list or system address"),
        ("mailer@example.com", "list or system address"),
        ("owner-list@example.com", "list or system address"),
        ("list-request@example.com", "list or system address"),
        ("list-owner@example.com", "list or system address"),
        ("x-relay@example.com", "list or system address"),
        ("host!Owner-Team@example.com", "list or system address"),
        ("bob@example.test", "sender is the user"),
        ("Bob+x@Mail.Example.Test", "sender is the user"),
    ],
)
def test_senders_never_answered(memory: ReplyMemory, sender: str, reason: str) -> None:
    reply, why = decide(memory, message(), sender)
    assert not reply and reason in why


@pytest.mark.parametrize(
    "header",
    [
        ("Precedence", "bulk"),
        ("Precedence", "List"),
        ("precedence", "junk"),
        ("List-Id", "<team.example.com>"),
        ("List-Unsubscribe", "<mailto:leave@example.com>"),
        ("Auto-Submitted", "auto-generated"),
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-notified; owner-email=x@example.com"),
        ("X-Auto-Response-Suppress", "OOF"),
        ("X-Spam-Flag", "YES"),
    ],
)
def test_automatic_and_bulk_mail_never_answered(memory: ReplyMemory, header) -> None:
    reply, why = decide(memory, message(header))
    assert not reply and "automatic or bulk message" in why


@pytest.mark.parametrize(
    "header",
    [("Auto-Submitted", "no"), ("Auto-Submitted", "No (a person)"), ("Precedence", "first-class")],
)
def test_harmless_headers_allow_a_reply(memory: ReplyMemory, header) -> None:
    assert decide(memory, message(header)).reply


@pytest.mark.parametrize(
    ("to", "headers", "expected"),
    [
        ("other@example.test", (), False),
        ("bobby@example.test", (), False),
        ("other@example.test", (("Cc", "BOB@EXAMPLE.TEST"),), True),
        ("other@example.test", (("Resent-To", "bob@mail.example.test"),), True),
        ("other@example.test", (("Resent-Cc", "x@y, <bob@example.test>"),), True),
        ("bob+lists@example.test", (), True),
        ("Robert <b.smith@example.org>", (), True),
        (None, (), False),
    ],
)
def test_user_must_be_named(memory: ReplyMemory, to, headers, expected: bool) -> None:
    settings = VacationSettings(enabled=True, addresses=("b.smith@example.org",))
    reply, why = decide(memory, message(*headers, to=to), settings=settings)
    assert reply is expected
    if not expected:
        assert why == "user not named in To/Cc/Resent-*"


def test_recipient_check_can_be_skipped(memory: ReplyMemory) -> None:
    assert decide(memory, message(to="other@example.test"), check_recipients=False).reply


def test_exclusions_from_settings(memory: ReplyMemory) -> None:
    settings = VacationSettings(enabled=True, exclusions=("friend@example.com", "@spam.example"))
    assert decide(memory, message(), settings=settings) == (
        False,
        "sender friend@example.com is excluded",
    )
    assert not decide(memory, message(), "x@Spam.Example", settings=settings).reply
    assert decide(memory, message(), "x@example.org", settings=settings).reply


def test_exclusions_from_memory(memory: ReplyMemory) -> None:
    memory.exclude("bob", "@example.com")
    assert decide(memory, message()) == (False, "sender friend@example.com is excluded")


def test_once_per_interval(memory: ReplyMemory) -> None:
    memory.record("bob", "friend@example.com", T0)
    assert decide(memory, message(), now=T0 + 6 * 86400) == (
        False,
        "already replied to friend@example.com",
    )
    assert decide(memory, message(), now=T0 + 7 * 86400).reply
    once = VacationSettings(enabled=True, interval=0)
    assert not decide(memory, message(), settings=once, now=T0 + 400 * 86400).reply


def test_dates_and_switch(memory: ReplyMemory) -> None:
    start = datetime.fromtimestamp(T0 + 3600, UTC)
    end = datetime.fromtimestamp(T0 + 7200, UTC)
    dated = VacationSettings(enabled=True, start=start, end=end)
    assert not decide(memory, message(), settings=dated, now=T0).reply
    assert decide(memory, message(), settings=dated, now=T0 + 3600).reply
    assert not decide(memory, message(), settings=dated, now=T0 + 7200).reply
    assert decide(memory, message(), settings=VacationSettings()) == (
        False,
        "vacation is off or outside its dates",
    )


def test_global_rate_limit(memory: ReplyMemory) -> None:
    limit = RateLimit(max_replies=3, window=3600)
    for i in range(3):
        memory.note_sent(T0 - 100 + i)
    assert decide(memory, message(), rate_limit=limit) == (False, "global reply rate limit reached")
    assert decide(memory, message(), rate_limit=limit, now=T0 + 3600).reply


def test_junk_and_word_search_helpers() -> None:
    assert junk_sender("<Mailer-Daemon@x>") and not junk_sender("daemon-fan@x")
    assert junk_sender('"owner-x"@example.com')
    assert nsearch("eric", "To: <eric+x@example.com>")
    assert not nsearch("eric", "To: derick@example.com")
