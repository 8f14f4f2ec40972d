"""BAD-INPUTS E (54-61): every refusal names the file, the line and the option."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from postroom.core.config.errors import ConfigError
from postroom.core.config.loader import load_config
from postroom.core.config.reload import reload_config

from .helpers import MINIMAL, write_config


def refused(path: Path, overrides: tuple[str, ...] = ()) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    return info.value


def expect(tmp_path: Path, body: str, line: int, option: str, *fragments: str) -> ConfigError:
    path = write_config(tmp_path, MINIMAL + body)
    error = refused(path)
    assert str(error).startswith(f"{path}:{line}: {option}: "), str(error)
    assert (error.path, error.line, error.option) == (path, line, option)
    for fragment in fragments:
        assert fragment in str(error)
    return error


# 54 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-1", "out of range"),
        ('"abc"', "expected a size in bytes"),
        ("1000000000000000000000000000000", "out of range"),
        ("0", "out of range"),
        ("true", "expected a size in bytes"),
        ("1.5", "expected a size in bytes"),
    ],
)
def test_54_bad_message_size(tmp_path: Path, value: str, fragment: str) -> None:
    expect(tmp_path, f"\nMaxMessageSize = {value}\n", 4, "MaxMessageSize", fragment)


def test_54_expression_is_a_syntax_error_with_line(tmp_path: Path) -> None:
    expect(tmp_path, "\nMaxMessageSize = 10**30\n", 4, "TOML syntax", "column")


def test_54_sizes_that_are_accepted(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + 'MaxMessageSize = "20M"\n')
    assert load_config(path).max_message_size == 20 * 2**20
    path = write_config(tmp_path, MINIMAL + "MaxMessageSize = 1000\n")
    assert load_config(path).max_message_size == 1000


def test_54_reload_keeps_the_old_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "MaxMessageSize = 1000\n")
    old = load_config(path)
    write_config(tmp_path, MINIMAL + "MaxMessageSize = -1\n")
    current, error = reload_config(old)
    assert current is old
    assert error is not None and str(error).startswith(f"{path}:3: MaxMessageSize: ")
    write_config(tmp_path, MINIMAL + "MaxMessageSize = 2000\n")
    current, error = reload_config(old)
    assert error is None and current.max_message_size == 2000


# 55 -----------------------------------------------------------------------------------
def test_55_recipient_limit_below_rfc_minimum(tmp_path: Path) -> None:
    expect(
        tmp_path,
        "MaxRecipientsPerMessage = 10\n",
        3,
        "MaxRecipientsPerMessage",
        "below the RFC 5321 minimum of 100",
        "AllowRFCViolation",
    )


def test_55_allowed_with_explicit_flag_and_a_warning(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, MINIMAL + "MaxRecipientsPerMessage = 10\nAllowRFCViolation = true\n"
    )
    config = load_config(path)
    assert config.max_recipients == 10
    assert any(w.startswith(f"{path}:3: MaxRecipientsPerMessage: ") for w in config.warnings)


# 56 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("network", ["0.0.0.0/0", "::/0"])
def test_56_open_relay_networks(tmp_path: Path, network: str) -> None:
    body = f'RelayFrom = ["127.0.0.0/8", "{network}"]\n'
    expect(tmp_path, body, 3, "RelayFrom", network, "open relay", "AllowOpenRelay")


def test_56_open_relay_with_override_warns(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + 'RelayFrom = ["0.0.0.0/0"]\nAllowOpenRelay = true\n')
    config = load_config(path)
    assert str(config.relay_from[0]) == "0.0.0.0/0"
    assert any("open relay" in w for w in config.warnings)


def test_56_bad_network(tmp_path: Path) -> None:
    expect(tmp_path, 'RelayFrom = ["10.0.0.1/8"]\n', 3, "RelayFrom", "did you mean 10.0.0.0/8?")


# 57 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0", "out of range: use 10s to 1h"),
        ('"0s"', "out of range"),
        ('"-5"', "is not a duration"),
        ("-5", "cannot be negative"),
        ("1e9", "expected a duration"),
        ('"2h"', "out of range: use 10s to 1h"),
        ('"5 minutes"', "is not a duration"),
    ],
)
def test_57_command_timeout_bounds(tmp_path: Path, value: str, fragment: str) -> None:
    expect(tmp_path, f"Timeout.command = {value}\n", 3, "Timeout.command", fragment)


def test_57_timeout_in_a_table(tmp_path: Path) -> None:
    body = '\n[Timeout]\nhoststatus = "1h"\ncommand = "9s"\n'
    expect(tmp_path, body, 6, "Timeout.command", "out of range")


def test_57_good_timeouts(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        MINIMAL + '[Timeout]\ncommand = "10s"\nqueuereturn = 3\nrcpt = "1h30m"\n',
    )
    t = load_config(path).timeouts
    assert t["command"] == 10 and t["queuereturn"] == 3 * 86400 and t["rcpt"] == 5400
    assert t["hoststatus"] == 1800 and t["queuewarn"] == 4 * 3600  # defaults


# 58 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("relay_domians", "RelayDomains"),
        ("RelayDomians", "RelayDomains"),
        ("queuedirectory", "QueueDirectory"),
        ("MaxMesageSize", "MaxMessageSize"),
        ("Timeout.comand", "Timeout.command"),
    ],
)
def test_58_unknown_key_with_suggestion(tmp_path: Path, key: str, suggestion: str) -> None:
    expect(tmp_path, f'{key} = "x"\n', 3, key, "unknown option", f"did you mean {suggestion}?")


def test_58_unknown_key_without_suggestion(tmp_path: Path) -> None:
    error = expect(tmp_path, "Zzzzqqq = 1\n", 3, "Zzzzqqq", "unknown option")
    assert "did you mean" not in str(error)


def test_58_all_problems_are_collected(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "Bogus = 1\nLogLevel = 100\n")
    error = refused(path)
    assert [e.option for e in error.problems] == ["Bogus", "LogLevel"]
    assert [e.line for e in error.problems] == [3, 4]


# 59 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o666, 0o646, 0o602])
def test_59_world_writable_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_config(tmp_path, MINIMAL, mode=mode)
    error = refused(path)
    assert str(error).startswith(f"{path}: refusing to load: the file is world-writable")


def test_59_file_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    path = write_config(tmp_path, MINIMAL)
    os.chown(path, 65534, 65534)
    error = refused(path)
    assert str(error).startswith(f"{path}: refusing to load: the file is owned by ")
    assert "must be owned by root" in str(error)


def test_59_group_readable_is_fine(tmp_path: Path) -> None:
    load_config(write_config(tmp_path, MINIMAL, mode=0o640))


# 60 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "option"),
    [
        ("HostName2 = 1\n", "HostName2"),  # control: an unknown key is not a control error
        ('PostmasterCopy = "root\\nRelayDomains = *"\n', "PostmasterCopy"),
        ('LocalDomains = ["example.test", "x\\r\\ny"]\n', "LocalDomains"),
        ('AliasFile = "aliases\\u0000"\n', "AliasFile"),
        ('SmartHost = "[relay]\\t"\n', "SmartHost"),
    ],
)
def test_60_control_characters_are_refused(tmp_path: Path, body: str, option: str) -> None:
    error = expect(tmp_path, body, 3, option)
    if option != "HostName2":
        assert "control character" in str(error)


def test_60_hostname_with_newline(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'QueueDirectory = "q"\nHostName = "mail\\nrelay_domains = *"\n')
    error = refused(path)
    assert str(error).startswith(f"{path}:2: HostName: the value contains a control character")


def test_60_control_character_in_override(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL)
    error = refused(path, ("HostName=mail\nRelayDomains=*",))
    assert str(error) == (
        "-O HostName: the value contains a control character (U+000A); "
        "configuration values must not contain control characters"
    )


# 61 -----------------------------------------------------------------------------------
AUTH = 'AuthUsersFile = "authusers"\nServerCertFile = "c.pem"\nServerKeyFile = "c.key"\n'


def test_61_plaintext_auth_on_public_listener_is_refused(tmp_path: Path) -> None:
    body = AUTH + 'AuthRequireTLS = false\nDaemonPortOptions = ["Name=MTA, Port=25"]\n'
    expect(tmp_path, body, 6, "AuthRequireTLS", 'public listener "MTA"', "loopback-only")


def test_61_loopback_only_is_allowed(tmp_path: Path) -> None:
    body = AUTH + (
        "AuthRequireTLS = false\n"
        'DaemonPortOptions = ["Name=MTA, Port=25, Addr=127.0.0.1", "Name=V6, Addr=::1"]\n'
    )
    config = load_config(write_config(tmp_path, MINIMAL + body))
    assert not config.auth_require_tls


def test_61_public_listener_without_auth_is_allowed(tmp_path: Path) -> None:
    body = AUTH + 'AuthRequireTLS = false\nDaemonPortOptions = ["Name=MTA, Port=25, M=A"]\n'
    assert not load_config(write_config(tmp_path, MINIMAL + body)).auth_require_tls


def test_61_smtps_listener_is_allowed(tmp_path: Path) -> None:
    body = AUTH + 'AuthRequireTLS = false\nDaemonPortOptions = ["Name=S, Port=465, M=s"]\n'
    load_config(write_config(tmp_path, MINIMAL + body))
