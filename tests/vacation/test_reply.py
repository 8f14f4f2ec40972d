"""The reply message: RFC 3834 headers, threading, a sanitised subject, encodings."""

from __future__ import annotations

import email
import email.policy

from postroom.core.vacation import build_file_reply, build_reply, clean_header_text, parse_incoming

from tests.vacation.helpers import HOST, T0, message


def header_block(data: bytes) -> str:
    return data.split(b"\n\n", 1)[0].decode()


def test_reply_headers() -> None:
    incoming = parse_incoming(
        message(("References", "<r0@example.com> <r1@example.com>")).replace(
            b"Subject: lunch?", b"Subject: =?utf-8?q?Caf=C3=A9=0D=0ABcc:_evil@example.com?="
        )
    )
    data = build_reply(
        incoming,
        to="friend@example.com",
        from_address=f"bob@{HOST}",
        subject="Away: $SUBJECT",
        body="Back on Monday.\n",
        now=T0,
        host_name=HOST,
        message_id="<reply1@mail.example.test>",
    )
    head = header_block(data)
    assert head.splitlines()[:2] == [f"From: bob@{HOST}", "To: friend@example.com"]
    assert "\r" not in head
    assert "\nBcc:" not in head
    assert "Date: Fri, 15 Jan 2027 08:00:00 +0000" in head
    assert "Message-ID: <reply1@mail.example.test>" in head
    assert "In-Reply-To: <m1@example.com>" in head
    assert "References: <r0@example.com>\n <r1@example.com>\n <m1@example.com>" in head
    assert "Auto-Submitted: auto-replied" in head
    assert "Precedence: bulk" in head
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Away: Café Bcc: evil@example.com"
    assert parsed.get_content() == "Back on Monday.\n"


def test_non_ascii_body_is_quoted_printable_and_round_trips() -> None:
    data = build_reply(
        parse_incoming(message()),
        to="friend@example.com",
        from_address=f"bob@{HOST}",
        subject="Abwesend – $SUBJECT",
        body="Zurück am Montag.\r\nGrüße",
        now=T0,
        host_name=HOST,
    )
    assert data.isascii()
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Abwesend – lunch?"
    assert parsed.get_content() == "Zurück am Montag.\nGrüße\n"
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert parsed["Message-ID"].endswith(f"@{HOST}>")


def test_no_threading_headers_without_message_id() -> None:
    incoming = parse_incoming(b"From a@b  x\nTo: bob@example.test\nSubject: hi\n\nx\n")
    head = header_block(
        build_reply(
            incoming, to="a@b", from_address="bob@x", subject="", body="", now=T0, host_name=HOST
        )
    )
    assert "In-Reply-To" not in head and "References" not in head
    assert "Subject: Out of office\n" in head + "\n"


def test_file_reply_keeps_the_users_message() -> None:
    template = (
        b"From: Bob <bob@example.test>\nSubject: I am away (re: $SUBJECT)\nTo: ignored@x\n"
        b"X-Note: keep\n\nBack on Monday.\n"
    )
    data = build_file_reply(
        template,
        parse_incoming(message()),
        to="friend@example.com",
        from_address="bob@mail.example.test",
        now=T0,
        host_name=HOST,
        message_id="<r@x>",
    )
    head, body = data.decode().split("\n\n", 1)
    assert head.splitlines() == [
        "To: friend@example.com",
        "Auto-Submitted: auto-replied",
        "In-Reply-To: <m1@example.com>",
        "References: <m1@example.com>",
        "From: Bob <bob@example.test>",
        "Subject: I am away (re: lunch?)",
        "X-Note: keep",
        "Precedence: bulk",
        "Date: Fri, 15 Jan 2027 08:00:00 +0000",
        "Message-ID: <r@x>",
    ]
    assert body == "Back on Monday.\n"


def test_file_without_headers_is_all_body() -> None:
    data = build_file_reply(
        b"Just text.\nMore: text\n",
        parse_incoming(message()),
        to="f@x",
        from_address="bob@h",
        now=T0,
        host_name=HOST,
    )
    head, body = data.decode().split("\n\n", 1)
    assert "From: bob@h" in head and body == "Just text.\nMore: text\n"


def test_clean_header_text() -> None:
    assert clean_header_text("a\r\nb\tc\x00d\u2028e  f") == "a b c d e f"
    assert len(clean_header_text("x" * 2000)) == 998
