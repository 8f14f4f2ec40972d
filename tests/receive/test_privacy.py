"""PrivacyOptions, table-driven: each probe under each flag gets Sendmail's reply."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from postroom.core.queue.qf import QueueFile, parse_qf

from tests.support.mta import HOST_NAME, RunningMta

from .smtpwire import Wire

OK_MAIL = "250 2.1.0 <a@example.org>... Sender ok"
POLITE = "503 5.0.0 Polite people say HELO first"
INTRODUCE = "503 5.0.0 I demand that you introduce yourself first"
REFUSED = "502 5.7.0 Sorry, we do not allow this operation"
NO_VRFY = "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery (or try finger)"
VRFY_OK = f"250 2.1.5 <alice@{HOST_NAME}>"
EXPN_OK = f"250 2.1.5 <alice@{HOST_NAME}>"
ETRN_OK = "250 2.0.0 Queuing for node example.org started"
VERB_OK = "250 2.0.0 Verbose mode"
VERB_NO = "502 5.7.0 Verbose unavailable"

# probe -> (command, needs HELO first)
PROBES = {
    "mail_nohelo": ("MAIL FROM:<a@example.org>", False),
    "expn_nohelo": ("EXPN alice", False),
    "vrfy_nohelo": ("VRFY alice", False),
    "expn": ("EXPN alice", True),
    "vrfy": ("VRFY alice", True),
    "etrn": ("ETRN example.org", True),
    "verb": ("VERB", True),
}
PUBLIC = {
    "mail_nohelo": OK_MAIL,
    "expn_nohelo": EXPN_OK,
    "vrfy_nohelo": VRFY_OK,
    "expn": EXPN_OK,
    "vrfy": VRFY_OK,
    "etrn": ETRN_OK,
    "verb": VERB_OK,
}
TABLE: dict[str, dict[str, str]] = {
    "public": PUBLIC,
    "needmailhelo": PUBLIC | {"mail_nohelo": POLITE},
    "needexpnhelo": PUBLIC | {"expn_nohelo": INTRODUCE},
    "needvrfyhelo": PUBLIC | {"vrfy_nohelo": INTRODUCE},
    "noexpn": PUBLIC | {"expn_nohelo": REFUSED, "expn": REFUSED, "verb": VERB_NO},
    "novrfy": PUBLIC | {"vrfy_nohelo": NO_VRFY, "vrfy": NO_VRFY},
    "noverb": PUBLIC | {"verb": VERB_NO},
    "noetrn": PUBLIC | {"etrn": REFUSED},
    "authwarnings": PUBLIC,
    "restrictmailq": PUBLIC,
    "restrictqrun": PUBLIC,
    "restrictexpand": PUBLIC,
    "nobodyreturn": PUBLIC,
    "noreceipts": PUBLIC,
    "goaway": {
        "mail_nohelo": POLITE,
        "expn_nohelo": INTRODUCE,
        "vrfy_nohelo": INTRODUCE,
        "expn": REFUSED,
        "vrfy": NO_VRFY,
        "etrn": ETRN_OK,
        "verb": VERB_NO,
    },
}


def probe(port: int, command: str, helo: bool) -> str:
    w = Wire(port)
    try:
        w.greeting()
        if helo:
            w.cmd("HELO client.example.org")
        return w.cmd(command)
    finally:
        w.close()


@pytest.mark.parametrize("flag", sorted(TABLE))
def test_privacy_flag_probes(flag: str, start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(PrivacyOptions=[flag])
    got = {name: probe(mta.port(), cmd, helo) for name, (cmd, helo) in PROBES.items()}
    assert got == TABLE[flag]


def ehlo_words(port: int) -> list[str]:
    w = Wire(port)
    w.greeting()
    words = [line[4:] for line in w.cmd("EHLO client.example.org").splitlines()[1:]]
    w.close()
    return words


def test_ehlo_advertises_only_what_privacy_allows(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(PrivacyOptions=["noexpn", "noetrn", "noreceipts"])
    words = ehlo_words(mta.port())
    for gone in ("EXPN", "VERB", "ETRN", "DSN"):
        assert gone not in words
    assert "PIPELINING" in words


def test_noreceipts_refuses_every_dsn_parameter(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(PrivacyOptions=["noreceipts"])
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("MAIL FROM:<x@example.org> RET=FULL") == (
        "504 5.7.0 Sorry, RET not supported, we do not allow DSN"
    )
    assert w.cmd("MAIL FROM:<x@example.org> ENVID=foo") == (
        "504 5.7.0 Sorry, ENVID not supported, we do not allow DSN"
    )
    assert w.cmd("MAIL FROM:<x@example.org>").startswith("250 ")
    assert w.cmd("RCPT TO:<alice> NOTIFY=SUCCESS") == (
        "504 5.7.0 Sorry, NOTIFY not supported, we do not allow DSN"
    )
    assert w.cmd("RCPT TO:<alice> ORCPT=rfc822;alice@mail.example.test") == (
        "504 5.7.0 Sorry, ORCPT not supported, we do not allow DSN"
    )
    assert w.cmd("RCPT TO:<alice>") == "250 2.1.5 <alice>... Recipient ok"


def helo_less_message(mta: RunningMta) -> QueueFile:
    """Send one message without HELO/EHLO and return its qf."""
    w = Wire(mta.port())
    w.greeting()
    w.cmd("MAIL FROM:<spoof@example.org>")
    w.cmd("RCPT TO:<alice>")
    w.cmd("DATA")
    w.send(b"Subject: no helo\r\n\r\nhello\r\n.\r\n")
    qid = w.reply().split()[2]
    return parse_qf((mta.setup.queue_dir / f"qf{qid}").read_bytes())


def test_authwarnings_header_for_helo_less_mail(start_mta: Callable[..., RunningMta]) -> None:
    qf = helo_less_message(start_mta(PrivacyOptions=["authwarnings"]))
    warnings = [h.value for h in qf.headers if h.name == "X-Authentication-Warning"]
    assert warnings == [f"{socket.gethostname()}: localhost [127.0.0.1] didn't use HELO protocol"]
    assert dict(qf.macros)["r"] == "SMTP"


def test_no_authwarnings_without_the_flag(start_mta: Callable[..., RunningMta]) -> None:
    qf = helo_less_message(start_mta(PrivacyOptions=["public"]))
    assert not [h for h in qf.headers if h.name == "X-Authentication-Warning"]


def test_etrn_forms(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("ETRN") == "500 5.5.2 Parameter required"
    assert w.cmd("ETRN #somequeue") == "459 4.5.4 Queue somequeue unknown"
    assert w.cmd("EXPN") == "501 5.5.2 Argument required"
    assert w.cmd("VRFY nosuchuser") == "550 5.1.1 nosuchuser... User unknown"
