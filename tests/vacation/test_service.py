"""The built-in responder as the local delivery agent uses it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from postroom.core.config.loader import load_config
from postroom.core.queue import parse_qf
from postroom.core.vacation import (
    RateLimit,
    VacationError,
    VacationService,
    VacationSettings,
    parse_incoming,
    queue_submitter,
    save_settings,
)

from tests.vacation.helpers import HOST, T0, Clock, Outbox, message


def service(directory: Path, outbox: Outbox, clock: Clock, **kw: object) -> VacationService:
    return VacationService(
        directory,
        host_name=HOST,
        local_domains=["example.test"],
        submit=outbox,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def test_reply_submitted_with_null_sender(tmp_path: Path) -> None:
    save_settings(tmp_path, "bob", VacationSettings(enabled=True, message="Away."))
    outbox, clock = Outbox(), Clock()
    vacation = service(tmp_path, outbox, clock)
    decision = vacation.handle("bob", message(), "friend@example.com")
    assert decision.reply
    ((sender, recipients, data),) = outbox.sent
    assert (sender, recipients) == ("", ("friend@example.com",))
    reply = parse_incoming(data)
    assert reply.get("From") == f"bob@{HOST}"
    assert reply.get("Auto-Submitted") == "auto-replied"
    assert reply.get("In-Reply-To") == "<m1@example.com>"
    assert not vacation.handle("bob", message(), "friend@example.com").reply
    clock.now += 8 * 86400
    assert vacation.handle("bob", message(), "friend@example.com").reply
    assert (tmp_path / "replies.db").exists()


def test_users_without_settings_or_with_broken_ones(tmp_path: Path) -> None:
    outbox = Outbox()
    vacation = service(tmp_path, outbox, Clock())
    assert vacation.handle("carol", message(), "friend@example.com") == (
        False,
        "vacation is off or outside its dates",
    )
    (tmp_path / "dave.json").write_text("{broken")
    decision = vacation.handle("dave", message(), "friend@example.com")
    assert not decision.reply and decision.reason.startswith("settings unreadable:")
    assert outbox.sent == []


def test_start_and_end_dates(tmp_path: Path) -> None:
    start = datetime.fromtimestamp(T0 + 86400, UTC)
    save_settings(tmp_path, "bob", VacationSettings(enabled=True, start=start))
    clock = Clock()
    vacation = service(tmp_path, Outbox(), clock)
    assert not vacation.handle("bob", message(), "friend@example.com").reply
    clock.now = T0 + 86400
    assert vacation.handle("bob", message(), "friend@example.com").reply


def test_two_vacation_users_do_not_loop(tmp_path: Path) -> None:
    """BAD-INPUTS 79: bob and alice are both away and write to each other."""
    for user in ("bob", "alice"):
        save_settings(tmp_path, user, VacationSettings(enabled=True, message=f"{user} is away"))
    outbox = Outbox()
    vacation = service(tmp_path, outbox, Clock())
    first = message(sender="alice@example.test", to="bob@example.test")
    assert vacation.handle("bob", first, "alice@example.test").reply
    sender, recipients, reply = outbox.sent[0]
    assert recipients == ("alice@example.test",)
    # bob's reply reaches alice with MAIL FROM:<> and Auto-Submitted: auto-replied
    decision = vacation.handle("alice", b"From MAILER-DAEMON  x\n" + reply, sender)
    assert decision == (False, "null sender")
    decision = vacation.handle("alice", reply, "bob@example.test")
    assert not decision.reply and "Auto-Submitted" in decision.reason
    assert len(outbox.sent) == 1


def test_global_rate_limit_across_users(tmp_path: Path) -> None:
    for user in ("bob", "alice"):
        save_settings(tmp_path, user, VacationSettings(enabled=True))
    outbox = Outbox()
    vacation = service(tmp_path, outbox, Clock(), rate_limit=RateLimit(max_replies=2, window=3600))
    results = [
        vacation.handle(user, message(sender=s, to=f"{user}@example.test"), s).reply
        for user, s in [("bob", "a@x.example"), ("alice", "b@x.example"), ("bob", "c@x.example")]
    ]
    assert results == [True, True, False]


def test_queue_submitter_puts_the_reply_in_the_queue(tmp_path: Path) -> None:
    (tmp_path / "mqueue").mkdir(mode=0o700)
    cfg = tmp_path / "postroom.toml"
    cfg.write_text(
        f'QueueDirectory = "{tmp_path}/mqueue"\nHostName = "{HOST}"\n'
        f'StatusFile = "{tmp_path}/statistics"\nMailSpoolDirectory = "{tmp_path}/spool"\n'
        'LocalUsers = ["bob"]\nDaemonPortOptions = ["Name=MTA, Port=2525, Addr=127.0.0.1"]\n'
    )
    cfg.chmod(0o644)
    submit = queue_submitter(load_config(cfg))
    save_settings(tmp_path / "vacation", "bob", VacationSettings(enabled=True, message="."))
    vacation = VacationService(
        tmp_path / "vacation", host_name=HOST, local_domains=[], submit=submit, clock=Clock()
    )
    assert vacation.handle("bob", message(to=f"bob@{HOST}"), "friend@example.com").reply
    (qf,) = (tmp_path / "mqueue").glob("qf*")
    queued = parse_qf(qf.read_bytes(), str(qf))
    assert queued.sender == "MAILER-DAEMON"
    assert [r.address for r in queued.recipients] == ["friend@example.com"]
    assert any(h.name == "Auto-Submitted" for h in queued.headers)
    assert not any(h.name == "X-Authentication-Warning" for h in queued.headers)
    df = tmp_path / "mqueue" / ("df" + qf.name[2:])
    assert df.read_bytes() == b".\n"
    with pytest.raises(VacationError, match="User unknown"):
        submit("", ["nosuch"], b"Subject: x\n\nbody\n")
