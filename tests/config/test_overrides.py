"""``-O Option=Value`` overrides: parsing by the option's type, replacement, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postroom.core.config.errors import ConfigError
from postroom.core.config.loader import load_config
from postroom.core.config.options import option_names
from postroom.core.policy.privacy import GOAWAY, Privacy

from .helpers import write_config

BASE = """\
QueueDirectory = "mqueue"
HostName = "mail.example.test"
DaemonPortOptions = ["Name=MTA, Port=25", "Name=MSA, Port=587, M=E"]
LocalDomains = ["example.test"]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path, BASE)


def test_overrides_by_type(config_file: Path) -> None:
    c = load_config(
        config_file,
        [
            "LogLevel=14",
            "privacyoptions=goaway, noetrn",
            "LocalDomains=a.example, B.example",
            "RelayFrom=10.0.0.0/8,::1",
            "Timeout.command=30s",
            "timeout.QUEUERETURN=2",
            "MaxMessageSize=10M",
            "SuperSafe=false",
            "QueueDirectory=other",
            "SmartHost=[relay.example]",
            "ClientPortOptions=Addr=192.0.2.9, M=h",
        ],
    )
    assert c.log_level == 14
    assert c.privacy == GOAWAY | Privacy.noetrn
    assert c.local_domains == {"a.example", "b.example", "mail.example.test", "localhost"}
    assert [str(n) for n in c.relay_from] == ["10.0.0.0/8", "::1/128"]
    assert c.timeouts["command"] == 30 and c.timeouts["queuereturn"] == 2 * 86400
    assert c.max_message_size == 10 * 2**20 and not c.super_safe
    assert c.queue_directory == config_file.parent / "other"
    assert c.smart_host is not None and not c.smart_host.mx_lookup
    assert c.client_port is not None and c.client_port.modifiers == {"h"}
    assert c.overrides[0] == "LogLevel=14"
    assert "LogLevel" not in c.lines  # the file does not set it


def test_bare_boolean_means_true(config_file: Path) -> None:
    c = load_config(config_file, ["AllowRFCViolation", "MaxRecipientsPerMessage=50"])
    assert c.allow_rfc_violation and c.max_recipients == 50
    assert any(w.startswith("-O MaxRecipientsPerMessage: ") for w in c.warnings)


def test_daemon_port_options_replace_the_list(config_file: Path) -> None:
    c = load_config(config_file, ["DaemonPortOptions=Name=Test, Port=2525, Addr=127.0.0.1"])
    assert [(p.name, p.port) for p in c.daemon_ports] == [("Test", 2525)]
    c = load_config(
        config_file,
        ["DaemonPortOptions=Name=A, Port=2525", "DaemonPortOptions=Name=B, Port=2587, M=Eu"],
    )
    assert [p.name for p in c.daemon_ports] == ["A", "B"]
    assert c.daemon_ports[1].modifier_order == "Eu"


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ("MaxMessageSize=abc", "-O MaxMessageSize: expected a size in bytes"),
        ("MaxMessageSize=-1", "-O MaxMessageSize: -1 bytes is out of range"),
        ("LogLevel=high", "-O LogLevel: expected a whole number from 0 to 99, not 'high'"),
        ("Timeout.command=0", "-O Timeout.command: 0 is out of range: use 10s to 1h"),
        ("Timeout.command=1e9", '-O Timeout.command: "1e9" is not a duration'),
        ("SuperSafe=maybe", "-O SuperSafe: expected true or false, not 'maybe'"),
        ("LogLevel", "-O LogLevel: expected -O Option=Value"),
        ("RelayDomians=x", "-O RelayDomians: unknown option; did you mean RelayDomains?"),
        ("=5", '-O "": unknown option'),
        ("DaemonPortOptions=Port=0", '-O DaemonPortOptions: "Port=0": Port 0 is out of range'),
        ("RelayFrom=0.0.0.0/0", "-O RelayFrom: 0.0.0.0/0 would let every host"),
        ("PrivacyOptions=goaway,bogus", '-O PrivacyOptions: unknown PrivacyOptions name "bogus"'),
    ],
)
def test_override_errors(config_file: Path, override: str, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(config_file, [override])
    assert str(info.value).startswith(text), str(info.value)
    assert info.value.is_override and info.value.line == 0


OVERRIDE_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["0", "-1", "1", "99", "100", "1e9", "5m", "30s", "7d", "true", "no",
                     "Name=X, Port=2525", "10.0.0.0/8", "::/0", "[h]:25", "mbox", "a,b"]),
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(st.sampled_from(option_names()), OVERRIDE_VALUES)
def test_any_override_loads_or_raises_config_error(
    config_file: Path, option: str, value: str
) -> None:
    try:
        load_config(config_file, [f"{option}={value}"])
    except ConfigError as exc:
        assert str(exc).startswith(f"-O {option}: ") or str(exc).startswith("-O ")
