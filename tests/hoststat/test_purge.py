"""purgestat semantics (SENDMAIL.md section 2, Sendmail 8.17's mci_purge_persistent)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from postroom.core.hoststat import (
    HostStatus,
    HostStatusPermissionError,
    HostStatusStore,
    check_purge_permission,
    purge,
    purge_allowed,
)

# Removing a file sets its folder's mtime from the real clock, so "now" is the
# real time at import; every other age is set explicitly relative to it.
NOW = int(time.time())
HOUR = 3600


def age(path: Path, seconds: int) -> None:
    os.utime(path, (NOW - seconds, NOW - seconds), follow_symlinks=False)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def build(root: Path) -> None:
    """Old and young files in old folders (mtimes set after everything is written)."""
    store = HostStatusStore(root)
    for host in ("old1.example.com", "old2.example.com", "young.example.com",
                 "c.b.a.org", "localhost"):  # fmt: skip
        store.write(HostStatus(host, NOW - 2 * HOUR, errno=111, exit_status=75))
    (root / "net.").mkdir()  # an old folder with nothing in it
    (root / "junk").mkdir()  # old, but not a label folder (no trailing dot)
    for path in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        age(path, 2 * HOUR)
    age(root / "com./example./young", 60)


def test_purge_removes_old_files_and_keeps_fresh_folders(tmp_path: Path) -> None:
    build(tmp_path)
    removed = purge(tmp_path, timeout=30 * 60, now=NOW)
    assert removed == 4
    # Folders whose files were just removed have a fresh mtime and survive; the
    # old empty label folder goes; a folder without the trailing dot never goes.
    assert tree(tmp_path) == {
        "com.", "com./example.", "com./example./young",
        "org.", "org./a.", "org./a./b.",
        "junk",
    }  # fmt: skip
    assert tmp_path.is_dir()


def test_a_later_purge_removes_the_emptied_folders(tmp_path: Path) -> None:
    build(tmp_path)
    purge(tmp_path, timeout=30 * 60, now=NOW)
    # the real clock set the emptied folders' mtimes; look from far enough ahead
    later = int(os.stat(tmp_path / "org./a./b.").st_mtime) + 31 * 60
    assert purge(tmp_path, timeout=30 * 60, now=later) == 1  # "young" is old by now
    assert tree(tmp_path) == {"junk"}


def test_nothing_is_old_enough(tmp_path: Path) -> None:
    build(tmp_path)
    before = tree(tmp_path)
    assert purge(tmp_path, timeout=3 * HOUR, now=NOW) == 0
    assert tree(tmp_path) == before
    assert purge(tmp_path, timeout=2 * HOUR, now=NOW) == 0  # "<= timeout" is kept


@pytest.mark.parametrize(
    ("name", "folder_goes"), [(".postroom-tmp-h-dead", True), (".keep", False)]
)
def test_stale_temp_file_does_not_pin_its_folder(
    tmp_path: Path, name: str, folder_goes: bool
) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("h.example", 1))
    dotfile = tmp_path / "example." / name
    dotfile.write_text("V0\n")
    for path in (dotfile, tmp_path / "example./h", tmp_path / "example."):
        age(path, 2 * HOUR)
    assert purge(tmp_path, timeout=60, now=NOW) == 1
    # our own debris goes; anything else with a dot is never looked at (as in Sendmail)
    assert dotfile.exists() != folder_goes
    assert (tmp_path / "example.").is_dir()  # emptied just now: survives this run
    later = int(os.stat(tmp_path / "example.").st_mtime) + 120
    assert purge(tmp_path, timeout=60, now=later) == 0
    assert (tmp_path / "example.").exists() != folder_goes


def test_missing_directory(tmp_path: Path) -> None:
    assert purge(tmp_path / "nope", timeout=60, now=NOW) == 0


def test_permission() -> None:
    assert purge_allowed(0)
    assert purge_allowed(8, trusted_uid=8)
    assert not purge_allowed(8)
    assert not purge_allowed(8, trusted_uid=9)
    check_purge_permission(0)
    check_purge_permission(1001, trusted_uid=1001)


def test_permission_denied_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="postroom.core.hoststat")
    with pytest.raises(HostStatusPermissionError) as info:
        check_purge_permission(1001)
    assert str(info.value) == "Permission denied (real uid not trusted)"
    assert info.value.uid == 1001
    assert "user 1001 attempted to purge host status" in caplog.text
