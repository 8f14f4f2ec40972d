"""SSH done right: host keys, credentials, the remote command, each failure its own error."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from pathlib import Path
from types import SimpleNamespace

import paramiko  # type: ignore[import-untyped]
import pytest
from postroom.core.control.client import RpcClient
from postroom.gui.transport import (
    AgentAuth,
    AuthenticationFailedError,
    ConnectFailedError,
    HostKeyChangedError,
    HostKeyInfo,
    HostKeyRejectedError,
    KeyFileAuth,
    PasswordAuth,
    RemoteCommand,
    RemoteCommandNotFoundError,
    SshOptions,
)
from postroom.gui.transport.known_hosts import load_known_hosts
from postroom.gui.transport.ssh import terrapin_warning

from tests.support.mta import free_port

from .conftest import Connect, remote_command
from .sshd import SshServer, keygen


def openssh_fingerprint(pub_file: Path) -> str:
    blob = base64.b64decode(pub_file.read_text().split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_an_unknown_host_key_is_refused_until_accepted(
    make_transport: Connect, sshd: SshServer, tmp_path: Path
) -> None:
    own = tmp_path / "postroom" / "known_hosts"
    asked: list[HostKeyInfo] = []

    def refuse(info: HostKeyInfo) -> bool:
        asked.append(info)
        return False

    start = len(sshd.log)
    transport = make_transport(
        known_hosts=own, on_unknown_host_key=refuse, auth=PasswordAuth("never-sent")
    )
    with pytest.raises(HostKeyRejectedError, match="not known"):
        transport.connect()
    closed = sshd.wait_for_log("Connection closed by", "Connection reset by", start=start)
    assert "authenticating user" not in closed and "[preauth]" in closed
    assert not [line for line in sshd.log[start:] if "password" in line or "Accepted" in line]
    (info,) = asked
    expected = openssh_fingerprint(sshd.base / "host_ed25519.pub")
    assert (info.host, info.port, info.address) == ("127.0.0.1", sshd.port, "127.0.0.1")
    assert (info.key_type, info.fingerprint) == ("ssh-ed25519", expected)
    assert info.known_hosts_name == f"[127.0.0.1]:{sshd.port}"
    assert not own.exists()

    with pytest.raises(HostKeyRejectedError):
        make_transport(known_hosts=own, on_unknown_host_key=None).connect()

    accepting = make_transport(
        known_hosts=own, on_unknown_host_key=lambda i: asked.append(i) or True
    )
    accepting.connect()
    assert len(asked) == 2
    saved = own.read_text().split()
    assert saved[0] == f"[127.0.0.1]:{sshd.port}" and saved[1] == "ssh-ed25519"
    assert os.stat(own).st_mode & 0o777 == 0o600
    client = RpcClient(accepting, timeout=60)
    assert client.call("server.info")["protocol"] == 1
    client.close()

    again = make_transport(known_hosts=own, on_unknown_host_key=lambda i: asked.append(i) or True)
    again.connect()
    assert len(asked) == 2  # known now: no question


def test_a_changed_host_key_is_a_hard_failure_with_both_fingerprints(
    make_transport: Connect, sshd: SshServer, tmp_path: Path
) -> None:
    impostor = keygen(tmp_path / "other_host_key")
    own = tmp_path / "known_hosts_changed"
    public = (tmp_path / "other_host_key.pub").read_text().split()
    own.write_text(f"[127.0.0.1]:{sshd.port} {public[0]} {public[1]}\n")
    asked: list[HostKeyInfo] = []
    transport = make_transport(
        known_hosts=own, on_unknown_host_key=lambda i: asked.append(i) or True
    )
    with pytest.raises(HostKeyChangedError) as info:
        transport.connect()
    error = info.value
    assert error.old_fingerprint == openssh_fingerprint(impostor.with_suffix(".pub"))
    assert error.new_fingerprint == openssh_fingerprint(sshd.base / "host_ed25519.pub")
    assert error.old_fingerprint in str(error) and error.new_fingerprint in str(error)
    assert "CHANGED" in str(error) and "man-in-the-middle" in str(error)
    assert asked == []
    assert own.read_text().split()[2] == public[1]  # nothing replaced
    assert f"from {own} and" in str(error)


def test_user_known_hosts_with_hashed_and_broken_lines(
    make_transport: Connect, sshd: SshServer, tmp_path: Path
) -> None:
    public = (sshd.base / "host_ed25519.pub").read_text().split()
    hashed = paramiko.HostKeys.hash_host(f"[127.0.0.1]:{sshd.port}")
    user_file = tmp_path / "ssh_known_hosts"
    user_file.write_text(
        "# comment\n"
        "broken-line-without-key\n"
        "host.example ssh-ed25519 !!!not-base64!!!\n"
        "@revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1bGxzaGl0\n"
        f"{hashed} {public[0]} {public[1]}\n"
    )
    transport = make_transport(
        known_hosts=tmp_path / "empty", user_known_hosts=user_file, on_unknown_host_key=None
    )
    transport.connect()
    assert len(transport.warnings) == 3
    assert all(str(user_file) in w for w in transport.warnings)
    assert any("@revoked" in w for w in transport.warnings)
    known = load_known_hosts([user_file])
    assert known.lookup(f"[127.0.0.1]:{sshd.port}")


def test_a_wrong_key_gives_its_own_error(make_transport: Connect, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(AuthenticationFailedError) as info:
        make_transport(auth=KeyFileAuth(stranger)).connect()
    assert info.value.method == "key"
    assert str(info.value).startswith(f"the server refused the key {stranger}")


def test_a_wrong_password_gives_its_own_error(make_transport: Connect) -> None:
    with pytest.raises(AuthenticationFailedError) as info:
        make_transport(auth=PasswordAuth("certainly-not-the-password")).connect()
    assert info.value.method == "password"
    assert str(info.value).startswith("wrong password for ")
    assert "certainly-not" not in repr(PasswordAuth("certainly-not-the-password"))


def test_an_agent_without_keys_gives_its_own_error(
    make_transport: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(AuthenticationFailedError) as info:
        make_transport(auth=AgentAuth()).connect()
    assert info.value.method == "agent" and "agent" in str(info.value)


def test_an_encrypted_key_asks_for_its_passphrase(
    make_transport: Connect, sshd: SshServer, tmp_path: Path
) -> None:
    locked = keygen(tmp_path / "locked", passphrase="open sesame")
    with sshd.authorized_keys.open("a") as handle:
        handle.write((tmp_path / "locked.pub").read_text())
    asked: list[Path] = []

    def answer(path: Path) -> str:
        asked.append(path)
        return "open sesame"

    transport = make_transport(auth=KeyFileAuth(locked), ask_passphrase=answer)
    transport.connect()
    assert asked == [locked]
    with pytest.raises(AuthenticationFailedError) as info:
        make_transport(auth=KeyFileAuth(locked), ask_passphrase=lambda p: "wrong").connect()
    assert info.value.method == "passphrase" and "wrong passphrase" in str(info.value)
    with pytest.raises(AuthenticationFailedError) as info:
        make_transport(auth=KeyFileAuth(locked), ask_passphrase=lambda p: None).connect()
    assert info.value.method == "passphrase"


def test_a_missing_remote_command_says_what_was_looked_for(make_transport: Connect) -> None:
    remote = RemoteCommand(programs=("/nonexistent/postroom-mta", "postroom-mta-not-installed"))
    with pytest.raises(RemoteCommandNotFoundError) as info:
        make_transport(remote=remote).connect()
    assert str(info.value) == (
        "postroom-mta not found on host 127.0.0.1 "
        "(looked for /nonexistent/postroom-mta, postroom-mta-not-installed)"
    )


def test_user_input_never_reaches_the_remote_shell(make_transport: Connect, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = f"/nowhere/x.toml'; touch {marker}; echo '$(touch {marker})`touch {marker}`"
    transport = make_transport(remote=remote_command(Path(evil)))
    transport.connect()
    client = RpcClient(transport, timeout=60)
    info = client.call("server.info")
    client.close()
    assert info["config_path"] == evil and info["config_valid"] is False
    assert not marker.exists()
    with pytest.raises(ValueError, match="line break"):
        RemoteCommand(config="a\nb").command_line()


def test_nothing_listening_is_a_connect_error(make_transport: Connect) -> None:
    with pytest.raises(ConnectFailedError, match="cannot connect"):
        make_transport(port=free_port()).connect()


def test_terrapin_exposure_is_warned_about() -> None:
    def session(strict: bool, cipher: str, mac: str) -> object:
        return SimpleNamespace(agreed_on_strict_kex=strict, local_cipher=cipher, local_mac=mac)

    etm = "hmac-sha2-256-etm@openssh.com"
    assert "Terrapin" in (terrapin_warning(session(False, "aes128-cbc", etm), "mx1") or "")
    assert terrapin_warning(session(True, "aes128-cbc", etm), "mx1") is None
    assert terrapin_warning(session(False, "aes128-ctr", "hmac-sha2-256"), "mx1") is None


def test_the_real_server_negotiates_strict_kex(make_transport: Connect) -> None:
    transport = make_transport()
    transport.connect()
    assert not [w for w in transport.warnings if "Terrapin" in w]


def test_a_server_that_never_greets_times_out(make_transport: Connect) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        transport = make_transport(port=port, options=SshOptions(banner_timeout=0.5))
        with pytest.raises(ConnectFailedError, match=r"no SSH greeting within 0\.5 s"):
            transport.connect()
