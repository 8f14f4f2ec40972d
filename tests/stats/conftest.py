"""Fixtures for the statistics tests: the real mailstats and a cf naming the mailers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.sendmail import PeerUnavailable, SendmailInstall, SendmailPeer
from tests.peers.sendmail_tools import ensure_mailstats


@pytest.fixture
def mailstats_cf(sendmail_install: SendmailInstall, tmp_path: Path) -> Path:
    """The m4-generated cf of a Sendmail peer (mailers 3..8: local, smtp ... relay)."""
    workdir = tmp_path / "sendmail-peer"
    workdir.mkdir()
    try:
        ensure_mailstats(sendmail_install)
        return SendmailPeer(sendmail_install, workdir, tmp_path / "mqueue").cf
    except PeerUnavailable as exc:
        pytest.fail(f"real Sendmail 8.17 peer unavailable: {exc}", pytrace=False)


@pytest.fixture
def system_timezone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both sides print ctime in the system zone: unset TZ here too."""
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The transcripts were taken in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
