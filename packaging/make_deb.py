"""Assemble the Debian package ``postroom_<version>_<arch>.deb`` from a finished bundle.

Owns the package's file layout (the constants below; docs/install.md lists it), its
control fields, file modes and the final ``dpkg-deb --build``.  The bundle's copies of
Debian's own libraries (listed in the manifest postroom.spec writes) are left out of the
package, which depends on those Debian packages instead: ``Depends`` for what the MTA
needs, ``Recommends`` for what only the desktop app needs, so a server can go without
the display stack.  ``libc6``'s minimum version comes from the ELF files' symbol
versions.  packaging/build calls it as
``python3 packaging/make_deb.py BUNDLE_DIR MANIFEST OUT_DIR``; it prints the .deb's path.
Standard library only, so it runs with the system's Python.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE = "postroom"
BUNDLE_HOME = "/opt/postroom"
# Sendmail's command names, linked to the MTA's program; kept out of PATH so that they
# never clobber a system Sendmail's (or the system MTA's) commands.
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
LINK_DIR = "/usr/lib/postroom/bin"
CONFFILES = {  # installed path: (source, mode)
    "/etc/postroom/postroom.toml": (HERE / "etc" / "postroom.toml", 0o644),
    "/etc/postroom/aliases": (HERE / "etc" / "aliases", 0o644),
    "/etc/postroom/authusers": (HERE / "etc" / "authusers", 0o600),
}
PLAIN_FILES = {
    "/lib/systemd/system/postroom-mta.service": HERE / "systemd" / "postroom-mta.service",
    "/usr/share/applications/postroom.desktop": ROOT / "resources" / "postroom.desktop",
    "/usr/share/icons/hicolor/scalable/apps/postroom.svg": ROOT / "resources" / "postroom.svg",
    "/usr/share/icons/hicolor/256x256/apps/postroom.png": ROOT / "resources" / "postroom.png",
    "/usr/share/doc/postroom/copyright": HERE / "debian" / "copyright",
    "/usr/share/doc/postroom/install.md": ROOT / "docs" / "install.md",
    "/usr/share/lintian/overrides/postroom": HERE / "debian" / "lintian-overrides",
}
MAN_PAGES = {  # installed path (gzipped): source
    "/usr/share/man/man1/postroom.1.gz": HERE / "man" / "postroom.1",
    "/usr/share/man/man8/postroom-mta.8.gz": HERE / "man" / "postroom-mta.8",
}
SCRIPTS = ("postinst", "prerm", "postrm")
# Libraries the GUI loads from the system (PyInstaller never bundles the GL and display
# server stacks); the MTA needs none of them, so a server may go without.
GUI_RECOMMENDS = (
    "libegl1",
    "libgl1",
    "libxcb1",
    "libwayland-client0",
    "libwayland-cursor0",
    "libwayland-egl1",
    "fonts-dejavu-core",
)
ELF_MAGIC = b"\x7fELF"
PT_INTERP = 3
_GLIBC = re.compile(rb"GLIBC_(\d+)\.(\d+)")


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()


def is_elf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == ELF_MAGIC


def glibc_needed(tree: Path) -> str:
    """The highest ``GLIBC_x.y`` symbol version any ELF file in ``tree`` asks for."""
    best = (2, 17)
    for path in tree.rglob("*"):
        if path.is_symlink() or not path.is_file() or not is_elf(path):
            continue
        for major, minor in _GLIBC.findall(path.read_bytes()):
            best = max(best, (int(major), int(minor)))
    return f"{best[0]}.{best[1]}"


@dataclass(frozen=True)
class SystemLibrary:
    """A library PyInstaller copied from the build system, and the package that owns it."""

    dest: str  # path inside the bundle
    package: str
    version: str
    use: str  # "core" (the MTA needs it) or "gui"


def _dpkg_owners(paths: list[str]) -> dict[str, str]:
    """path -> owning package, for the paths dpkg knows (``dpkg -S``)."""
    done = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True, check=False)
    owners: dict[str, str] = {}
    for line in done.stdout.splitlines():
        package, sep, path = line.partition(": ")
        if sep and "," not in package:
            owners[path.strip()] = package.split(":")[0]
    return owners


def _aliases(path: str) -> list[str]:
    """``path`` as dpkg may know it: /lib and /usr/lib are one folder on Debian 12."""
    forms = [path, os.path.realpath(path)]
    for form in list(forms):
        if form.startswith("/usr/lib/"):
            forms.append(form[len("/usr") :])
        elif form.startswith("/lib/"):
            forms.append("/usr" + form)
    return forms


def system_libraries(manifest: Path) -> list[SystemLibrary]:
    """The manifest's libraries that came from Debian packages (libpython stays bundled)."""
    entries = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        dest, src, use = line.split("\t")
        name = os.path.basename(dest)
        if src.startswith(("/usr/lib/", "/lib/")) and not name.startswith("libpython"):
            entries.append((dest, src, use))
    owners = _dpkg_owners(sorted({form for _d, src, _u in entries for form in _aliases(src)}))
    found = []
    for dest, src, use in entries:
        package = next((owners[f] for f in _aliases(src) if f in owners), None)
        if package is not None:
            found.append((dest, package, use))
    versions = _installed_versions(sorted({package for _d, package, _u in found}))
    return [SystemLibrary(dest, pkg, versions[pkg], use) for dest, pkg, use in found]


