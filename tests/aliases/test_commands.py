"""The CLI entry points: newaliases, praliases (with -C/-f), -bv with restrictexpand."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.aliases import (
    compiled_path,
    restricted_reader,
    run_newaliases,
    run_praliases,
    run_verify,
)
from postroom.core.config.loader import load_config
from postroom.core.config.model import Config

from tests.aliases.helpers import safe_dir


def write_config(folder: Path, *privacy: str) -> Config:
    path = folder / "postroom.toml"
    path.write_text(
        f'QueueDirectory = "{folder}/mqueue"\n'
        f'AliasFile = "{folder}/aliases"\n'
        'HostName = "mail.example.test"\n'
        'LocalDomains = ["example.test"]\n'
        'LocalUsers = ["alice", "bob"]\n'
        'DaemonPortOptions = ["Name=MTA, Port=2525, Addr=127.0.0.1"]\n'
        f'StatusFile = "{folder}/statistics"\n'
        f'MailSpoolDirectory = "{folder}/spool"\n'
        f"PrivacyOptions = {list(privacy)!r}\n".replace("'", '"')
    )
    os.chmod(path, 0o644)
    return load_config(path)


@pytest.fixture
def folder() -> Iterator[Path]:
    with safe_dir() as path:
        yield path


def streams() -> tuple[io.StringIO, io.StringIO]:
    return io.StringIO(), io.StringIO()


def test_newaliases_command(folder: Path) -> None:
    config = write_config(folder)
    (folder / "aliases").write_text("staff: alice, bob\nStaff: carol\n")
    out, err = streams()
    assert run_newaliases(config, out, err) == 0
    assert out.getvalue().splitlines() == [
        f"{folder}/aliases: line 2: Staff... Warning: duplicate alias name staff",
        f"{folder}/aliases: 2 aliases, longest 10 bytes, 25 bytes total",
    ]
    (folder / "aliases").write_text("staff alice\n")
    out, err = streams()
    assert run_newaliases(config, out, err) == 65
    assert out.getvalue() == f"{folder}/aliases: line 1: missing colon\n"
    assert "previous table stays" in err.getvalue()


def test_praliases_command(folder: Path) -> None:
    config = write_config(folder)
    (folder / "aliases").write_text("staff: alice, bob\n")
    out, err = streams()
    run_newaliases(config, out, err)
    seen: list[Path | None] = []

    def loader(path: Path | None) -> Config:
        seen.append(path)
        return config

    out, err = streams()
    assert run_praliases(["-C", str(config.path)], loader, out, err) == 0
    assert out.getvalue() == "staff:alice, bob\n@:@\n"
    assert seen == [config.path]
    out, err = streams()
    assert run_praliases(["-f", str(folder / "aliases"), "staff", "x"], loader, out, err) == 0
    assert out.getvalue() == "staff:alice, bob\nx: No such key\n"
    out, err = streams()
    assert run_praliases(["-f", str(folder / "none")], loader, out, err) == 66
    assert err.getvalue().startswith("praliases: cannot open")
    assert run_praliases(["-q"], loader, *streams()) == 64


def test_verify_command(folder: Path) -> None:
    config = write_config(folder)
    (folder / "aliases").write_text("staff: alice, bob, nobody-here\nremote: x@remote.example\n")
    run_newaliases(config, *streams())
    out, err = streams()
    assert run_verify(config, ["staff"], out, err) == 67
    assert out.getvalue().splitlines() == [
        "nobody-here... User unknown",
        "bob... deliverable: mailer local, user bob",
        "alice... deliverable: mailer local, user alice",
    ]
    out, err = streams()
    assert run_verify(config, ["remote"], out, err) == 0
    assert out.getvalue() == (
        "x@remote.example... deliverable: mailer esmtp, host remote.example,"
        " user x@remote.example\n"
    )
    assert run_verify(config, [], *streams()) == 64
    compiled_path(folder / "aliases").unlink()
    out, err = streams()
    assert run_verify(config, ["staff"], out, err) == 75
    assert "unavailable" in err.getvalue()


def test_restrictexpand_reader(folder: Path) -> None:
    assert restricted_reader(write_config(folder)) is None
    restricted = write_config(folder, "restrictexpand")
    expected = None if os.getuid() == 0 else (os.getuid(), tuple(os.getgroups()))
    assert restricted_reader(restricted) == expected
