"""Fixtures for the receiver tests: a configured MTA and a running daemon."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import close_all


@pytest.fixture(autouse=True)
def _close_wires() -> Iterator[None]:
    yield
    close_all()


@pytest.fixture
def mta_setup(tmp_path: Path) -> MtaSetup:
    return MtaSetup(tmp_path / "mta")


@pytest.fixture
def start_mta(mta_setup: MtaSetup) -> Iterator[Callable[..., RunningMta]]:
    """Start the daemon with option overrides: ``start_mta(PrivacyOptions=["goaway"])``."""
    running: list[RunningMta] = []

    def start(*args: str, listeners: dict[str, str] | None = None, **options: object) -> RunningMta:
        mta_setup.options.update(options)
        mta_setup.write(listeners)
        mta = RunningMta(mta_setup, *args).start()
        running.append(mta)
        return mta

    yield start
    for mta in running:
        mta.stop()


@pytest.fixture
def mta(start_mta: Callable[..., RunningMta]) -> RunningMta:
    return start_mta()


@pytest.fixture
def public_setup() -> Iterator[MtaSetup]:
    """A configuration another user can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="postroom-test-"))
    base.chmod(0o755)
    setup = MtaSetup(base / "mta")
    setup.write()
    setup.base.chmod(0o755)
    yield setup
    shutil.rmtree(base)
