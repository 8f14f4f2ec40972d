"""The reply memory: one reply per sender per interval, survives restarts, stays bounded."""

from __future__ import annotations

from pathlib import Path

from postroom.core.vacation import ReplyMemory, VacationSettings, respond

from tests.vacation.helpers import HOST, T0, USER, Outbox, message

ON = VacationSettings(enabled=True, message="I am away.")


def deliver(path: Path, outbox: Outbox, now: float, sender: str = "friend@example.com") -> bool:
    with ReplyMemory(path) as memory:
        decision = respond(
            message(sender=sender),
            envelope_sender=sender,
            user=USER,
            settings=ON,
            memory=memory,
            now=now,
            submit=outbox,
            host_name=HOST,
        )
    return decision.reply


def test_fifty_messages_in_an_hour_get_one_reply(tmp_path: Path) -> None:
    """BAD-INPUTS 78; each delivery opens the database anew, as separate processes would."""
    path, outbox = tmp_path / "replies.db", Outbox()
    replies = [deliver(path, outbox, T0 + i * 72) for i in range(50)]
    assert replies == [True] + [False] * 49
    assert len(outbox.sent) == 1
    assert not deliver(path, outbox, T0 + 6 * 86400)
    assert deliver(path, outbox, T0 + 7 * 86400)
    assert len(outbox.sent) == 2


def test_failed_submission_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "replies.db"
    failing = Outbox(fail=True)
    try:
        deliver(path, failing, T0)
    except OSError:
        pass
    outbox = Outbox()
    assert deliver(path, outbox, T0 + 1)
    assert len(outbox.sent) == 1


def test_memory_is_bounded_and_keeps_exclusions(tmp_path: Path) -> None:
    with ReplyMemory(tmp_path / "m.db", max_entries=5) as memory:
        memory.exclude("u", "@spam.example")
        for i in range(8):
            memory.record("u", f"s{i}@example.com", T0 + i)
        entries = dict(memory.entries("u"))
        assert len(entries) == 5
        assert entries["@spam.example"] == 0
        assert set(entries) - {"@spam.example"} == {f"s{i}@example.com" for i in range(4, 8)}
        memory.record("other", "x@example.com", T0)
        assert len(memory.entries("u")) == 5


def test_exclusions_interval_and_clear(tmp_path: Path) -> None:
    with ReplyMemory(tmp_path / "m.db") as memory:
        memory.exclude("", "Friend@Example.com")
        memory.record("", "friend@example.com", T0)  # an exclusion stays an exclusion
        assert memory.last_reply("", "<friend@example.com>") == 0
        memory.record("", "a@example.org", T0)
        assert memory.last_reply("", "a@example.org") == int(T0)
        assert memory.last_reply("", "b@example.org") is None
        assert memory.interval("") is None
        memory.set_interval("", 3 * 86400)
        assert memory.interval("") == 3 * 86400
        memory.clear("")
        assert memory.entries("") == []


def test_send_log_window(tmp_path: Path) -> None:
    with ReplyMemory(tmp_path / "m.db") as memory:
        for i in range(5):
            memory.note_sent(T0 + i * 1000, keep=3600)
        assert memory.sent_since(T0 + 4000 - 3600) == 4
        assert memory.sent_since(0) == 4  # the first one was pruned (older than keep)
