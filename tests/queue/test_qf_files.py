"""parse_qf/format_qf on the real Sendmail 8.17 control files of sendmail-transcripts.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from postroom.core.queue.qf import (
    MACRO_REF,
    RETURN_PATH_VALUE,
    Header,
    QueueRecipient,
    format_qf,
    initial_priority,
    parse_qf,
)

DATA = Path(__file__).parent / "data"
FILES = sorted(p.name for p in DATA.glob("*.qf"))


@pytest.mark.parametrize("name", FILES)
def test_real_files_round_trip_byte_exact(name: str) -> None:
    data = (DATA / name).read_bytes()
    assert b"\x81" in data
    assert format_qf(parse_qf(data, name)) == data


def test_goaway_file_fields() -> None:
    qf = parse_qf((DATA / "goaway-6APITkJh015270.qf").read_bytes())
    assert (qf.version, qf.ctime, qf.last_attempt, qf.attempts) == (8, 1795631386, 0, 0)
    assert qf.priority == 60048 == initial_priority(48, 2)
    assert qf.status == "Verbose unavailable"
    assert qf.flags == "dns"
    assert qf.macros == (
        ("_", "localhost [127.0.0.1]"),
        ("r", "ESMTP"),
        ("s", "client.example.org"),
        ("{daemon_flags}", ""),
    )
    assert qf.sender == "<a@example.org>"
    assert qf.envid == "abc123"
    assert qf.recipients == (
        QueueRecipient(
            "<staff>",
            "PNSF",
            orcpt="rfc822;staff@mail.example.test",
            final_recipient="RFC822; staff@mail.example.test",
        ),
        QueueRecipient("<root>", "PFD", final_recipient="RFC822; root@mail.example.test"),
    )
    assert qf.headers[0] == Header("Return-Path", RETURN_PATH_VALUE, "P")
    assert qf.headers[0].value == "<" + MACRO_REF + "g>"
    received = qf.headers[1]
    assert received.condition == "" and received.name == "Received"
    assert received.value.count("\n\t") == 2
    assert [h.name for h in qf.headers[2:]] == ["Date", "Message-Id", "Subject", "From"]


def test_deferred_file_has_status_attempts_and_inode() -> None:
    qf = parse_qf((DATA / "deferred-6APIU3sA015510.qf").read_bytes())
    assert (qf.last_attempt, qf.attempts, qf.priority) == (1795631403, 1, 150024)
    assert qf.inode == "254/0/16039983"
    assert qf.status == "Deferred: Connection refused by [127.0.0.1]"
    assert qf.sender == "alice" and qf.auth == "alice@mail.example.test"
    assert [r.address for r in qf.recipients] == ["bob@[127.0.0.1]", "carol@runsc"]
    assert all(r.status is None for r in qf.recipients)


def test_controlling_user_line_scopes_recipients() -> None:
    qf = parse_qf((DATA / "cmdline-6APIVAMH016263.qf").read_bytes())
    (rcpt,) = qf.recipients
    assert rcpt.controlling_user == "alice:1:0:alice"
    assert rcpt.flags == "PFDA" and rcpt.address == "<testdir>/alice.mbox"


def test_lost_double_bounce() -> None:
    qf = parse_qf((DATA / "lost-6APIU3An015515.qf").read_bytes())
    assert qf.sender == "MAILER-DAEMON" and qf.flags == "rn" and qf.priority == 30000
    assert ("r", "") in qf.macros
    assert Header("Full-Name", "Mail Delivery Subsystem", "x") in qf.headers


def test_header_spacing_is_kept_verbatim() -> None:
    data = (
        b"V8\nT1\nK0\nN0\nP1\nS<a@b>\nRPFD:<c@d>\n"
        b"H??Subject:nospace\nH??X-Empty:\nH??X-Blank: \nH??X-Two:  two\nH??X-Tab:\tv\n.\n"
    )
    qf = parse_qf(data)
    assert qf.headers == (
        Header("Subject", "nospace", space=False),
        Header("X-Empty", "", space=False),
        Header("X-Blank", ""),
        Header("X-Two", " two"),
        Header("X-Tab", "\tv", space=False),
    )
    assert format_qf(qf) == data


def test_controlling_user_scope_ends_with_bare_c() -> None:
    data = (
        b"V8\nT1\nK0\nN0\nP1\nSx\nCalice:1:0:alice\nRPFDA:/a\nRPFDA:/b\nC\nRPFD:<c@d>\n"
        b"MDeferred: later\nC:list\nQrfc822;e@f\nrRFC822; e@f\nRPFDA:e@f\n.\n"
    )
    qf = parse_qf(data)
    assert [r.controlling_user for r in qf.recipients] == [
        "alice:1:0:alice",
        "alice:1:0:alice",
        None,
        ":list",
    ]
    assert qf.recipients[3].status == "Deferred: later" and qf.status is None
    assert format_qf(qf) == data


def test_obsolete_lines_ignored_and_missing_v_is_version_zero() -> None:
    qf = parse_qf(b"T5\nEerrors@x\nDdfold\nL123\nSsender\nRrecipient@x\n.\n")
    assert qf.version == 0 and qf.ctime == 5
    assert qf.recipients == (QueueRecipient("recipient@x", ""),)
    assert format_qf(qf) == b"T5\nK0\nN0\nP0\nSsender\nRrecipient@x\n.\n"


def test_header_from_field_keeps_the_original_spacing() -> None:
    assert Header.from_field("Subject", " hi") == Header("Subject", "hi")
    assert Header.from_field("Subject", "hi") == Header("Subject", "hi", space=False)
    assert Header.from_field("X", "") == Header("X", "", space=False)
    assert Header.from_field("X", "  two") == Header("X", " two")
