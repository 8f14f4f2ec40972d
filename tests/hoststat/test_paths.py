"""Host name <-> path mapping (SENDMAIL.md section 2, Sendmail's mci.c)."""

from __future__ import annotations

from pathlib import Path

import pytest
from postroom.core.hoststat import HostStatusStore, InvalidHostNameError
from postroom.core.hoststat.paths import host_from_path, walk


@pytest.mark.parametrize(
    ("host", "rel"),
    [
        ("host.example.com", "com./example./host"),
        ("HOST.Example.COM", "com./example./host"),
        ("host.example.com.", "com./example./host"),
        ("host.example.com...", "com./example./host"),
        ("[127.0.0.1]", "1./0./0./127"),
        ("[10.1.2.3].", "3./2./1./10"),
        ("localhost", "localhost"),
        ("a/b.example", "example./a:b"),
        ("[IPv6:::1]", "ipv6:::1"),
        ("[::1]", "::1"),
    ],
)
def test_path_for(tmp_path: Path, host: str, rel: str) -> None:
    assert HostStatusStore(tmp_path).path_for(host) == tmp_path / rel


@pytest.mark.parametrize(
    "host",
    [
        "",
        ".example.com",
        "a..example.com",
        "[999.1.1.1]",
        "[255.255.255.255]",  # inet_addr's INADDR_NONE: Sendmail refuses it too
        "[not-an-address]",
        "[]",
        "x" * 256,
    ],
)
def test_path_for_rejects(tmp_path: Path, host: str) -> None:
    with pytest.raises(InvalidHostNameError):
        HostStatusStore(tmp_path).path_for(host)
    with pytest.raises(ValueError):  # also a ValueError
        HostStatusStore(tmp_path).path_for(host)


@pytest.mark.parametrize(
    ("path", "host"),
    [
        (b"/q/.hoststat/com./example./host", b"host.example.com"),
        (b"/q/.hoststat/1./0./0./127", b"127.0.0.1"),
        (b"/q/.hoststat/localhost", b"localhost"),
        (b"/q/.hoststat/b.", b"b"),  # a file's own trailing dot is dropped
        (b"/q/.hoststat/a./Upper.", b"Upper.a"),  # case kept on the way back
    ],
)
def test_host_from_path(path: bytes, host: bytes) -> None:
    assert host_from_path(path) == host


def test_walk_skips_dot_names_and_does_not_loop(tmp_path: Path) -> None:
    (tmp_path / "com./example.").mkdir(parents=True)
    (tmp_path / "com./example./host").write_text("V0\n.\n")
    (tmp_path / "com./.hidden").write_text("V0\n.\n")
    (tmp_path / ".postroom-tmp-x").write_text("V0\n.\n")
    (tmp_path / "com./example./loop.").symlink_to(tmp_path / "com.")
    found = [(p, h) for p, h, _ in walk(bytes(tmp_path))]
    assert found == [(bytes(tmp_path / "com./example./host"), b"host.example.com")]
