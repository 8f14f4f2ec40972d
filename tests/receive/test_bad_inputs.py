"""Hostile and malformed SMTP input (BAD-INPUTS.md sections A and B)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.mta import RunningMta

from .smtpwire import Wire


def ready(port: int) -> Wire:
    w = Wire(port)
    w.greeting()
    assert w.cmd("EHLO client.example.org").startswith("250")
    return w


def queued(mta: RunningMta) -> list[str]:
    return sorted(p.name for p in mta.setup.queue_dir.glob("qf*"))


def test_a1_bare_lf_command_is_a_whole_command(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.send(b"EHLO x.example\nNOOP\r\n")
    assert w.reply().startswith("250-")
    assert w.reply() == "250 2.0.0 OK"


def test_a3_overlong_command_line_keeps_the_session(mta: RunningMta) -> None:
    w = ready(mta.port())
    assert w.cmd("MAIL FROM:<" + "a" * 600 + "@x.example>") == "500 5.5.2 Line too long"
    assert w.cmd("MAIL FROM:<a@example.org>").startswith("250 ")


def test_a4_ten_megabytes_without_lf_keeps_memory_flat(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    chunk = b"x" * 65536
    for _ in range(160):
        w.send(chunk)
    w.send(b"\r\n")
    assert w.reply() == "500 5.5.2 Line too long"
    assert w.cmd("NOOP") == "250 2.0.0 OK"
    assert mta.proc is not None
    status = Path(f"/proc/{mta.proc.pid}/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    assert rss_kb < 120_000, f"peak RSS {rss_kb} kB"


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("MAIL FROM:<a\x00b@example.com>", "501 5.1.7"),
        ("MAIL FROM:<é@x.example>", "553 5.6.7"),
        ("MAIL FROM:<" + "l" * 65 + "@x.example>", "501 5.1.3"),
        ("MAIL FROM:<a@" + ("d" * 60 + ".") * 5 + "example>", "501 5.1.3"),
        ("MAIL FROM:<x@example.org> ENVID=+ZZ", "501 5.5.4"),  # bad xtext hex
        ("MAIL FROM:<x@example.org> ENVID=" + "a" * 150, "501 5.5.4"),
        ("MAIL FROM:<x@example.org> ENVID=a+00b", "501 5.5.4"),
        ("MAIL FROM:<x@example.org> ENVID=a ENVID=b", "501 5.5.4"),
        ("MAIL FROM:<x@example.org> FOO=bar", "555 5.5.4"),
        ("MAIL FROM:<x@example.org> BODY=BINARYMIME", "501 5.5.4"),
        ("MAIL FROM:<x@example.org> SIZE=999999999999", "552 5.3.4"),
    ],
)
def test_mail_from_refusals(mta: RunningMta, command: str, reply: str) -> None:
    w = ready(mta.port())
    assert w.cmd(command).startswith(reply + " ")
    assert w.cmd("MAIL FROM:<ok@example.org>").startswith("250 ")


def test_utf8_address_with_smtputf8(mta: RunningMta) -> None:
    w = ready(mta.port())
    assert w.cmd("MAIL FROM:<é@x.example> SMTPUTF8").startswith("250 ")
    assert w.cmd("RCPT TO:<alice>").startswith("250 ")


def test_c84_orcpt_without_type(mta: RunningMta) -> None:
    w = ready(mta.port())
    w.cmd("MAIL FROM:<x@example.org>")
    assert w.cmd("RCPT TO:<alice> ORCPT=garbage").startswith("501 5.5.4 ")
    assert w.cmd("RCPT TO:<alice> NOTIFY=NEVER,SUCCESS").startswith("501 5.5.4 ")


def test_a28_helo_name_is_validated(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    assert w.cmd("EHLO a;b").startswith("501 ")
    assert w.cmd("EHLO a\rb").startswith("501 ")
    assert w.cmd("EHLO [127.0.0.1]").startswith("250-")


def test_b29_bdat_not_advertised_is_refused(mta: RunningMta) -> None:
    w = ready(mta.port())
    assert w.cmd("BDAT 100 LAST") == "502 5.5.1 BDAT (CHUNKING) not implemented"


@pytest.mark.parametrize(
    "smuggle",
    [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\r.\r\n", b"\r\n.\r", b"\r\n.\n"],
)
def test_b19_b20_smuggling_is_one_rejection(mta: RunningMta, smuggle: bytes) -> None:
    w = ready(mta.port())
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<alice>")
    assert w.cmd("DATA").startswith("354")
    w.send(
        b"Subject: x\r\n\r\nbody" + smuggle + b"MAIL FROM:<evil@x>\r\nRCPT TO:<bob>\r\n"
        b"DATA\r\nevil\r\n.\r\n"
    )
    assert w.reply().startswith("550 5.5.2 ")
    assert w.cmd("NOOP") == "250 2.0.0 OK"
    assert queued(mta) == []


def test_b23_line_over_1000_octets(mta: RunningMta) -> None:
    w = ready(mta.port())
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<alice>")
    w.cmd("DATA")
    w.send(b"Subject: x\r\n\r\n" + b"y" * 999 + b"\r\n.\r\n")
    assert w.reply() == "500 5.5.2 Line too long"
    assert queued(mta) == []
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<alice>")
    w.cmd("DATA")
    w.send(b"Subject: x\r\n\r\n" + b"y" * 998 + b"\r\n.\r\n")
    assert w.reply().startswith("250 2.0.0 ")


def test_b24_body_over_the_limit(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(MaxMessageSize=100_000)
    w = ready(mta.port())
    assert w.cmd("MAIL FROM:<a@example.org> SIZE=200000").startswith("552 5.3.4 ")
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<alice>")
    w.cmd("DATA")
    for _ in range(300):
        w.send(b"z" * 500 + b"\r\n")
    w.send(b".\r\n")
    assert w.reply().startswith("552 5.3.4 ")
    assert queued(mta) == []
    assert list(mta.setup.queue_dir.glob("df*")) == []


def test_c42_recipient_limit(mta: RunningMta) -> None:
    w = ready(mta.port())
    w.cmd("MAIL FROM:<a@example.org>")
    replies = [w.cmd("RCPT TO:<alice>") for _ in range(105)]
    assert all(r.startswith("250 ") for r in replies[:100])
    assert replies[100:] == ["452 4.5.3 Too many recipients"] * 5
    w.cmd("DATA")
    w.send(b"Subject: many\r\n\r\nx\r\n.\r\n")
    qid = w.reply().split()[2]
    from postroom.core.queue.qf import parse_qf

    qf = parse_qf((mta.setup.queue_dir / f"qf{qid}").read_bytes())
    assert len(qf.recipients) == 100


def test_a17_per_client_connection_cap(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(MaxConnectionsPerHost=5)
    open_ = [Wire(mta.port()) for _ in range(5)]
    for w in open_:
        assert w.greeting().startswith("220 ")
    extra = Wire(mta.port())
    assert extra.reply().startswith("421 4.7.0 ")
    assert extra.closed_by_peer()


def test_a12_auth_garbage_then_421(mta: RunningMta) -> None:
    w = ready(mta.port())
    assert w.cmd("AUTH PLAIN !!!notbase64").startswith("501 ")
    assert w.cmd("AUTH PLAIN " + "QUFB" * 30000).startswith("500 5.5.2")
    assert w.cmd("AUTH PLAIN AGFsaWNl").startswith("501 ")  # one NUL only
    reply = w.cmd("AUTH PLAIN AGFsaWNlAHdyb25n")  # \0alice\0wrong
    assert reply.startswith("535 5.7.8")
    assert w.reply().startswith("421 4.7.0 ")
    assert w.closed_by_peer()


def test_a18_sigterm_during_data_sends_421_and_queues_nothing(mta: RunningMta) -> None:
    import signal

    w = ready(mta.port())
    w.cmd("MAIL FROM:<a@example.org>")
    w.cmd("RCPT TO:<alice>")
    assert w.cmd("DATA").startswith("354")
    w.send(b"Subject: half\r\n\r\nhalf a message\r\n")
    mta.send_signal(signal.SIGTERM)
    assert w.reply().startswith("421 4.3.2 ")
    assert mta.stop() == 0
    assert queued(mta) == []
    assert list(mta.setup.queue_dir.glob("df*")) == []


def test_daemon_survives_every_client_crash(mta: RunningMta) -> None:
    for payload in (b"\xff\xfe\x00\r\n", b"MAIL FROM:<\r\n", b"DATA\r\n", b"\r\n"):
        w = Wire(mta.port())
        w.greeting()
        w.send(payload)
        w.close()
    assert ready(mta.port()).cmd("NOOP") == "250 2.0.0 OK"


def test_no_traceback_in_log(mta: RunningMta) -> None:
    test_daemon_survives_every_client_crash(mta)
    assert "Traceback" not in mta.setup.log_file.read_text()
