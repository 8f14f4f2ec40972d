"""Fixtures for the host status tests: a Sendmail-safe scratch folder and a peer using it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.sendmail import PeerUnavailable, SendmailInstall, SendmailPeer
from tests.peers.sendmail_tools import configure, scratch_dir


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder outside /tmp (Sendmail refuses host status below a world-writable folder)."""
    with scratch_dir() as path:
        yield path


@pytest.fixture
def hoststat_peer(sendmail_install: SendmailInstall, scratch: Path) -> SendmailPeer:
    """A Sendmail whose cf (built with m4) sets HostStatusDirectory = ``scratch / "hs"``."""
    (scratch / "hs").mkdir()
    workdir = scratch / "peer"
    workdir.mkdir()
    try:
        peer = SendmailPeer(sendmail_install, workdir, scratch / "mqueue")
        configure(peer, {"confHOST_STATUS_DIRECTORY": str(scratch / "hs")})
    except PeerUnavailable as exc:
        pytest.fail(f"real Sendmail 8.17 peer unavailable: {exc}", pytrace=False)
    return peer
