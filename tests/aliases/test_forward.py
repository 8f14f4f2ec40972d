""".forward: Sendmail's safety checks on the file and its folders; unsafe ones ignored and noted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.aliases import Account, ControllingUser, ForwardPolicy
from postroom.core.aliases.forward import candidates, read_forward

from tests.aliases.helpers import HOST, expander, me, safe_dir, table_from


@pytest.fixture
def homes() -> Iterator[Path]:
    with safe_dir() as base:
        (base / "home").mkdir(mode=0o755)
        yield base / "home"


def home_of(homes: Path, name: str, forward: str | None, mode: int = 0o644) -> Account:
    home = homes / name
    home.mkdir(mode=0o755)
    if forward is not None:
        path = home / ".forward"
        path.write_text(forward)
        os.chmod(path, mode)
    return me(name, home)


def run(account: Account, *more: Account, aliases: str = "x: y\n", **kw: object):
    ex = expander(table_from(aliases), [account, *more], local=(), forward=True, **kw)  # type: ignore[arg-type]
    return ex.expand(account.name)


def kinds(expansion) -> list[tuple[str, str]]:
    return [(d.kind.value, d.address) for d in expansion.deliveries]


def test_forward_with_copy_and_vacation(homes: Path) -> None:
    tester = home_of(homes, "tester", '\\tester, "|/usr/bin/vacation tester"\n')
    result = run(tester)
    assert kinds(result) == [("local", "tester"), ("prog", "|/usr/bin/vacation tester")]
    prog = result.deliveries[1]
    assert prog.owner == ControllingUser("tester", tester.uid, tester.gid, "tester")
    assert result.aliased and result.failures == () and result.notes == ()


def test_own_name_without_backslash_is_the_mailbox(homes: Path) -> None:
    result = run(home_of(homes, "tester", "tester, other@remote.example\n"))
    assert kinds(result) == [("local", "tester"), ("esmtp", "other@remote.example")]


@pytest.mark.parametrize(
    ("home_mode", "file_mode", "why"),
    [
        (0o777, 0o644, "World writable directory"),
        (0o775, 0o644, "Group writable directory"),
        (0o755, 0o646, "World writable file"),
        (0o755, 0o664, "Group writable file"),
    ],
)
def test_unsafe_forward_is_ignored_and_noted(
    homes: Path, home_mode: int, file_mode: int, why: str
) -> None:
    tester = home_of(homes, "tester", '"|/usr/bin/evil"\n', file_mode)
    os.chmod(tester.home, home_mode)
    result = run(tester)
    assert kinds(result) == [("local", "tester")]
    (note,) = result.notes
    assert note.startswith(f"forward {tester.home}/.forward: ") and note.endswith(why)


def test_symlinked_forward_is_ignored(homes: Path) -> None:
    tester = home_of(homes, "tester", None)
    real = Path(tester.home) / "real"
    real.write_text("elsewhere@remote.example\n")
    (Path(tester.home) / ".forward").symlink_to(real)
    result = run(tester)
    assert kinds(result) == [("local", "tester")]
    assert result.notes == (f"forward {tester.home}/.forward: Symbolic links not allowed",)


def test_hard_linked_forward_is_ignored(homes: Path) -> None:
    tester = home_of(homes, "tester", "elsewhere@remote.example\n")
    os.link(Path(tester.home) / ".forward", Path(tester.home) / "copy")
    assert run(tester).notes == (f"forward {tester.home}/.forward: Hard links not allowed",)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_forward_owned_by_someone_else_is_ignored(homes: Path) -> None:
    tester = home_of(homes, "tester", "elsewhere@remote.example\n")
    os.chown(Path(tester.home) / ".forward", 4242, 4242)
    (note,) = run(tester).notes
    assert "owned by uid 4242, not by" in note


def test_programs_need_a_valid_shell(homes: Path) -> None:
    tester = home_of(homes, "tester", '\\tester, "|/usr/bin/vacation tester", /tmp/file\n')
    tester = Account(tester.name, tester.uid, tester.gid, tester.home, "/bin/false", True)
    result = run(tester, shells=frozenset({"/bin/sh"}))
    assert kinds(result) == [("local", "tester")]
    assert [f.reply for f in result.failures] == [
        f'550 5.7.1 "|/usr/bin/vacation tester"... User tester@{HOST} doesn\'t have a valid'
        " shell for mailing to programs",
        f"550 5.7.1 /tmp/file... User tester@{HOST} doesn't have a valid shell for mailing"
        " to files",
    ]


def test_disabled_or_empty_forward_delivers_to_mailbox(homes: Path) -> None:
    tester = home_of(homes, "tester", "# away, but not now\n\n")
    assert kinds(run(tester)) == [("local", "tester")]
    other = home_of(homes, "other", "elsewhere@remote.example\n")
    ex = expander(table_from("x: y\n"), [other], local=(), forward=False)
    assert kinds(ex.expand("other")) == [("local", "other")]


def test_forward_loop_between_two_users(homes: Path) -> None:
    ann = home_of(homes, "ann", "ben\n")
    ben = home_of(homes, "ben", "ann\n")
    result = run(ann, ben)
    assert result.deliveries == ()
    assert [f.reply for f in result.failures] == [
        "554 5.4.6 ann... aliasing/forwarding loop broken"
    ]


def test_aliases_before_forward(homes: Path) -> None:
    tester = home_of(homes, "tester", "\\tester, copy@remote.example\n")
    ex = expander(table_from("boss: tester\n"), [tester], local=(), forward=True)
    assert kinds(ex.expand("boss")) == [("local", "tester"), ("esmtp", "copy@remote.example")]
    assert kinds(ex.expand("\\tester")) == [("local", "tester")]


def test_forward_path_macros(homes: Path) -> None:
    tester = home_of(homes, "tester", "plain@remote.example\n")
    (Path(tester.home) / ".forward.mail").write_text("hosted@remote.example\n")
    policy = ForwardPolicy(True, "$z/.forward.$w:$z/.forward:$h/unknown:relative", HOST)
    assert candidates(policy, tester) == [
        Path(tester.home) / ".forward.mail",
        Path(tester.home) / ".forward",
    ]
    result = read_forward(policy, tester)
    assert result.path == Path(tester.home) / ".forward.mail"
    assert result.data == b"hosted@remote.example\n"


def test_only_system_accounts_have_forward(homes: Path) -> None:
    virtual = Account("tester")
    assert read_forward(ForwardPolicy(True, host_name=HOST), virtual).data is None
