"""``LocalTransport``: the server as a child process; its end explained, its exit ensured."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from postroom.core.control.client import RpcClient, TransportError
from postroom.gui.transport import LocalTransport
from postroom.gui.transport.local import default_command

from tests.control.support import SERVER, write_config


def test_a_server_that_dies_is_explained_with_its_status_and_stderr() -> None:
    crash = [
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('boom: no config\\n'); sys.exit(3)",
    ]
    client = RpcClient(LocalTransport(command=crash), timeout=30)
    with pytest.raises(TransportError) as info:
        client.call("server.info")
    assert "exit status 3" in str(info.value) and "boom: no config" in str(info.value)
    client.close()


def test_close_ends_the_child(tmp_path: Path) -> None:
    transport = LocalTransport(write_config(tmp_path / "m"), command=SERVER)
    client = RpcClient(transport, timeout=30)
    assert client.call("server.info")["pid"] == transport.pid
    client.close()
    assert transport.proc.returncode == 0
    with pytest.raises(TransportError, match="closed"):
        client.call("server.info")


def test_the_default_command_is_the_cli_with_rpc(tmp_path: Path) -> None:
    config = tmp_path / "x.toml"
    assert default_command() == [sys.executable, "-m", "postroom.core.cli", "--rpc"]
    transport = LocalTransport(config, overrides=["LogLevel=3"], command=["true"])
    assert transport.argv == ["true", "-C", str(config), "-O", "LogLevel=3"]
    transport.close()


def test_a_missing_program_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="cannot start"):
        LocalTransport(command=["/nonexistent/postroom-mta"])
