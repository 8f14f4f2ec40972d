"""No open relay: BAD-INPUTS C30–C38 over a real SMTP session."""

from __future__ import annotations

import pytest

from tests.support.mta import RunningMta

from .smtpwire import Wire

DENIED = "550 5.7.1"


def session(port: int, sender: str = "<a@example.org>", host: str = "127.0.0.1") -> Wire:
    w = Wire(port, host=host)
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd(f"MAIL FROM:{sender}").startswith("250 ")
    return w


@pytest.mark.parametrize(
    ("rcpt", "code"),
    [
        ("<x@remote.example>", DENIED),
        ("<relaytest%remote.example@mail.example.test>", "550 5.1.1"),
        ("<relaytest%remote.example@[127.0.0.1]>", DENIED),
        ('<"relaytest@remote.example">', "550 5.1.1"),
        ('<"relaytest%remote.example">', "550 5.1.1"),
        ("<remote.example!relaytest>", "550 5.1.1"),
        ("<relaytest@remote.example@mail.example.test>", "553 5.1.3"),
        ("<@mail.example.test:relaytest@remote.example>", "553 5.1.3"),
        ("<Postmaster>", "250 2.1.5"),
        ("<POSTMASTER@mail.example.test>", "250 2.1.5"),
        ("<alice@example.test>", "250 2.1.5"),
        ("<nosuch@example.test>", "550 5.1.1"),
    ],
)
def test_relay_forms(mta: RunningMta, rcpt: str, code: str) -> None:
    w = session(mta.port())
    assert w.cmd(f"RCPT TO:{rcpt}").startswith(code + " ")


def test_null_sender_grants_nothing(mta: RunningMta) -> None:
    w = session(mta.port(), "<>")
    assert w.cmd("RCPT TO:<x@remote.example>").startswith(DENIED)


def test_local_sender_from_outside_does_not_relay(mta: RunningMta) -> None:
    w = session(mta.port(), "<alice@mail.example.test>")
    assert w.cmd("RCPT TO:<x@remote.example>").startswith(DENIED)


def test_relay_from_network_may_relay(mta: RunningMta) -> None:
    # The test config trusts 127.0.0.2/32; connect from that source address.
    w = Wire(mta.port(), source="127.0.0.2")
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    assert w.cmd("RCPT TO:<x@remote.example>").startswith("250 2.1.5")


def test_authenticated_client_may_relay(mta: RunningMta) -> None:
    import base64

    from tests.support.mta import AUTH_PASSWORD, AUTH_USER

    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    token = base64.b64encode(f"\0{AUTH_USER}\0{AUTH_PASSWORD}".encode()).decode()
    assert w.cmd(f"AUTH PLAIN {token}") == "235 2.0.0 OK Authenticated"
    w.cmd("MAIL FROM:<a@example.org>")
    assert w.cmd("RCPT TO:<x@remote.example>").startswith("250 2.1.5")


def test_harvest_closes_after_many_unknown_users(mta: RunningMta) -> None:
    w = session(mta.port())
    replies = [w.cmd(f"RCPT TO:<nosuch{i}@example.test>") for i in range(25)]
    assert all(r.startswith("550 5.1.1") for r in replies)
    assert w.reply().startswith("421 4.7.0")
    assert w.closed_by_peer()
