"""The SSH transport's failures, each a ``TransportError`` a user can act on.

- :class:`ConnectFailedError`: the TCP connection or the SSH handshake failed
  (refused, unreachable, timed out, no banner).
- :class:`HostKeyRejectedError`: the host's key is unknown and the user did not accept it.
- :class:`HostKeyChangedError`: the host presented a different key than the one on
  record; carries both fingerprints.  Never accepted from here: replacing a known key is
  a separate, deliberate action.
- :class:`AuthenticationFailedError`: the server refused the credentials; ``method`` says
  which (``password``, ``key``, ``agent``, ``passphrase`` for a key file that could not
  be unlocked) so each gets its own message.
- :class:`RemoteCommandNotFoundError`: the host has no ``postroom-mta``.
- :class:`SshSecurityError`: the SSH exchange broke a security rule (messages out of
  order during key exchange); not retried.
"""

from __future__ import annotations

from postroom.core.control.client import TransportError

__all__ = [
    "AuthenticationFailedError",
    "ConnectFailedError",
    "HostKeyChangedError",
    "HostKeyRejectedError",
    "RemoteCommandNotFoundError",
    "SshSecurityError",
    "TransportError",
]


class ConnectFailedError(TransportError):
    """No SSH session could be set up with the host."""


class HostKeyRejectedError(TransportError):
    """The host's key is not known and was not accepted; no credential was sent."""

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        super().__init__(
            f"the host key of {host} port {port} ({key_type} {fingerprint}) is not known "
            "and was not accepted; nothing was sent to the host"
        )
        self.host = host
        self.port = port
        self.key_type = key_type
        self.fingerprint = fingerprint


class HostKeyChangedError(TransportError):
    """The host's key differs from the one on record: possibly a man-in-the-middle."""

    def __init__(
        self,
        host: str,
        port: int,
        key_type: str,
        old_fingerprint: str,
        new_fingerprint: str,
        known_hosts: str,
    ) -> None:
        super().__init__(
            f"WARNING: the host key of {host} port {port} has CHANGED. Someone could be "
            f"intercepting the connection (man-in-the-middle attack), or the host's key was "
            f"replaced. Known key: {old_fingerprint}; key offered now: {key_type} "
            f"{new_fingerprint}. Nothing was sent. If the change is expected, remove the old "
            f"key from {known_hosts} and connect again."
        )
        self.host = host
        self.port = port
        self.key_type = key_type
        self.old_fingerprint = old_fingerprint
        self.new_fingerprint = new_fingerprint


class AuthenticationFailedError(TransportError):
    """The server did not accept the credentials (``method`` names which kind)."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(message)
        self.method = method


class RemoteCommandNotFoundError(TransportError):
    """``postroom-mta`` is not installed (or not found) on the remote host."""

    def __init__(self, host: str, looked_for: tuple[str, ...]) -> None:
        places = ", ".join(looked_for)
        super().__init__(f"postroom-mta not found on host {host} (looked for {places})")
        self.host = host
        self.looked_for = looked_for


class SshSecurityError(TransportError):
    """A protocol-level security failure (e.g. out-of-order key exchange messages)."""
