"""Fixtures for the packaging tests: one real build per session, throw-away install roots.

``built`` runs the README's ``bash packaging/build`` once per session into a private
folder (the build reuses its cache under ~/.cache/postroom-packaging, keyed by the
source, so a re-run takes seconds) and starts ``lintian`` on the .deb in the background
so it runs while the other tests do.  ``installed`` is one throw-away root with the
package installed by dpkg (see :mod:`.support`); tests that install, upgrade, remove
or purge make their own roots.  Building takes minutes, so these tests get a longer
timeout than the suite's default.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import dpkg, make_root

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1500
PACKAGING_TEST_TIMEOUT = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.timeout(PACKAGING_TEST_TIMEOUT))


@dataclass
class Built:
    """What ``packaging/build`` made, and the lintian run on it."""

    dist: Path
    deb: Path
    bundle: Path
    lintian: subprocess.Popen[str]
    lintian_output: Path


@pytest.fixture(scope="session")
def built() -> Iterator[Built]:
    dist = Path(tempfile.mkdtemp(prefix="postroom-dist-"))
    done = subprocess.run(
        ["bash", "packaging/build", "--dist", str(dist)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"packaging/build failed:\n{done.stdout}\n{done.stderr}"
    debs = sorted(dist.glob("postroom_*.deb"))
    assert len(debs) == 1, f"expected one .deb in {dist}: {debs}"
    output = dist / "lintian.txt"
    with open(output, "w") as sink:
        lintian = subprocess.Popen(
            ["lintian", "--allow-root", str(debs[0])],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    try:
        yield Built(dist, debs[0], dist / "postroom", lintian, output)
    finally:
        if lintian.poll() is None:
            lintian.kill()
        lintian.wait()
        shutil.rmtree(dist, ignore_errors=True)


@pytest.fixture
def fresh_root(tmp_path: Path) -> Iterator[Path]:
    """An empty throw-away root (removed after the test: an install is 160 MB)."""
    root = make_root(tmp_path / "root")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def installed(built: Built) -> Iterator[Path]:
    """One throw-away root with the package installed, shared by the read-mostly tests."""
    root = make_root(Path(tempfile.mkdtemp(prefix="postroom-root-")))
    try:
        dpkg(root, "-i", str(built.deb))
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
