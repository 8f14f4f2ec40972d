"""Builders for the alias tests: the transcripts' aliases file, safe folders, expanders."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from postroom.core.aliases import (
    Account,
    AliasTable,
    Expander,
    ExpandLimits,
    ForwardPolicy,
    IncludePolicy,
    StaticUsers,
    parse_aliases,
)
from postroom.core.aliases.table import RunAs

from tests.peers.sendmail import cache_root

HOST = "mail.example.test"
DOMAINS = (HOST, "example.test")

# sendmail-transcripts.md 10, with <testdir> = a 13-character path and <cmd> a
# 14-character command: the only lengths that give the transcript's
# "15 aliases, longest 34 bytes, 378 bytes total" (6 * 13 + 14 = 92).
TESTDIR = "/srv/testdir1"
CMD = "cat >/dev/null"


def transcript_aliases(testdir: str = TESTDIR, cmd: str = CMD) -> str:
    return (
        "# test aliases\n"
        "postmaster: root\n"
        "MAILER-DAEMON: postmaster\n"
        f"root: {testdir}/root.mbox\n"
        "staff: alice,\n"
        "\tbob,\n"
        "  carol\n"
        "longlist: alice, \\\n"
        "bob\n"
        f"team: :include:{testdir}/team.list\n"
        f'pipe: "|{cmd}"\n'
        f"filed: {testdir}/filed.mbox\n"
        f"alice: {testdir}/alice.mbox\n"
        f"bob: {testdir}/bob.mbox\n"
        f"carol: {testdir}/carol.mbox\n"
        "biglist: alice, bob\n"
        "owner-biglist: carol\n"
        "gone: error:nouser 550 This user is gone\n"
        "gone2: error:5.1.1:550 Moved away\n"
    )


@contextmanager
def safe_dir() -> Iterator[Path]:
    """A fresh folder whose whole path is owned by root or us and writable by nobody else.

    Sendmail-style safety checks (and ours) refuse anything below a world-writable
    folder such as /tmp, so the folder lives in the test-peer cache (mode 0700).
    """
    parent = cache_root() / "scratch"
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="alias-", dir=parent))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def table_from(text: str, *, trusted: bool = True, source: Path | None = None) -> AliasTable:
    parsed = parse_aliases(
        text.encode(), str(source or "/etc/postroom/aliases"), local_domains=DOMAINS
    )
    table = AliasTable.from_source(parsed, trusted=trusted, run_as=RunAs("nobody", 65534, 65534))
    return table if source is None else dataclasses.replace(table, source=source)


def me(name: str = "tester", home: Path | None = None, shell: str = "/bin/sh") -> Account:
    """An account with our own uid (safety checks accept files we own)."""
    return Account(name, os.geteuid(), os.getegid(), str(home or "/nonexistent"), shell, True)


def expander(
    table: AliasTable,
    users: Iterable[Account] = (),
    *,
    local: Iterable[str] = ("alice", "bob", "carol", "root", "dave"),
    forward: bool = False,
    include_dirs: Iterable[Path] = (),
    allow_include_programs: bool = False,
    max_depth: int = 10,
    max_fanout: int = 1000,
    shells: frozenset[str] | None = None,
    reader: tuple[int, tuple[int, ...]] | None = None,
) -> Expander:
    accounts = [Account(n) for n in local] + list(users)
    return Expander(
        table,
        users=StaticUsers(accounts),
        local_domains=DOMAINS,
        host_name=HOST,
        forward=ForwardPolicy(enabled=forward, host_name=HOST),
        include=IncludePolicy(tuple(include_dirs), allow_programs=allow_include_programs),
        limits=ExpandLimits(max_depth, max_fanout),
        shells=shells,
        reader=reader,
    )
