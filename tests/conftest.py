"""Shared pytest fixtures.  (Queue part: the real Sendmail 8.17 peer.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.sendmail import PeerUnavailable, SendmailInstall, SendmailPeer, ensure_sendmail


@pytest.fixture(scope="session")
def sendmail_install() -> SendmailInstall:
    """The unpacked Sendmail 8.17 (downloaded once, cached); FAILS if unobtainable."""
    try:
        return ensure_sendmail()
    except PeerUnavailable as exc:
        pytest.fail(f"real Sendmail 8.17 peer unavailable: {exc}", pytrace=False)


@pytest.fixture
def sendmail_peer(sendmail_install: SendmailInstall, tmp_path: Path) -> SendmailPeer:
    """A Sendmail configured for a fresh queue folder ``tmp_path / "mqueue"``."""
    workdir = tmp_path / "sendmail-peer"
    workdir.mkdir()
    try:
        return SendmailPeer(sendmail_install, workdir, tmp_path / "mqueue")
    except PeerUnavailable as exc:
        pytest.fail(f"real Sendmail 8.17 peer unavailable: {exc}", pytrace=False)
