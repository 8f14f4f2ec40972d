"""Asking the user about an unknown host key, before any credential is sent.

paramiko calls :meth:`AskUserPolicy.missing_host_key` after the key exchange and before
authentication, only when neither known-hosts file has a key for the host.  The policy
describes the key (:class:`HostKeyInfo`: host, port, the address actually reached, key
type, SHA256 fingerprint) to the ``ask`` callback -- the GUI marshals it to a modal
dialog whose default is Cancel -- and saves the key to Postroom's own known-hosts file
only when the answer is yes; otherwise the connection fails with
:class:`~.errors.HostKeyRejectedError`.  A key that differs from a known one never gets
here: paramiko raises ``BadHostKeyException``, which the transport turns into
:class:`~.errors.HostKeyChangedError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko  # type: ignore[import-untyped]

from .errors import HostKeyRejectedError
from .known_hosts import fingerprint, save_host_key


@dataclass(frozen=True)
class HostKeyInfo:
    """An unknown host key, as shown to the user."""

    host: str
    port: int
    address: str
    key_type: str
    fingerprint: str
    known_hosts_name: str


HostKeyCallback = Callable[[HostKeyInfo], bool]
"""Returns True to accept (and remember) the key, False to refuse it."""


class AskUserPolicy(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """A ``MissingHostKeyPolicy`` that asks, and remembers only accepted keys."""

    def __init__(self, host: str, port: int, ask: HostKeyCallback | None, save_to: Path) -> None:
        self.host = host
        self.port = port
        self.ask = ask
        self.save_to = save_to
        self.accepted: HostKeyInfo | None = None

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        transport = client.get_transport()
        address = str(transport.getpeername()[0]) if transport is not None else self.host
        info = HostKeyInfo(
            host=self.host,
            port=self.port,
            address=address,
            key_type=key.get_name(),
            fingerprint=fingerprint(key),
            known_hosts_name=hostname,
        )
        if self.ask is None or not self.ask(info):
            raise HostKeyRejectedError(self.host, self.port, info.key_type, info.fingerprint)
        save_host_key(self.save_to, hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.accepted = info
