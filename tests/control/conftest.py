"""Fixtures for the RPC server tests: a config, a client on a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.control.client import RpcClient

from .support import connect, write_config


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path / "mta")


@pytest.fixture
def queue_dir(config_path: Path) -> Path:
    return config_path.parent / "mqueue"


@pytest.fixture
def rpc(config_path: Path) -> Iterator[RpcClient]:
    client = connect(config_path)
    yield client
    client.close()