def _installed_versions(packages: list[str]) -> dict[str, str]:
    if not packages:
        return {}
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Version}\n", *packages],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


def relations(libraries: list[SystemLibrary], use: str) -> list[str]:
    """``package (>= version)`` for each package with a library of this ``use``."""
    wanted = {lib.package: lib.version for lib in libraries if lib.use == use}
    if use == "gui":
        core = {lib.package for lib in libraries if lib.use == "core"}
        wanted = {p: v for p, v in wanted.items() if p not in core}
    return [f"{package} (>= {version})" for package, version in sorted(wanted.items())]


def leave_out(bundle_root: Path, libraries: list[SystemLibrary]) -> None:
    """Remove the system libraries' copies, and links that pointed at them."""
    for lib in libraries:
        (bundle_root / "_internal" / lib.dest).unlink(missing_ok=True)
    for path in bundle_root.rglob("*"):
        if path.is_symlink() and not path.exists():
            path.unlink()


def place(tree: Path, installed: str) -> Path:
    target = tree / installed.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def copy_file(tree: Path, installed: str, source: Path, mode: int = 0o644) -> None:
    target = place(tree, installed)
    shutil.copyfile(source, target)
    os.chmod(target, mode)


def write_file(tree: Path, installed: str, data: bytes) -> None:
    target = place(tree, installed)
    target.write_bytes(data)
    os.chmod(target, 0o644)


def link(tree: Path, installed: str, points_to: str) -> None:
    os.symlink(points_to, place(tree, installed))


def is_program(path: Path) -> bool:
    """An ELF executable: it names a program interpreter (PT_INTERP); libraries do not."""
    with open(path, "rb") as f:
        header = f.read(64)
        if len(header) < 64 or header[:4] != ELF_MAGIC or header[4] != 2 or header[5] != 1:
            return False  # only 64-bit little-endian ELF is built here
        phoff, phentsize, phnum = (
            int.from_bytes(header[32:40], "little"),
            int.from_bytes(header[54:56], "little"),
            int.from_bytes(header[56:58], "little"),
        )
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(
        int.from_bytes(table[i : i + 4], "little") == PT_INTERP
        for i in range(0, len(table), phentsize)
    )


