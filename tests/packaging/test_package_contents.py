"""The .deb's fields and layout, the lean bundle, the systemd unit (issue 9, points 1, 2, 4)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

from .conftest import REPO, Built
from .support import resolve

LINK_NAMES = (
    "mailq",
    "newaliases",
    "hoststat",
    "purgestat",
    "mailstats",
    "praliases",
    "vacation",
    "makemap",
)
UNUSED_QT = ("WebEngine", "Qt63D", "Quick", "Qml", "Multimedia", "Pdf", "Designer")
BUNDLE_BUDGET_MB = 220


def field(deb: Path, name: str) -> str:
    done = subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_deb_is_named_and_versioned_from_the_project(built: Built) -> None:
    with open(REPO / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert built.deb.name == f"postroom_{version}_{arch}.deb"
    assert field(built.deb, "Package") == "postroom"
    assert field(built.deb, "Version") == version
    assert field(built.deb, "Architecture") == arch
    depends = field(built.deb, "Depends")
    assert depends.startswith("libc6 (>= 2.")
    # The MTA needs no display stack: Qt's system libraries are only recommended.
    assert "libx11" not in depends and "libxcb" not in depends
    assert "libxcb1" in field(built.deb, "Recommends")


def test_the_bundle_holds_both_programs_and_is_lean(built: Built) -> None:
    for name in ("postroom", "postroom-mta"):
        program = built.bundle / name
        assert program.is_file() and not program.is_symlink() and os.access(program, os.X_OK)
    names = [p.name for p in built.bundle.rglob("*")]
    unused = sorted({n for n in names for q in UNUSED_QT if q in n and n.startswith("libQt6")})
    assert unused == [], f"unused Qt modules in the bundle: {unused}"
    size = sum(p.lstat().st_size for p in built.bundle.rglob("*") if not p.is_dir())
    assert size < BUNDLE_BUDGET_MB * 2**20, f"bundle is {size / 2**20:.0f} MB"


def test_commands_and_link_names_lead_into_the_bundle(installed: Path) -> None:
    assert os.readlink(installed / "usr/bin/postroom") == "/opt/postroom/postroom"
    assert resolve(installed, "/usr/bin/postroom") == installed / "opt/postroom/postroom"
    assert os.readlink(installed / "usr/sbin/postroom-mta") == "/opt/postroom/postroom-mta"
    mta = installed / "opt/postroom/postroom-mta"
    assert resolve(installed, "/usr/sbin/postroom-mta") == mta
    for name in LINK_NAMES:
        link = installed / "usr/lib/postroom/bin" / name
        assert os.readlink(link) == "/opt/postroom/postroom-mta"
        # never in PATH, where a system Sendmail's (or the system MTA's) command lives
        assert not (installed / "usr/sbin" / name).exists()
        assert not (installed / "usr/bin" / name).exists()


def test_conffiles_modes_desktop_entry_and_icons(installed: Path) -> None:
    conffiles = (installed / "var/lib/dpkg/info/postroom.conffiles").read_text().split()
    assert conffiles == [
        "/etc/postroom/postroom.toml",
        "/etc/postroom/aliases",
        "/etc/postroom/authusers",
    ]
    modes = {p: stat.S_IMODE(os.stat(installed / p.lstrip("/")).st_mode) for p in conffiles}
    assert modes == {
        "/etc/postroom/postroom.toml": 0o644,
        "/etc/postroom/aliases": 0o644,
        "/etc/postroom/authusers": 0o600,  # holds password hashes; the core refuses more
    }
    desktop = (installed / "usr/share/applications/postroom.desktop").read_text()
    assert "Exec=postroom\n" in desktop and "Icon=postroom\n" in desktop
    assert (installed / "usr/share/icons/hicolor/scalable/apps/postroom.svg").is_file()
    assert (installed / "usr/share/icons/hicolor/256x256/apps/postroom.png").is_file()
    lib = installed / "opt/postroom/_internal"
    assert stat.S_IMODE(os.stat(lib / "libpython3.11.so.1.0").st_mode) == 0o644


def test_systemd_unit_runs_the_foreground_daemon_and_verifies(
    installed: Path, tmp_path: Path
) -> None:
    unit = (installed / "lib/systemd/system/postroom-mta.service").read_text()
    lines = unit.splitlines()
    assert "ExecStart=/usr/sbin/postroom-mta -bD -q30m" in lines
    assert "ExecReload=/bin/kill -HUP $MAINPID" in lines
    assert "WantedBy=multi-user.target" in lines
    assert any(line.startswith("CapabilityBoundingSet=") for line in lines)
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is part of the test machine (package systemd)"
    # Verified as installed, except that ExecStart names the root's copy of the program.
    copy = tmp_path / "postroom-mta.service"
    program = resolve(installed, "/usr/sbin/postroom-mta")
    copy.write_text(unit.replace("/usr/sbin/postroom-mta", str(program)))
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "postroom" in line] == []
