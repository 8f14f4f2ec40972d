"""Fuzzing the DATA reader through the real daemon: framing, refusals and what is stored.

Each example sends one message whose content is generated line by line --
header-like and body lines, lines starting with dots, empty lines, 8-bit
bytes, NULs, lines around the 1000-octet limit, and line ends that are CRLF,
bare LF or bare CR -- but never the real end ``CRLF . CRLF`` before the end.
A small reference model (:func:`expected`) says what RFC 5321 and
BAD-INPUTS.md ask for:

- a bare LF or bare CR anywhere: ``550 5.5.2``; a line over 1000 octets with
  its line end: ``500 5.5.2``; the first faulty line decides the reply (and
  in one line, its length);
- otherwise ``250``, and the queue holds exactly the content: the header
  section (up to the first empty or non-header line, folded lines kept) as the
  qf's ``H`` lines after the ones the MTA adds, the rest dot-unstuffed with LF
  line ends as the df, byte for byte.

After the reply a ``NOOP`` must get exactly ``250 2.0.0 OK``: nothing in the
content was taken as the end of the message or as a command (BAD-INPUTS
B19-B20, SMTP smuggling).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from postroom.core.queue.qf import parse_qf

from .budget import fuzz_settings
from .daemon import FuzzDaemon, FuzzWire

pytestmark = pytest.mark.fuzz

HEADER_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
MAX_LINE = 1000
ADDED = ("D", "F", "M")  # conditions of the Date/From/Message-Id the MTA adds when missing


@dataclass(frozen=True)
class Expected:
    code: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def expected(content: bytes) -> Expected:
    """What the server must answer and store for DATA ``content`` (which ends in CRLF)."""
    lines = content.split(b"\n")[:-1]
    for raw in lines:  # the first faulty line decides; in a line, its length first
        if len(raw) + 1 > MAX_LINE:
            return Expected(500)
        if not raw.endswith(b"\r") or b"\r" in raw[:-1]:
            return Expected(550)
    headers: list[tuple[str, str]] = []
    body = bytearray()
    in_headers = True
    for raw in lines:
        text = raw[:-1]
        if text.startswith(b"."):
            text = text[1:]
        if in_headers:
            if text == b"":
                in_headers = False
                continue
            if text[:1] in (b" ", b"\t") and headers:
                name, value = headers[-1]
                headers[-1] = (name, value + "\n" + _text(text))
                continue
            if HEADER_NAME.match(text):
                raw_name, _, raw_value = text.partition(b":")
                headers.append((_text(raw_name), _text(raw_value).lstrip(" \t")))
                continue
            in_headers = False
        body += text + b"\n"
    return Expected(250, tuple(headers), bytes(body))


HEADER_LINES = [b"Subject: fuzz", b"From: a@example.org", b"X-Long:" + b" v" * 40, b"\tfolded",
                b" folded too", b"Date: today", b"Message-Id: <x@y>", b"Bad Header: x",
                b"X-Empty:", b"Name:value:with:colons", b"X-8bit: \xc3\xa9\xff"]  # fmt: skip
BODY_LINES = [b"", b".", b"..", b".x", b"...dots", b"From me", b"text", b"\x00nul", b"\xff\xfe",
              b"tab\there", b"x" * 997, b"y" * 998, b"z" * 999, b"w" * 1000, b"in\rside",
              b"QUIT", b"RSET", b"DATA", b"MAIL FROM:<evil@example.org>"]  # fmt: skip
ENDINGS = [b"\r\n"] * 8 + [b"\n", b"\r"]


@st.composite
def contents(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(HEADER_LINES), max_size=5))
    lines += draw(st.lists(st.sampled_from(BODY_LINES) | st.binary(max_size=60), max_size=12))
    out = bytearray()
    for raw in lines:
        out += raw.replace(b"\r", b"").replace(b"\n", b"") if raw != b"in\rside" else raw
        out += draw(st.sampled_from(ENDINGS))
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    content = bytes(out)
    assume(b"\r\n.\r\n" not in b"\r\n" + content)  # the real end only at the end
    return content


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzDaemon]:
    running = FuzzDaemon(tmp_path_factory.mktemp("fuzz-data") / "mta")
    yield running
    running.close()


def send(daemon: FuzzDaemon, content: bytes) -> tuple[int, list[bytes]]:
    wire = FuzzWire(daemon.port)
    try:
        assert wire.reply()[0] == 220
        for command in (b"EHLO fuzz.example", b"MAIL FROM:<a@example.org>",
                        b"RCPT TO:<alice@example.test>"):  # fmt: skip
            wire.send(command + b"\r\n")
            assert wire.reply()[0] == 250
        wire.send(b"DATA\r\n")
        assert wire.reply()[0] == 354
        wire.send(content + b".\r\n")
        code, lines = wire.reply()
        wire.send(b"NOOP\r\n")
        assert wire.reply() == (250, [b"250 2.0.0 OK"]), "the content was not framed as one message"
        wire.send(b"QUIT\r\n")
        assert wire.reply()[0] == 221
        wire.expect_close()
        return code, lines
    finally:
        wire.close()


@fuzz_settings(200)
@given(content=contents())
def test_data_is_framed_refused_or_stored_exactly(daemon: FuzzDaemon, content: bytes) -> None:
    want = expected(content)
    code, lines = send(daemon, content)
    assert code == want.code, (lines, want)
    if code != 250:
        assert lines[-1].startswith(f"{code} 5.5.2 ".encode())
        return
    qid = lines[-1].split()[2].decode()
    queue = daemon.setup.queue_dir
    qf = parse_qf((queue / f"qf{qid}").read_bytes())
    kept = [
        (h.name, h.value)
        for h in qf.headers[2:]  # Return-Path and Received come first
        if h.condition not in ADDED and h.name != "X-Authentication-Warning"
    ]
    assert (qf.headers[0].name, qf.headers[1].name) == ("Return-Path", "Received")
    assert kept == list(want.headers)
    assert (queue / f"df{qid}").read_bytes() == want.body
    assert "Traceback" not in daemon.output()


def test_the_reference_model() -> None:
    assert expected(b"Subject: a\r\n\tb\r\n\r\n..x\r\n") == Expected(
        250, (("Subject", "a\n\tb"),), b".x\n"
    )
    assert expected(b"a\nb\r\n").code == 550
    assert expected(b"a\rb\r\n").code == 550
    assert expected(b"x" * 999 + b"\r\n").code == 500
    assert expected(b"not a header\r\nSubject: x\r\n") == Expected(
        250, (), b"not a header\nSubject: x\n"
    )
