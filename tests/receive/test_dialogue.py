"""A normal ESMTP conversation with the daemon, checked reply by reply and on disk."""

from __future__ import annotations

import re
import smtplib

from postroom.core.queue.qf import parse_qf

from tests.support.mta import HOST_NAME, RunningMta

from .smtpwire import Wire

MESSAGE = b"Subject: hello\r\nFrom: a@example.org\r\n\r\nhello\r\n..dot\r\n"


def test_greeting_and_ehlo_keywords(mta: RunningMta) -> None:
    w = Wire(mta.port())
    assert w.greeting().startswith(f"220 {HOST_NAME} ESMTP Postroom ")
    reply = w.cmd("EHLO client.example.org")
    lines = [line[4:] for line in reply.splitlines()]
    assert lines[0] == f"{HOST_NAME} Hello localhost [127.0.0.1], pleased to meet you"
    assert lines[1:] == [
        "ENHANCEDSTATUSCODES",
        "PIPELINING",
        "EXPN",
        "VERB",
        "8BITMIME",
        f"SIZE {lines[6].split()[1]}",
        "DSN",
        "SMTPUTF8",
        "ETRN",
        "AUTH PLAIN LOGIN",
        "STARTTLS",
        "HELP",
    ]
    assert "CHUNKING" not in reply
    assert w.cmd("QUIT") == f"221 2.0.0 {HOST_NAME} closing connection"


def test_message_is_queued_with_sendmail_envelope(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("MAIL FROM:<a@example.org> RET=HDRS ENVID=abc123") == (
        "250 2.1.0 <a@example.org>... Sender ok"
    )
    assert w.cmd("RCPT TO:<bob> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test") == (
        "250 2.1.5 <bob>... Recipient ok"
    )
    assert w.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 <alice@example.test>... Recipient ok"
    assert w.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    w.send(MESSAGE + b".\r\n")
    reply = w.reply()
    m = re.fullmatch(r"250 2\.0\.0 (\w{14}) Message accepted for delivery", reply)
    assert m, reply
    qid = m.group(1)
    qdir = mta.setup.queue_dir
    assert (qdir / f"df{qid}").read_bytes() == b"hello\n.dot\n"
    qf = parse_qf((qdir / f"qf{qid}").read_bytes())
    assert qf.sender == "<a@example.org>"
    assert qf.envid == "abc123"
    assert "d" in qf.flags and "n" in qf.flags
    assert [(r.address, r.flags, r.orcpt) for r in qf.recipients] == [
        ("<bob>", "PNSF", "rfc822;bob@example.test"),
        ("<alice@example.test>", "PFD", None),
    ]
    macros = dict(qf.macros)
    assert macros["r"] == "ESMTP"
    assert macros["s"] == "client.example.org"
    assert macros["_"] == "localhost [127.0.0.1]"
    names = [h.name for h in qf.headers]
    assert names[:2] == ["Return-Path", "Received"]
    assert "Subject" in names and "Message-Id" in names and "Date" in names
    received = next(h.value for h in qf.headers if h.name == "Received")
    assert received.startswith("from client.example.org (localhost [127.0.0.1])\n\tby ")
    assert f"with ESMTP id {qid}" in received
    assert w.cmd("QUIT").startswith("221 ")


def test_smtplib_client_sends_and_pipelines(mta: RunningMta) -> None:
    with smtplib.SMTP("127.0.0.1", mta.port(), timeout=10) as client:
        client.ehlo("client.example.org")
        assert client.does_esmtp and client.has_extn("pipelining")
        refused = client.sendmail("a@example.org", ["bob@example.test", "alice"], MESSAGE)
        assert refused == {}
    assert len(list(mta.setup.queue_dir.glob("qf*"))) == 1


def test_sendmail_replies_for_sequence_errors(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    assert w.cmd("RCPT TO:<bob>") == "503 5.0.0 Need MAIL before RCPT"
    assert w.cmd("DATA") == "503 5.0.0 Need MAIL command"
    w.cmd("HELO client.example.org")
    assert w.cmd("HELO again.example.org").startswith(f"250 {HOST_NAME} Hello")
    assert w.cmd("MAIL FROM:<b@example.org>").startswith("250 ")
    assert w.cmd("MAIL FROM:<c@example.org>") == "503 5.5.0 Sender already specified"
    assert w.cmd("DATA") == "503 5.0.0 Need RCPT (recipient)"
    assert w.cmd("RSET") == "250 2.0.0 Reset state"
    assert w.cmd("NOOP") == "250 2.0.0 OK"
    assert w.cmd("BOGUS") == '500 5.5.1 Command unrecognized: "BOGUS"'
    assert w.cmd("HELP").startswith("214-2.0.0 ")


def test_mailq_lists_what_the_daemon_accepted(mta: RunningMta) -> None:
    import subprocess
    import sys

    with smtplib.SMTP("127.0.0.1", mta.port(), timeout=10) as client:
        client.sendmail("a@example.org", ["bob@example.test"], MESSAGE)
    out = subprocess.run(
        [sys.executable, "-m", "postroom.core.cli", "-bp", "-C", str(mta.setup.config_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"\t\t{mta.setup.queue_dir} (1 request)" in out
    assert "<a@example.org>" in out and "<bob@example.test>" in out
    assert out.endswith("\t\tTotal requests: 1\n")


def test_large_body_with_dot_lines_is_stored_exactly(mta: RunningMta) -> None:
    import random

    rng = random.Random(7)
    lines = []
    for i in range(20000):
        text = "".join(rng.choice("ab.c ") for _ in range(rng.randrange(0, 80)))
        lines.append(("." + text) if i % 7 == 0 else text)
    stored = "".join(line + "\n" for line in lines).encode()
    wire = "".join(("." + line if line.startswith(".") else line) + "\r\n" for line in lines)
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<bob>")
    w.cmd("DATA")
    w.send(b"Subject: big\r\n\r\n" + wire.encode() + b".\r\n")
    qid = w.reply().split()[2]
    assert (mta.setup.queue_dir / f"df{qid}").read_bytes() == stored
