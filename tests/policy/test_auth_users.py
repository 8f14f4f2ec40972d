"""The AuthUsersFile: format, trust checks, constant-time verification, add_user."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from postroom.core.policy.auth_users import AuthUsers, add_user, hash_password
from postroom.core.policy.errors import AuthUsersError, PolicyError


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "authusers"
    add_user(path, "alice", "correct horse")
    add_user(path, "bob@example.test", "päss wörd")
    return path


def test_add_and_verify(users_file: Path) -> None:
    assert (users_file.stat().st_mode & 0o777) == 0o600
    users = AuthUsers.load(users_file)
    assert users.users == {"alice", "bob@example.test"}
    assert users.verify("alice", "correct horse")
    assert users.verify("bob@example.test", "päss wörd".encode())
    assert not users.verify("alice", "wrong")
    assert not users.verify("alice", "")
    assert not users.verify("nobody", "correct horse")
    assert not users.verify("Alice", "correct horse")  # user names are exact


def test_line_format(users_file: Path) -> None:
    line = next(x for x in users_file.read_text().splitlines() if x.startswith("alice:"))
    _user, _, hashed = line.partition(":")
    fields = hashed.split("$")
    assert fields[0] == "scrypt" and len(fields) == 6
    assert int(fields[1]) == 16384 and fields[2:4] == ["8", "1"]


def test_hash_password_salts() -> None:
    assert hash_password("x") != hash_password("x")


def test_add_existing_user(users_file: Path) -> None:
    with pytest.raises(AuthUsersError, match='user "alice" already exists'):
        add_user(users_file, "alice", "other")
    add_user(users_file, "alice", "new password", replace=True)
    users = AuthUsers.load(users_file)
    assert users.verify("alice", "new password") and not users.verify("alice", "correct horse")
    assert len(users) == 2


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


GOOD = hash_password("pw")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (f"# comment\n\nalice:{GOOD}\nalice:{GOOD}\n", 4, 'user "alice" is listed twice'),
        ("alice\n", 1, "expected user:scrypt"),
        (f"bad user:{GOOD}\n", 1, "must not contain spaces"),
        (":" + GOOD + "\n", 1, "user name must be 1-256 characters"),
        ("alice:md5$abc\n", 1, "expected scrypt$N$r$p$salt$hash"),
        ("alice:scrypt$1000$8$1$AAAAAAAAAAA=$" + "A" * 44 + "\n", 1, "power of two"),
        ("alice:scrypt$x$8$1$AAAA$AAAA\n", 1, "whole numbers"),
        ("alice:scrypt$1048576$64$1$AAAAAAAAAAA=$" + "A" * 44 + "\n", 1, "MiB"),
        ("alice:scrypt$16384$8$1$!!!$AAAA\n", 1, "base64"),
        ("alice:scrypt$16384$8$1$AAAA$AAAA\n", 1, "salt must be at least 8 bytes"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _write(tmp_path / "users", text)
    with pytest.raises(AuthUsersError) as info:
        AuthUsers.load(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert message in str(info.value)
    assert isinstance(info.value, PolicyError)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_bytes(b"# ok\n\xff\xfe:x\n")
    os.chmod(path, 0o600)
    with pytest.raises(AuthUsersError, match=r":2: not valid UTF-8"):
        AuthUsers.load(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o606])
def test_group_or_world_access_is_refused(users_file: Path, mode: int) -> None:
    os.chmod(users_file, mode)
    with pytest.raises(AuthUsersError) as info:
        AuthUsers.load(users_file)
    text = str(info.value)
    assert text.startswith(f"{users_file}: ")
    assert "password hashes" in text or "world-writable" in text


def test_other_owner_is_refused(users_file: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    os.chown(users_file, 65534, 65534)
    with pytest.raises(AuthUsersError, match="must be owned by root"):
        AuthUsers.load(users_file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AuthUsersError, match="cannot read"):
        AuthUsers.load(tmp_path / "absent")


def test_add_user_refuses_bad_names(tmp_path: Path) -> None:
    for name in ["", "a:b", "a b", "a\nb"]:
        with pytest.raises(AuthUsersError):
            add_user(tmp_path / "users", name, "pw")
    assert not (tmp_path / "users").exists()
