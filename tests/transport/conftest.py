"""Fixtures for the transport tests: a real sshd, a queue to list, a connection factory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control.client import RpcClient
from postroom.gui.transport import KeyFileAuth, RemoteCommand, SshAuth, SshTransport

from tests.control.queuefill import fill_queue
from tests.control.support import write_config

from .sshd import SshdUnavailable, SshServer

QUEUE_SIZE = 10_000


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    try:
        server = SshServer(tmp_path_factory.mktemp("sshd")).start()
    except SshdUnavailable as exc:
        pytest.fail(f"OpenSSH server unavailable: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's config, with 10,000 queued jobs (shared by the module's tests)."""
    config = write_config(tmp_path_factory.mktemp("remote") / "mta")
    fill_queue(config.parent / "mqueue", QUEUE_SIZE)
    return config


def remote_command(config: Path) -> RemoteCommand:
    """Start the RPC server with this venv's Python, as postroom-mta --rpc would."""
    return RemoteCommand(
        programs=(sys.executable,), args=("-m", "postroom.core.control"), config=str(config)
    )


Connect = Callable[..., SshTransport]


@pytest.fixture
def make_transport(sshd: SshServer, remote_config: Path, tmp_path: Path) -> Iterator[Connect]:
    """``make_transport(**overrides)``: an unconnected ``SshTransport`` to the test sshd.

    By default it trusts the server's host key (it is in the test's own known-hosts
    file), logs in with the authorized test key and runs the venv's RPC server.
    """
    made: list[SshTransport] = []
    trusted = tmp_path / "known_hosts"
    public = (sshd.base / "host_ed25519.pub").read_text().split()
    trusted.write_text(f"[127.0.0.1]:{sshd.port} {public[0]} {public[1]}\n")

    def make(**overrides: Any) -> SshTransport:
        auth: SshAuth = overrides.pop("auth", KeyFileAuth(sshd.client_key))
        kwargs: dict[str, Any] = {
            "port": sshd.port,
            "known_hosts": trusted,
            "user_known_hosts": tmp_path / "no-user-known-hosts",
            "remote": remote_command(remote_config),
        }
        kwargs.update(overrides)
        transport = SshTransport("127.0.0.1", sshd.user, auth, **kwargs)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


@pytest.fixture
def ssh_rpc(make_transport: Connect) -> Iterator[RpcClient]:
    transport = make_transport()
    transport.connect()
    client = RpcClient(transport, timeout=120)
    yield client
    client.close()
