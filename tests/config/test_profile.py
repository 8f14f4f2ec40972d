"""The embedded profile: created once, complete, private, loadable, never overwritten."""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from postroom.core.config.certs import generate_self_signed
from postroom.core.config.loader import load_config
from postroom.core.config.profile import (
    default_config_path,
    embedded_profile_dir,
    ensure_embedded_profile,
    login_name,
)
from postroom.core.policy.auth_users import AuthUsers
from postroom.core.policy.relay import RcptVerdict, RelayPolicy


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(base: Path) -> dict[str, tuple[int, bytes | None]]:
    return {
        str(p.relative_to(base)): (mode(p), p.read_bytes() if p.is_file() else None)
        for p in sorted(base.rglob("*"))
    }


def test_creates_a_complete_private_profile(tmp_path: Path) -> None:
    base = tmp_path / "data" / "postroom"
    config_path = ensure_embedded_profile(base)
    assert config_path == base / "postroom.toml"
    for folder in ["", "mqueue", "mqueue/.hoststat", "spool", "vacation", "certs"]:
        assert (base / folder).is_dir() and mode(base / folder) == 0o700, folder
    for name in ["postroom.toml", "statistics", "postroom.log", "aliases", "authusers",
                 "credentials.txt", "certs/server.key"]:  # fmt: skip
        assert mode(base / name) == 0o600, name
    assert mode(base / "certs/server.pem") == 0o644
    assert not [p for p in base.rglob("*.tmp")]

    c = load_config(config_path)
    user = login_name()
    assert c.queue_directory == base / "mqueue"
    assert c.host_status_directory == base / "mqueue/.hoststat"
    assert c.alias_file == base / "aliases" and c.status_file == base / "statistics"
    assert c.host_name == "localhost"
    assert c.local_domains == {"localhost", "localhost.localdomain"}
    assert c.local_users == {user}
    assert [(p.name, p.addr, p.port) for p in c.daemon_ports] == [
        ("MTA", "127.0.0.1", 2525),
        ("MSA", "127.0.0.1", 2587),
    ]
    assert c.daemon_ports[1].requires_auth and c.daemon_ports[1].no_etrn
    assert [str(n) for n in c.relay_from] == ["127.0.0.0/8", "::1/128"]
    assert c.warnings == ()
    aliases = (base / "aliases").read_text()
    assert f"postmaster: {user}\n" in aliases and "MAILER-DAEMON: postmaster\n" in aliases


def test_certificate_loads_and_names_localhost(tmp_path: Path) -> None:
    c = load_config(ensure_embedded_profile(tmp_path / "p"))
    assert c.server_cert_file is not None and c.server_key_file is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(c.server_cert_file, c.server_key_file)
    cert = x509.load_pem_x509_certificate(c.server_cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime.days >= 3650


def test_generated_user_authenticates(tmp_path: Path) -> None:
    base = tmp_path / "p"
    c = load_config(ensure_embedded_profile(base))
    fields = dict(
        line.split(": ", 1)
        for line in (base / "credentials.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert c.auth_users_file is not None
    users = AuthUsers.load(c.auth_users_file)
    assert users.users == {fields["user"]} == {login_name()}
    assert users.verify(fields["user"], fields["password"])
    assert not users.verify(fields["user"], fields["password"] + "x")


def test_second_call_changes_nothing(tmp_path: Path) -> None:
    base = tmp_path / "p"
    ensure_embedded_profile(base)
    before = snapshot(base)
    assert ensure_embedded_profile(base) == base / "postroom.toml"
    assert snapshot(base) == before


def test_existing_files_are_never_replaced(tmp_path: Path) -> None:
    base = tmp_path / "p"
    config = ensure_embedded_profile(base)
    config.write_text('QueueDirectory = "mine"\n')
    (base / "aliases").write_text("postmaster: someone\n")
    (base / "credentials.txt").unlink()
    ensure_embedded_profile(base)
    assert config.read_text() == 'QueueDirectory = "mine"\n'
    assert (base / "aliases").read_text() == "postmaster: someone\n"
    assert not (base / "credentials.txt").exists()  # no new password for the old hash


def test_missing_parts_are_added(tmp_path: Path) -> None:
    base = tmp_path / "p"
    ensure_embedded_profile(base)
    (base / "statistics").unlink()
    (base / "spool").rmdir()
    ensure_embedded_profile(base)
    assert (base / "statistics").is_file() and (base / "spool").is_dir()


def test_relay_policy_from_profile(tmp_path: Path) -> None:
    c = load_config(ensure_embedded_profile(tmp_path / "p"))
    policy = RelayPolicy(
        local_domains=c.local_domains,
        relay_domains=c.relay_domains,
        relay_from=c.relay_from,
        local_user_known=c.local_users.__contains__,
    )
    user = login_name()
    ok = policy.check_recipient(f"{user}@localhost", client_ip="192.0.2.1", authenticated=False)
    assert ok.verdict is RcptVerdict.LOCAL
    out = policy.check_recipient("x@remote.example", client_ip="127.0.0.1", authenticated=False)
    assert out.verdict is RcptVerdict.RELAY


def test_default_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_config_path(0) == Path("/etc/postroom/postroom.toml")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_config_path(1000) == tmp_path / "xdg/postroom/postroom.toml"
    assert embedded_profile_dir() == tmp_path / "xdg/postroom"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_config_path(1000) == tmp_path / "home/.local/share/postroom/postroom.toml"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_config_path(1000) == tmp_path / "home/.local/share/postroom/postroom.toml"
    assert default_config_path() == default_config_path(os.geteuid())


def test_profile_without_base_uses_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert ensure_embedded_profile() == tmp_path / "xdg/postroom/postroom.toml"
    load_config(tmp_path / "xdg/postroom/postroom.toml")


def test_generate_self_signed_exclusive(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "c.key"
    generate_self_signed(cert, key, ["mail.example.test", "::1"])
    first = cert.read_bytes()
    with pytest.raises(FileExistsError):
        generate_self_signed(cert, key, ["x.example"], exclusive=True)
    assert cert.read_bytes() == first
    generate_self_signed(cert, key, ["x.example"])
    assert cert.read_bytes() != first
    with pytest.raises(ValueError):
        generate_self_signed(cert, key, [])