def normalise_modes(folder: Path) -> None:
    """Folders and ELF executables 0755; everything else (shared libraries too) 0644."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir() or is_program(path):
            os.chmod(path, 0o755)  # noqa: S103 (installed programs and folders are public)
        else:
            os.chmod(path, 0o644)


def changelog(version: str) -> bytes:
    text = (
        f"{PACKAGE} ({version}) unstable; urgency=medium\n\n"
        "  * Package the Postroom bundle: GUI and MTA, systemd unit, default\n"
        "    configuration under /etc/postroom.\n\n"
        " -- Postroom developers <postroom@example.org>  Tue, 25 Nov 2025 12:00:00 +0000\n"
    )
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def control(
    version: str, arch: str, installed_kib: int, libc: str, libraries: list[SystemLibrary]
) -> str:
    template = (HERE / "debian" / "control.in").read_text()
    depends = [f"libc6 (>= {libc})", *relations(libraries, "core"), "ssl-cert"]
    recommends = [*relations(libraries, "gui"), *GUI_RECOMMENDS]
    fields = {
        "VERSION": version,
        "ARCH": arch,
        "INSTALLED_SIZE": str(installed_kib),
        "DEPENDS": ", ".join(depends),
        "RECOMMENDS": ", ".join(recommends),
    }
    for key, value in fields.items():
        template = template.replace(f"@{key}@", value)
    return template


def installed_size(tree: Path) -> int:
    """Installed-Size in KiB, as dpkg-gencontrol counts it (per file, rounded up)."""
    total = 0
    for path in tree.rglob("*"):
        if path.is_relative_to(tree / "DEBIAN"):
            continue
        size = path.lstat().st_size if path.is_file() and not path.is_symlink() else 0
        total += max(1, (size + 1023) // 1024)
    return total


def build_tree(
    bundle: Path, tree: Path, version: str, arch: str, libraries: list[SystemLibrary]
) -> None:
    home = place(tree, BUNDLE_HOME)
    shutil.copytree(bundle, home, symlinks=True)
    leave_out(home, libraries)
    normalise_modes(home)
    link(tree, "/usr/bin/postroom", f"{BUNDLE_HOME}/postroom")
    link(tree, "/usr/sbin/postroom-mta", f"{BUNDLE_HOME}/postroom-mta")
    for name in LINK_NAMES:
        link(tree, f"{LINK_DIR}/{name}", f"{BUNDLE_HOME}/postroom-mta")
    for installed, (source, mode) in CONFFILES.items():
        copy_file(tree, installed, source, mode)
    for installed, source in PLAIN_FILES.items():
        copy_file(tree, installed, source)
    write_file(tree, "/usr/share/doc/postroom/changelog.gz", changelog(version))
    for installed, source in MAN_PAGES.items():
        write_file(tree, installed, gzip.compress(source.read_bytes(), compresslevel=9, mtime=0))
    for folder in [tree, *tree.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink() and not folder.is_relative_to(home):
            os.chmod(folder, 0o755)  # noqa: S103 (a package's folders are public)
    debian = tree / "DEBIAN"
    debian.mkdir(mode=0o755)
    for name in SCRIPTS:
        shutil.copyfile(HERE / "debian" / name, debian / name)
        os.chmod(debian / name, 0o755)  # noqa: S103 (dpkg runs the maintainer scripts)
    (debian / "conffiles").write_text("".join(f"{path}\n" for path in CONFFILES))
    os.chmod(debian / "conffiles", 0o644)
    libc = glibc_needed(home)
    text = control(version, arch, installed_size(tree), libc, libraries)
    (debian / "control").write_text(text)
    os.chmod(debian / "control", 0o644)


def make_deb(bundle: Path, manifest: Path, out_dir: Path) -> Path:
    version, arch = project_version(), architecture()
    libraries = system_libraries(manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{PACKAGE}_{version}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="postroom-deb-") as tmp:
        tree = Path(tmp) / "root"
        tree.mkdir()
        build_tree(bundle, tree, version, arch, libraries)
        subprocess.run(
            [
                "dpkg-deb",
                "--root-owner-group",
                f"--threads-max={os.cpu_count() or 1}",
                "-Zgzip",  # xz takes minutes on two cores; lintian refuses zstd
                "-z6",
                "--build",
                str(tree),
                str(deb),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: make_deb.py BUNDLE_DIR MANIFEST OUT_DIR", file=sys.stderr)
        return 64
    bundle, manifest, out_dir = Path(argv[0]), Path(argv[1]), Path(argv[2])
    if not all((bundle / name).is_file() for name in ("postroom", "postroom-mta")):
        print(f"make_deb.py: {bundle} is not a Postroom bundle", file=sys.stderr)
        return 66
    if not manifest.is_file():
        print(f"make_deb.py: {manifest}: no manifest (packaging/build writes it)", file=sys.stderr)
        return 66
    print(make_deb(bundle, manifest, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
