"""The vacation program: Sendmail's flags, -l output as in the transcripts, replies via submit."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from postroom.core.vacation import parse_incoming, vacation_main
from postroom.core.vacation.cli import Login

from tests.vacation.helpers import HOST, T0, Clock, Outbox, message

TEMPLATE = b"From: tester@example.test\nSubject: away ($SUBJECT)\n\nI am on vacation.\n"


class Program:
    """Runs vacation_main with a home folder, a clock and an outbox."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.outbox = Outbox()
        self.clock = Clock()
        (home / ".vacation.msg").write_bytes(TEMPLATE)

    def lookup(self, name: str | None) -> Login | None:
        if name in (None, "tester"):
            return Login("tester", str(self.home))
        return None

    def __call__(self, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = vacation_main(
            list(argv),
            stdin=io.BytesIO(stdin),
            stdout=out,
            stderr=err,
            submit=self.outbox,
            host_name=HOST,
            clock=self.clock,
            lookup=self.lookup,
        )
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def vacation(tmp_path: Path) -> Program:
    return Program(tmp_path)


def test_transcript_init_exclude_list(vacation: Program, tmp_path: Path) -> None:
    """sendmail-transcripts.md 11, with -U, -f and -m as there."""
    db, msg = str(tmp_path / "db"), str(tmp_path / ".vacation.msg")
    assert vacation("-U", "-i", "-r", "3", "-f", db, "-m", msg, "tester") == (0, "", "")
    assert (tmp_path / "db.db").exists()
    exclusions = b"friend@example.com\n@spam.example\n"
    assert vacation("-U", "-x", "-f", db, "-m", msg, "tester", stdin=exclusions)[0] == 0
    code, out, _ = vacation("-U", "-l", "-f", db, "-m", msg, "tester")
    assert code == 0
    assert out == (
        "@spam.example                            (exclusion)\n"
        "friend@example.com                       (exclusion)\n"
    )


def test_reply_once_then_silent(vacation: Program) -> None:
    assert vacation("tester", stdin=message(to="tester@example.test")) == (0, "", "")
    ((sender, recipients, data),) = vacation.outbox.sent
    assert (sender, recipients) == ("", ("friend@example.com",))
    reply = parse_incoming(data)
    assert reply.get("To") == "friend@example.com"
    assert reply.get("Auto-Submitted") == "auto-replied"
    assert reply.get("Subject") == "away (lunch?)"
    assert data.endswith(b"\n\nI am on vacation.\n")
    vacation.clock.now += 3600
    assert vacation("tester", stdin=message(to="tester@example.test"))[0] == 0
    assert len(vacation.outbox.sent) == 1
    assert vacation("-l") == (0, f"{'friend@example.com':<40} {time.ctime(int(T0))}\n", "")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"to": "tester@example.test", "headers": (("Precedence", "bulk"),)}, "automatic or bulk"),
        ({"to": "someone@example.test", "headers": ()}, "not named"),
        (
            {"to": "tester@example.test", "sender": "owner-foo@example.com", "headers": ()},
            "list or system",
        ),
        ({"to": "tester@example.test", "headers": (("List-Id", "<x>"),)}, "automatic or bulk"),
    ],
)
def test_transcript_suppressions(vacation: Program, kwargs: dict, reason: str) -> None:
    headers = kwargs.pop("headers")
    code, _, err = vacation("-d", "tester", stdin=message(*headers, **kwargs))
    assert code == 0 and vacation.outbox.sent == []
    assert reason in err


def test_interval_flag(vacation: Program) -> None:
    vacation("-i", "-r", "0")
    vacation("tester", stdin=message(to="tester@example.test"))
    vacation.clock.now += 400 * 86400
    vacation("tester", stdin=message(to="tester@example.test"))
    assert len(vacation.outbox.sent) == 1
    vacation("-i", "-r", "infinite")
    assert len(vacation.outbox.sent) == 1
    vacation("-i", "-r", "1")
    vacation("tester", stdin=message(to="tester@example.test"))
    vacation.clock.now += 86400
    vacation("tester", stdin=message(to="tester@example.test"))
    assert len(vacation.outbox.sent) == 3


def test_alias_sender_override_and_always(vacation: Program) -> None:
    assert (
        vacation("-a", "allman", "tester", stdin=message(to="Eric <allman@example.test>"))[0] == 0
    )
    assert len(vacation.outbox.sent) == 1
    vacation("-s", "other@example.org", "-j", "tester", stdin=message(to="x@y"))
    assert vacation.outbox.sent[1][1] == ("other@example.org",)
    vacation(
        "-R",
        "tester-bounces@example.test",
        "tester",
        stdin=message(sender="new@example.org", to="tester@x"),
    )
    assert vacation.outbox.sent[2][0] == "tester-bounces@example.test"
    vacation("-z", "tester", stdin=message(sender="newer@example.org", to="tester@x"))
    assert vacation.outbox.sent[3][0] == ""


def test_errors(vacation: Program, tmp_path: Path) -> None:
    code, _, err = vacation("tester", stdin=message(sender=None, to="tester@example.test"))
    assert (code, err) == (65, 'vacation: no initial "From " line.\n')
    assert vacation("tester", stdin=message(sender=None, to="nobody@x"))[0] == 0
    code, _, err = vacation("tester", stdin=b'From "broken  x\nTo: tester\n\n')
    assert code == 65 and "badly formatted" in err
    assert vacation("-U", "tester")[:2] == (66, "")
    assert vacation()[0] == 64
    assert vacation("-q", "tester")[0] == 64
    code, _, err = vacation("nosuch", stdin=message())
    assert (code, err) == (67, "vacation: no such user nosuch.\n")
    (tmp_path / ".vacation.msg").unlink()
    code, _, err = vacation("tester", stdin=message(to="tester@x"))
    assert (code, err) == (66, "vacation: no ~tester/.vacation.msg file.\n")


def test_failed_submission_is_retried_next_time(vacation: Program) -> None:
    vacation.outbox.fail = True
    code, _, err = vacation("tester", stdin=message(to="tester@x"))
    assert code == 75 and "queue is full" in err
    vacation.outbox.fail = False
    assert vacation("tester", stdin=message(to="tester@x"))[0] == 0
    assert len(vacation.outbox.sent) == 1


def test_no_submission_configured(tmp_path: Path) -> None:
    program = Program(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = vacation_main(
        ["tester"],
        stdin=io.BytesIO(message(to="tester@x")),
        stdout=out,
        stderr=err,
        lookup=program.lookup,
    )
    assert code == 69
