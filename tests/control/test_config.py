"""``config.*``, ``privacy.*`` and ``ports.*``: edits through tomlkit, validated, atomic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from postroom.core.config.loader import load_config
from postroom.core.control.client import RpcClient, RpcError
from postroom.core.policy.privacy import Privacy

from .support import connect, write_config


def test_get_shows_text_values_and_docs(rpc: RpcClient, config_path: Path) -> None:
    got = rpc.call("config.get")
    assert got["text"] == config_path.read_text() and got["valid"] is True
    options = {o["name"]: o for o in got["options"]}
    assert options["LogLevel"]["value"] == "9" and options["LogLevel"]["raw"] == 9
    assert options["LogLevel"]["line"] == 7 and options["LogLevel"]["set_in_file"] is True
    assert options["Timeout.queuereturn"]["raw"] == "5d"
    assert options["MaxMessageSize"]["set_in_file"] is False
    assert options["MaxMessageSize"]["default"] == 50 * 2**20
    assert "Largest message" in options["MaxMessageSize"]["doc"]
    assert options["DaemonPortOptions"]["value"].count("Name=") == 2


def test_set_round_trip_keeps_comments_order_and_layout(rpc: RpcClient, config_path: Path) -> None:
    before = config_path.read_text()
    base = rpc.call("config.get")["sha256"]
    result = rpc.call(
        "config.set",
        {
            "changes": {
                "loglevel": 12,
                "Timeout.queuereturn": "4d",
                "Timeout.rcpt": "30m",
                "MaxMessageSize": "20M",
            },
            "base_sha256": base,
        },
    )
    assert result["changed"] is True
    after = config_path.read_text()
    assert "LogLevel = 12  # Sendmail's default" in after
    assert 'Timeout.queuereturn = "4d"' in after and 'Timeout.rcpt = "30m"' in after
    for line in before.splitlines():
        if line.startswith("#") or "Name=" in line:
            assert line in after
    assert after.index("HostName") < after.index("QueueDirectory") < after.index("LogLevel")
    assert "-LogLevel = 9  # Sendmail's default" in result["diff"]
    assert Path(result["backup"]).read_text() == before
    config = load_config(config_path)
    assert (config.log_level, config.timeouts["queuereturn"]) == (12, 4 * 86400)
    assert config.max_message_size == 20 * 2**20
    assert rpc.call("config.get")["sha256"] == result["sha256"] != base
    removed = rpc.call("config.set", {"changes": {"MaxMessageSize": None, "Timeout.rcpt": None}})
    assert "MaxMessageSize" not in config_path.read_text() and removed["changed"]
    assert "Timeout.rcpt" not in config_path.read_text()


def test_diff_and_dry_run_change_nothing(rpc: RpcClient, config_path: Path) -> None:
    before = config_path.read_text()
    diff = rpc.call("config.diff", {"changes": {"LogLevel": 14}})
    assert "+LogLevel = 14  # Sendmail's default" in diff["diff"]
    dry = rpc.call("config.set", {"changes": {"LogLevel": 14}, "dry_run": True})
    assert dry["diff"] == diff["diff"] and dry["backup"] is None
    assert config_path.read_text() == before
    assert not (config_path.parent / "postroom.toml.bak").exists()
    same = rpc.call("config.set", {"changes": {"LogLevel": 9}})
    assert same == {**same, "changed": False, "diff": ""}


def test_an_invalid_result_is_refused_with_file_and_line_and_nothing_is_written(
    rpc: RpcClient, config_path: Path
) -> None:
    before = config_path.read_text()
    with pytest.raises(RpcError) as info:
        rpc.call("config.set", {"changes": {"LogLevel": 1000}})
    assert info.value.code == "config_invalid"
    problem = info.value.data["problems"][0]
    assert (problem["path"], problem["line"], problem["option"]) == (
        str(config_path),
        7,
        "LogLevel",
    )
    assert config_path.read_text() == before
    leftovers = [n for n in os.listdir(config_path.parent) if n.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        ({"LogLevl": 3}, "bad_params", "did you mean LogLevel"),
        ({"HostName": 'evil\nQueueDirectory = "/"'}, "bad_params", "control character"),
        ({"HostName": "a\u0085b"}, "bad_params", "control character"),
        ({"LogLevel": {"nested": 1}}, "bad_params", "not a value"),
        ({"PrivacyOptions": ["goaway", 3]}, "bad_params", "only text"),
        ({}, "bad_params", "non-empty"),
        ({"LogLevel": 1, "loglevel": 2}, "bad_params", "twice"),
    ],
)
def test_bad_changes_are_refused_before_anything_is_read(
    rpc: RpcClient, changes: dict[str, object], code: str, text: str
) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("config.set", {"changes": changes})
    assert info.value.code == code and text in info.value.message


def test_a_stale_base_is_a_conflict(rpc: RpcClient, config_path: Path) -> None:
    base = rpc.call("config.get")["sha256"]
    config_path.write_text(config_path.read_text() + "# edited by hand\n")
    with pytest.raises(RpcError) as info:
        rpc.call("config.set", {"changes": {"LogLevel": 10}, "base_sha256": base})
    assert info.value.code == "conflict"
    assert "LogLevel = 9" in config_path.read_text()


def test_privacy_get_and_set(rpc: RpcClient, config_path: Path) -> None:
    got = rpc.call("privacy.get")
    flags = {f["name"]: f for f in got["flags"]}
    assert got["names"] == ["authwarnings"] and flags["authwarnings"]["set"] is True
    assert flags["noexpn"]["set"] is False and "EXPN" in flags["noexpn"]["summary"]
    assert flags["goaway"]["detail"]
    result = rpc.call("privacy.set", {"flags": ["goaway", "NoETRN", "restrictmailq"]})
    assert '+PrivacyOptions = ["goaway", "noetrn", "restrictmailq"]' in result["diff"]
    assert "# X-Authentication-Warning headers" in config_path.read_text()
    privacy = load_config(config_path).privacy
    assert privacy & Privacy.noetrn and privacy & Privacy.restrictmailq and privacy & Privacy.noexpn
    after = {f["name"]: f["set"] for f in rpc.call("privacy.get")["flags"]}
    assert after["goaway"] and after["noetrn"] and not after["public"]
    with pytest.raises(RpcError) as info:
        rpc.call("privacy.set", {"flags": ["nosuchflag"]})
    assert info.value.code == "bad_params" and "valid names" in info.value.message


def test_ports_get_and_set(rpc: RpcClient, config_path: Path) -> None:
    got = rpc.call("ports.get")
    assert [p["name"] for p in got["listeners"]] == ["MTA", "MSA"]
    assert got["listeners"][1]["modifiers"] == "E" and "ETRN" in got["modifiers"]["E"]
    assert "Port" in got["keys"]
    port = got["listeners"][0]["port"]
    result = rpc.call(
        "ports.set",
        {
            "listeners": [
                got["listeners"][0]["text"],
                {"name": "SUB", "port": port + 1, "addr": "127.0.0.1", "modifiers": "E"},
            ]
        },
    )
    assert f'"Name=SUB, Port={port + 1}, Addr=127.0.0.1, M=E"' in config_path.read_text()
    assert result["changed"] and "# Listeners, loopback only." in config_path.read_text()
    assert [p.name for p in load_config(config_path).daemon_ports] == ["MTA", "SUB"]
    for listeners, text in (
        ([], "non-empty"),
        (["Name=A, Port=99999"], "listener 0"),
        (["Name=A, Port=2600", {"name": "B", "port": 2601, "colour": "red"}], "listener 1"),
        (["Name=A, Port=2600", "Name=A, Port=2601"], "both named"),
    ):
        with pytest.raises(RpcError) as info:
            rpc.call("ports.set", {"listeners": listeners})
        assert text in info.value.message, listeners


def test_a_symlinked_config_is_edited_where_it_lives(tmp_path: Path) -> None:
    real = write_config(tmp_path / "real")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    client = connect(link)
    try:
        client.call("config.set", {"changes": {"LogLevel": 13}})
    finally:
        client.close()
    assert link.is_symlink() and "LogLevel = 13" in real.read_text()
    assert (real.parent / "postroom.toml.bak").exists()
