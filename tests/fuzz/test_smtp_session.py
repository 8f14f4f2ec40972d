"""Fuzzing the SMTP command loop of the real daemon over loopback.

Each example is one session: a generated sequence of command lines -- known
verbs with generated arguments and ESMTP parameters, mixed case, raw bytes,
NULs, bare LF, over-long lines -- sent one at a time.  Properties:

- every line gets exactly one reply, and every reply is well-formed
  (``NNN-``... ``NNN `` lines of one code, at most 512 octets, no CR/LF/NUL);
- the server closes the connection only right after a ``221`` or ``421``;
- a ``354`` is followed by a message and a reply to its end; a ``334`` by
  one more line (SASL), a ``220`` TLS go-ahead ends the example;
- the daemon prints no traceback, is still running, and greets a new client.

(tests/receive/test_commands_property.py fuzzes the parser functions alone;
this target drives them through the session and its state machine.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .budget import fuzz_settings
from .daemon import FuzzDaemon, FuzzWire, check_reply

pytestmark = pytest.mark.fuzz

VERBS = [
    "HELO",
    "EHLO",
    "MAIL FROM:",
    "RCPT TO:",
    "DATA",
    "RSET",
    "NOOP",
    "QUIT",
    "VRFY",
    "EXPN",
    "HELP",
    "ETRN",
    "VERB",
    "AUTH",
    "STARTTLS",
    "BDAT",
    "SEND",
    "TURN",
    "XCLIENT",
]
ADDRESSES = [
    "<alice@example.test>",
    "<bob@mail.example.test>",
    "<>",
    "<x@remote.example>",
    "<postmaster>",
    "alice",
    '<"quoted local"@example.test>',
    "<@a,@b:c@example.test>",
    "<é@example.test>",
    "<a@[127.0.0.1]>",
    "<" + "x" * 300 + "@example.test>",
]
PARAMS = [
    "SIZE=100",
    "SIZE=99999999999999999999999",
    "BODY=8BITMIME",
    "BODY=BINARYMIME",
    "SMTPUTF8",
    "RET=HDRS",
    "RET=FULL",
    "ENVID=a+2Bb",
    "ENVID=+ZZ",
    "NOTIFY=SUCCESS,DELAY",
    "NOTIFY=NEVER,SUCCESS",
    "ORCPT=rfc822;a@b",
    "ORCPT=x",
    "AUTH=<>",
    "X=Y",
    "SIZE",
]
SASL = [
    "PLAIN",
    "LOGIN",
    "CRAM-MD5",
    "PLAIN AGFsaWNlAHMzY3JldC1QYXNzdzByZA==",
    "PLAIN =",
    "PLAIN !!!notbase64",
    "LOGIN YWxpY2U=",
]

printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
argument = st.one_of(
    st.just(""),
    printable,
    st.builds(
        lambda a, ps: " ".join([a, *ps]),
        st.sampled_from(ADDRESSES),
        st.lists(st.sampled_from(PARAMS), max_size=3),
    ),
    st.sampled_from(SASL),
    st.sampled_from(["client.example.org", "[127.0.0.1]", "a..b", "-x", "é.example", "a b"]),
)


def _case(text: str, upper: bool) -> str:
    return text if upper else text.lower()


command = st.builds(
    lambda verb, arg, upper, space: (
        _case(verb, upper) + ("" if verb.endswith(":") or not arg else " " * space) + arg
    ).encode("utf-8", "surrogateescape"),
    st.sampled_from(VERBS),
    argument,
    st.booleans(),
    st.integers(1, 2),
)
raw_line = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
long_line = st.integers(500, 1200).map(lambda n: b"NOOP " + b"x" * n)
line = st.one_of(command, command, command, raw_line, long_line)
ending = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n"])
body = st.lists(
    st.sampled_from([b"Subject: fuzz", b"", b"text", b".dot", b"..", b"x" * 990]), max_size=8
)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzDaemon]:
    running = FuzzDaemon(tmp_path_factory.mktemp("fuzz-smtp") / "mta")
    yield running
    running.close()


def _limit_auth(lines: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """At most two AUTH lines: the third failure is answered after a 1 s tarpit."""
    kept, auths = [], 0
    for text, end in lines:
        if text[:4].upper() == b"AUTH":
            auths += 1
            if auths > 2:
                continue
        kept.append((text, end))
    return kept


def _converse(wire: FuzzWire, lines: list[tuple[bytes, bytes]], message: list[bytes]) -> None:
    code, _ = wire.reply()
    assert code in (220, 421, 554)
    if code != 220:
        wire.expect_close()
        return
    for text, end in lines:
        wire.send(text + end)
        code, reply = wire.reply()
        if code == 354:
            wire.send(b"".join((b"." + x if x.startswith(b".") else x) + b"\r\n" for x in message))
            wire.send(b".\r\n")
            code, reply = wire.reply()
        if code in (221, 421):
            wire.expect_close()
            return
        if code == 220:  # STARTTLS go-ahead: the rest would be a TLS handshake
            return
        assert code != 334 or reply[0].startswith(b"334 ")


@fuzz_settings(300)
@given(lines=st.lists(st.tuples(line, ending), max_size=14).map(_limit_auth), message=body)
def test_any_command_sequence_gets_well_formed_replies(
    daemon: FuzzDaemon, lines: list[tuple[bytes, bytes]], message: list[bytes]
) -> None:
    before = len(daemon.output())
    wire = FuzzWire(daemon.port)
    try:
        _converse(wire, lines, message)
    finally:
        wire.close()
    printed = daemon.output()[before:]
    assert "Traceback" not in printed and "exception" not in printed.lower(), printed
    assert daemon.alive()


def test_the_daemon_still_greets_after_the_fuzzing(daemon: FuzzDaemon) -> None:
    wire = FuzzWire(daemon.port)
    try:
        code, _ = wire.reply()
        assert code == 220
        wire.send(b"QUIT\r\n")
        assert wire.reply()[0] == 221
    finally:
        wire.close()
    assert "Traceback" not in daemon.output()


def test_the_reply_checker_refuses_malformed_replies() -> None:
    assert check_reply([b"250-a", b"250 b"]) == 250
    for bad in ([b"250 a", b"250 b"], [b"250-a", b"251 b"], [b"25 x"], [b"250 a\x00"]):
        with pytest.raises(AssertionError):
            check_reply(bad)


def test_etrn_with_an_unsupported_argument_is_refused(daemon: FuzzDaemon) -> None:
    """Regression (found by this fuzzer): ``ETRN a b`` must get 501, not 250 and a traceback."""
    wire = FuzzWire(daemon.port)
    try:
        assert wire.reply()[0] == 220
        wire.send(b"EHLO fuzz.example\r\n")
        assert wire.reply()[0] == 250
        wire.send(b"ETRN LOGIN YWxpY2U=\r\n")
        code, lines = wire.reply()
        assert code == 501, lines
        wire.send(b"QUIT\r\n")
        assert wire.reply()[0] == 221
    finally:
        wire.close()
