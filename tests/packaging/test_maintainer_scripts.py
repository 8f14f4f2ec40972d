"""Maintainer scripts: what install creates, what upgrade and remove keep, what purge removes.

Each test installs into its own throw-away root (:func:`.support.dpkg`); the scripts
run with ``DPKG_ROOT`` and never touch this system.
"""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

from .conftest import Built
from .support import dpkg

CREATED = "var/lib/postroom/created-by-package"


def mode_owner(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def fake_queued_message(root: Path) -> list[Path]:
    queue = root / "var/spool/postroom/mqueue"
    files = [queue / "qf5AQ0TOq0000001", queue / "df5AQ0TOq0000001"]
    for path in files:
        path.write_text(f"{path.name}\n")
    return files


def test_install_creates_sendmails_layout_and_records_it(built: Built, fresh_root: Path) -> None:
    dpkg(fresh_root, "-i", str(built.deb))
    mail = grp.getgrnam("mail").gr_gid
    assert mode_owner(fresh_root / "var/spool/postroom/mqueue") == (0o700, 0, 0)
    assert mode_owner(fresh_root / "var/spool/postroom/mqueue/.hoststat") == (0o700, 0, 0)
    assert mode_owner(fresh_root / "var/mail") == (0o775, 0, mail)
    assert mode_owner(fresh_root / "var/lib/postroom/statistics") == (0o600, 0, 0)
    assert (fresh_root / "var/lib/postroom/statistics").stat().st_size == 0
    assert (fresh_root / "etc/postroom/aliases.sqlite").is_file()
    assert (fresh_root / CREATED).read_text().splitlines() == [
        "d /var/lib/postroom",
        "d /var/spool/postroom",
        "d /var/spool/postroom/mqueue",
        "d /var/spool/postroom/mqueue/.hoststat",
        "d /var/mail",
        "f /var/lib/postroom/statistics",
    ]


def test_an_existing_mail_spool_is_used_as_it_is(built: Built, fresh_root: Path) -> None:
    spool = fresh_root / "var/mail"
    spool.mkdir(mode=0o755)
    os.chmod(spool, 0o2775)
    (spool / "alice").write_text("From x\n\nold mail\n")
    dpkg(fresh_root, "-i", str(built.deb))
    assert mode_owner(spool) == (0o2775, 0, 0)
    assert "d /var/mail" not in (fresh_root / CREATED).read_text()
    dpkg(fresh_root, "--purge", "postroom")
    assert (spool / "alice").read_text() == "From x\n\nold mail\n"


def test_upgrade_keeps_queue_statistics_config_edits_and_modes(
    built: Built, fresh_root: Path
) -> None:
    dpkg(fresh_root, "-i", str(built.deb))
    queued = fake_queued_message(fresh_root)
    (fresh_root / "var/lib/postroom/statistics").write_bytes(b"\x01" * 64)
    aliases = fresh_root / "etc/postroom/aliases"
    aliases.write_text(aliases.read_text() + "alice: root\n")
    os.chmod(fresh_root / "var/spool/postroom", 0o750)  # an administrator's choice
    dpkg(fresh_root, "-i", str(built.deb))  # the same version again: the upgrade path
    assert [p.read_text() for p in queued] == [f"{p.name}\n" for p in queued]
    assert (fresh_root / "var/lib/postroom/statistics").read_bytes() == b"\x01" * 64
    assert aliases.read_text().endswith("alice: root\n")
    assert mode_owner(fresh_root / "var/spool/postroom")[0] == 0o750
    assert len((fresh_root / CREATED).read_text().splitlines()) == 6  # nothing new


def test_remove_keeps_data_and_purge_removes_only_what_it_created_and_is_empty(
    built: Built, fresh_root: Path
) -> None:
    dpkg(fresh_root, "-i", str(built.deb))
    queued = fake_queued_message(fresh_root)
    dpkg(fresh_root, "--remove", "postroom")
    assert not (fresh_root / "opt/postroom").exists()
    assert all(p.is_file() for p in queued)
    assert (fresh_root / "etc/postroom/postroom.toml").is_file()  # conffiles stay on remove
    assert (fresh_root / "var/lib/postroom/statistics").is_file()

    dpkg(fresh_root, "--purge", "postroom")
    assert not (fresh_root / "etc/postroom").exists()
    assert all(p.is_file() for p in queued)  # the queue holds mail: it stays
    assert not (fresh_root / "var/spool/postroom/mqueue/.hoststat").exists()  # was empty
    assert not (fresh_root / "var/lib/postroom").exists()
    assert not (fresh_root / "var/mail").exists()  # created empty by the package


def test_purge_after_a_plain_install_leaves_nothing_behind(built: Built, fresh_root: Path) -> None:
    before = sorted(str(p.relative_to(fresh_root)) for p in fresh_root.rglob("*"))
    dpkg(fresh_root, "-i", str(built.deb))
    dpkg(fresh_root, "--purge", "postroom")
    after = sorted(
        str(p.relative_to(fresh_root))
        for p in fresh_root.rglob("*")
        if not str(p.relative_to(fresh_root)).startswith(("var/lib/dpkg", "var/log/dpkg"))
    )
    assert after == [p for p in before if not p.startswith("var/lib/dpkg")]
