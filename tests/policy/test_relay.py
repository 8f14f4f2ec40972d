"""The RCPT decision, table-driven over every relay form of BAD-INPUTS C."""

from __future__ import annotations

import ipaddress

import pytest
from postroom.core.policy.relay import RcptVerdict, RelayPolicy

OUR_IP = "192.0.2.25"
OUTSIDER = "198.51.100.7"
TRUSTED = "10.1.2.3"
KNOWN = {"alice", "bob", "Bob.Smith"}


@pytest.fixture
def policy() -> RelayPolicy:
    return RelayPolicy(
        local_domains=["mail.example.test", "Example.TEST", f"[{OUR_IP}]"],
        relay_domains=["partner.example"],
        relay_from=[ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")],
        local_user_known=KNOWN.__contains__,
    )


V = RcptVerdict
OK = "250 2.1.5 <{}>... Recipient ok"
UNKNOWN = "550 5.1.1 <{}>... User unknown"
DENIED = "550 5.7.1 <{}>... Relaying denied"
ROUTE = "553 5.1.3 <{}>... Invalid route address"
LITERAL = f"[{OUR_IP}]"

# (address, client ip, authenticated, verdict, reply with {} for the address)
CASES: list[tuple[str, str, bool, RcptVerdict, str]] = [
    ("alice@example.test", OUTSIDER, False, V.LOCAL, OK),
    ("alice", OUTSIDER, False, V.LOCAL, OK),
    ("alice@MAIL.Example.Test.", OUTSIDER, False, V.LOCAL, OK),
    (f"alice@{LITERAL}", OUTSIDER, False, V.LOCAL, OK),
    ("nobody@example.test", OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    # 30: a null sender grants nothing; relay is decided by client and recipient only.
    ("x@remote.example", OUTSIDER, False, V.DENIED, DENIED),
    # 31: the percent hack is a literal local part, never a route.
    (f"relaytest%remote.example@{LITERAL}", OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    ("relaytest%remote.example@example.test", OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    ("relaytest%remote.example@example.test", TRUSTED, True, V.UNKNOWN_USER, UNKNOWN),
    ("remote.example!relaytest", OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    ("remote.example!relaytest@example.test", OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    # 32: quoted local parts are not dequoted into routes.
    ('"relaytest@remote.example"', OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    ('"relaytest%remote.example"', OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    ('"relaytest@remote.example"@example.test', OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    ('"alice"', OUTSIDER, False, V.UNKNOWN_USER, UNKNOWN),
    # 34: a second @ and source routes are malformed.
    ("relaytest@remote.example@example.test", OUTSIDER, False, V.MALFORMED, ROUTE),
    ("@example.test:relaytest@remote.example", OUTSIDER, False, V.MALFORMED, ROUTE),
    ("@a.example,@b.example:u@c.example", TRUSTED, True, V.MALFORMED, ROUTE),
    ('"unterminated@example.test', OUTSIDER, False, V.MALFORMED, ROUTE),
    ("user@", OUTSIDER, False, V.MALFORMED, "553 5.1.3 <{}>... Hostname required"),
    ("", OUTSIDER, False, V.MALFORMED, "553 5.1.3 <{}>... User address required"),
    ("user@bad..example", OUTSIDER, False, V.MALFORMED, "553 5.1.2 <{}>... Invalid host name"),
    # 37: relaying depends on who the client is, never on MAIL FROM (not an input here).
    ("x@remote.example", TRUSTED, False, V.RELAY, OK),
    ("x@remote.example", "2001:db8::5", False, V.RELAY, OK),
    ("x@remote.example", OUTSIDER, True, V.RELAY, OK),
    ("x@remote.example", "::ffff:10.9.9.9", False, V.RELAY, OK),
    ("x@remote.example", "not-an-ip", False, V.DENIED, DENIED),
    ("x@partner.example", OUTSIDER, False, V.RELAY, OK),
    ("x@mx.PARTNER.example", OUTSIDER, False, V.RELAY, OK),
    ("x@notpartner.example", OUTSIDER, False, V.DENIED, DENIED),
    ("x@[203.0.113.9]", OUTSIDER, False, V.DENIED, DENIED),
    # 38: postmaster is always accepted, bare or at a local domain, in any case.
    ("Postmaster", OUTSIDER, False, V.LOCAL, OK),
    ("POSTMASTER@example.test", OUTSIDER, False, V.LOCAL, OK),
    ("postmaster@remote.example", OUTSIDER, False, V.DENIED, DENIED),
]


@pytest.mark.parametrize(("address", "ip", "auth", "verdict", "reply"), CASES)
def test_recipient_decision(
    policy: RelayPolicy, address: str, ip: str, auth: bool, verdict: RcptVerdict, reply: str
) -> None:
    decision = policy.check_recipient(address, client_ip=ip, authenticated=auth)
    assert decision.verdict is verdict
    assert decision.reply == reply.format(address)
    assert decision.accepted == (verdict in (V.LOCAL, V.RELAY))


def test_local_part_is_looked_up_literally() -> None:
    asked: list[str] = []

    def known(user: str) -> bool:
        asked.append(user)
        return user == "a%b"

    policy = RelayPolicy(
        local_domains=["example.test"], relay_domains=[], relay_from=[], local_user_known=known
    )
    decision = policy.check_recipient("a%b@example.test", client_ip=OUTSIDER, authenticated=False)
    assert decision.verdict is V.LOCAL
    assert asked == ["a%b"]


def test_client_may_relay(policy: RelayPolicy) -> None:
    assert policy.client_may_relay(TRUSTED, False)
    assert policy.client_may_relay(OUTSIDER, True)
    assert not policy.client_may_relay(OUTSIDER, False)
    assert not policy.client_may_relay("", False)


def test_domain_literal_is_local_only_when_listed(policy: RelayPolicy) -> None:
    decision = policy.check_recipient("alice@[127.0.0.1]", client_ip=OUTSIDER, authenticated=False)
    assert decision.verdict is V.DENIED
