"""DaemonPortOptions and ClientPortOptions: valid forms, every refusal, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.policy.errors import PolicyError
from postroom.core.policy.ports import (
    DAEMON_MODIFIERS,
    ClientPort,
    DaemonPort,
    daemon_flags_macro,
    format_client_port,
    format_daemon_port,
    listener_warnings,
    parse_client_port_options,
    parse_daemon_port_options,
    validate_listener_set,
)

VALID: list[tuple[str, DaemonPort]] = [
    ("Name=MTA, Port=25", DaemonPort("MTA", 25, None)),
    ("Name=MSA, Port=587, M=E", DaemonPort("MSA", 587, None, modifiers=frozenset("E"))),
    ("Port=smtp, Name=MTA", DaemonPort("MTA", 25, None)),
    ("Port=submission", DaemonPort("Daemon0", 587, None)),
    ("Port=smtps, M=s", DaemonPort("Daemon0", 465, None, modifiers=frozenset("s"))),
    ("", DaemonPort("Daemon0", 25, None)),
    ("Addr=127.0.0.1, Port=2525", DaemonPort("Daemon0", 2525, "127.0.0.1")),
    ("Addr=localhost", DaemonPort("Daemon0", 25, "127.0.0.1")),
    ("Family=inet6, Addr=localhost", DaemonPort("Daemon0", 25, "::1", family="inet6")),
    ("Addr=::1", DaemonPort("Daemon0", 25, "::1", family="inet6")),
    ("Family=INET6, Addr=2001:DB8::1", DaemonPort("Daemon0", 25, "2001:db8::1", family="inet6")),
    ("Family=inet6", DaemonPort("Daemon0", 25, None, family="inet6")),
    ("Addr=0.0.0.0", DaemonPort("Daemon0", 25, None)),
    ("Listen=128", DaemonPort("Daemon0", 25, None, listen=128)),
    # keys by first character, with Sendmail's case rules
    ("name=x, port=26, addr=127.0.0.2, f=inet, l=5, m=a",
     DaemonPort("x", 26, "127.0.0.2", listen=5, modifiers=frozenset("a"))),
    ("Nickname=x, Pxyz=27, Modifiers=Ea", DaemonPort("x", 27, None, modifiers=frozenset("Ea"))),
    ("  Name = MTA ,, Port = 25 , ", DaemonPort("MTA", 25, None)),
    ("M=E a", DaemonPort("Daemon0", 25, None, modifiers=frozenset("Ea"))),
    ("M=aa", DaemonPort("Daemon0", 25, None, modifiers=frozenset("a"))),
    # accepted and ignored
    ("Name=X, I=filter1;filter2, S=65536, R=65536, c=10, D=q, r=20, d=15, q=12, T=true",
     DaemonPort("X", 25, None)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_forms(text: str, expected: DaemonPort) -> None:
    assert parse_daemon_port_options(text) == expected


def test_default_name_uses_index() -> None:
    assert parse_daemon_port_options("Port=2525", 3).name == "Daemon3"


def test_ignored_keys_are_recorded_and_warned() -> None:
    port = parse_daemon_port_options("Name=X, I=f1, c=10, refuseLA=5")
    assert port.ignored == ("InputMailFilters", "children", "refuseLA")
    warnings = listener_warnings([port])
    assert len(warnings) == 3
    assert 'listener "X": InputMailFilters= is accepted' in warnings[0]


ERRORS: list[tuple[str, str]] = [
    ("Xyz=1", 'PortOptions parameter "Xyz" unknown'),
    ("C=5", 'PortOptions parameter "C" unknown'),  # children is lower-case c only
    ("Q=5", 'PortOptions parameter "Q" unknown'),
    ("t=1", 'PortOptions parameter "t" unknown'),
    ("=25", 'PortOptions parameter "" unknown'),
    ("Name", 'parameter "Name" has no value'),
    ("Name=", 'parameter "Name" has an empty value'),
    ("Port=25, Port=26", '"Port" is given twice'),
    ("Port=0", "Port 0 is out of range"),
    ("Port=65536", "Port 65536 is out of range"),
    ("Port=-1", 'Port "-1" is neither a number'),
    ("Port=no-such-service-xyz", "nor a known service name"),
    ("Addr=mail.example.com", "not an IP address"),
    ("Addr=999.1.1.1", "not an IP address"),
    ("Family=inet, Addr=::1", "is an IPv6 address but Family=inet"),
    ("Family=inet6, Addr=127.0.0.1", "is an IPv4 address but Family=inet6"),
    ("Family=unix, Addr=/var/run/smtp", "not supported by Postroom"),
    ("Family=local", "not supported by Postroom"),
    ("Family=iso", 'Family "iso" unknown'),
    ("Listen=0", "must be a whole number from 1 to 65535"),
    ("Listen=many", "must be a whole number"),
    ("M=x", 'modifier "x" unknown; valid letters are: a b c f h r s u A C E O S'),
    ("M=aA", "contradict"),
    ("Name=has space", 'Name "has space" is not valid'),
    ("Name=MTA\n, Port=26", "control character (U+000A)"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_daemon_port_options(text)
    assert message in str(info.value)


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(PolicyError) as info:
        parse_daemon_port_options("Bogus=1")
    for key in ("Name", "Port", "Addr", "Family", "Listen", "Modifiers"):
        assert key in str(info.value)


def test_non_string_is_refused() -> None:
    with pytest.raises(PolicyError):
        parse_daemon_port_options(25)  # type: ignore[arg-type]


def test_convenience_properties() -> None:
    msa = parse_daemon_port_options("Name=MSA, Port=587, M=Ea")
    assert msa.requires_auth and msa.no_etrn and not msa.auth_disabled
    mta = parse_daemon_port_options("Name=MTA, M=ASOfu")
    assert not mta.requires_auth and mta.auth_disabled and mta.no_starttls and mta.optional
    assert mta.require_fqdn_sender and mta.allow_unqualified


def test_daemon_flags_macro() -> None:
    assert daemon_flags_macro("Ea") == "EE a"
    assert daemon_flags_macro("cu") == "c u"
    assert daemon_flags_macro("") == ""
    assert daemon_flags_macro(frozenset("aE")) == "a EE"  # a set: table order
    assert parse_daemon_port_options("M=Ea").daemon_flags == "EE a"
    assert parse_daemon_port_options("M=aE").daemon_flags == "a EE"


def test_format_keeps_modifier_order() -> None:
    text = "Name=MSA, Port=587, Addr=127.0.0.1, M=Ea"
    assert format_daemon_port(parse_daemon_port_options(text)) == text


def test_listener_set_checks() -> None:
    p = parse_daemon_port_options
    ok = [p("Name=MTA, Port=25"), p("Name=MSA, Port=587"), p("Name=V6, Family=inet6")]
    assert validate_listener_set(ok) == []
    same_name = [p("Name=A, Port=25"), p("Name=A, Port=26")]
    assert 'listeners 1 and 2 are both named "A"' in validate_listener_set(same_name)[0]
    same_bind = [p("Name=A, Port=25, Addr=127.0.0.1"), p("Name=B, Port=25, Addr=127.0.0.1")]
    assert "both bind port 25" in validate_listener_set(same_bind)[0]
    overlap = [p("Name=A, Port=25"), p("Name=B, Port=25, Addr=127.0.0.1")]
    assert "both bind port 25" in validate_listener_set(overlap)[0]
    distinct = [p("Name=A, Port=25, Addr=127.0.0.1"), p("Name=B, Port=25, Addr=127.0.0.2")]
    assert validate_listener_set(distinct) == []
    many = [p(f"Name=L{i}, Port={1000 + i}") for i in range(65)]
    assert any("at most 64" in e for e in validate_listener_set(many))
    assert validate_listener_set(many[:64]) == []


def test_client_port_options() -> None:
    assert parse_client_port_options("Addr=192.0.2.1, M=hS") == ClientPort(
        addr="192.0.2.1", modifiers=frozenset("hS")
    )
    assert parse_client_port_options("Family=inet6, Port=0").family == "inet6"
    assert parse_client_port_options("p=2000").port == 2000
    for text, message in [
        ("Name=x", 'PortOptions parameter "Name" unknown'),
        ("M=a", 'modifier "a" unknown; valid letters are: h A S D M'),
        ("Addr=relay.example", "not an IP address"),
    ]:
        with pytest.raises(PolicyError, match=message):
            parse_client_port_options(text)
    cp = parse_client_port_options("Addr=2001:db8::2, Port=2500, M=DM")
    assert parse_client_port_options(format_client_port(cp)) == cp


# --- property tests -------------------------------------------------------------------

KEY_WORDS = ["Name", "Port", "Addr", "Family", "Listen", "M", "Modifiers", "I", "S", "R",
             "c", "D", "d", "q", "r", "T", "C", "x", "", "port", "ADDR"]  # fmt: skip
VALUE_WORDS = ["25", "smtp", "submission", "0", "65536", "127.0.0.1", "::1", "localhost",
               "inet", "inet6", "unix", "Ea", "aA", "z", "MTA", "", " ", "-1", "host.example",
               "a=b", "\x00", "99999999999999999999"]  # fmt: skip


@st.composite
def option_strings(draw: st.DrawFn) -> str:
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(KEY_WORDS) | st.text(max_size=6),
                st.sampled_from(VALUE_WORDS) | st.text(max_size=10),
            ),
            max_size=6,
        )
    )
    sep = draw(st.sampled_from([", ", ",", " , "]))
    return sep.join(f"{k}={v}" for k, v in pairs)


@given(st.text(max_size=200) | option_strings())
def test_any_string_parses_or_raises_policy_error(text: str) -> None:
    try:
        port = parse_daemon_port_options(text)
    except PolicyError:
        return
    assert 1 <= port.port <= 65535
    assert port.modifiers <= set(DAEMON_MODIFIERS)
    assert parse_daemon_port_options(format_daemon_port(port)) == port


@given(st.text(max_size=200) | option_strings())
def test_any_client_string_parses_or_raises_policy_error(text: str) -> None:
    try:
        parse_client_port_options(text)
    except PolicyError:
        pass


@st.composite
def daemon_ports(draw: st.DrawFn) -> DaemonPort:
    family = draw(st.sampled_from(["inet", "inet6"]))
    if family == "inet":
        addr = draw(st.none() | st.ip_addresses(v=4).map(str))
    else:
        addr = draw(st.none() | st.ip_addresses(v=6).map(str))
    if addr in ("0.0.0.0", "::"):
        addr = None
    letters = draw(st.lists(st.sampled_from(DAEMON_MODIFIERS), unique=True))
    if "a" in letters and "A" in letters:
        letters.remove("A")
    return DaemonPort(
        name=draw(st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True)),
        port=draw(st.integers(1, 65535)),
        addr=addr,
        family=family,
        modifiers=frozenset(letters),
        listen=draw(st.integers(1, 65535)),
        modifier_order="".join(letters),
    )


@given(daemon_ports())
def test_format_then_parse_round_trips(port: DaemonPort) -> None:
    again = parse_daemon_port_options(format_daemon_port(port))
    assert again == port
    assert again.modifier_order == port.modifier_order
