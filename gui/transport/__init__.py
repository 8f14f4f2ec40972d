"""Transports for the RPC client: a local subprocess and an SSH exec channel (no Qt).

- :class:`LocalTransport` (:mod:`.local`): ``postroom-mta --rpc`` as a child process.
- :class:`SshTransport` (:mod:`.ssh`): the same program on a remote host over SSH, with
  host-key checking (:mod:`.known_hosts`, :mod:`.hostkey_policy`), the chosen
  authentication (:mod:`.ssh_auth`) and a safely quoted remote command
  (:mod:`.remote_command`).  Its failures are the classes of :mod:`.errors`.

Both satisfy ``postroom.core.control.client.Transport``; hand one to ``RpcClient``.
"""

from .errors import (
    AuthenticationFailedError,
    ConnectFailedError,
    HostKeyChangedError,
    HostKeyRejectedError,
    RemoteCommandNotFoundError,
    SshSecurityError,
    TransportError,
)
from .hostkey_policy import HostKeyCallback, HostKeyInfo
from .local import LocalTransport
from .remote_command import RemoteCommand
from .ssh import SshOptions, SshTransport
from .ssh_auth import AgentAuth, KeyFileAuth, PasswordAuth, SshAuth

__all__ = [
    "AgentAuth",
    "AuthenticationFailedError",
    "ConnectFailedError",
    "HostKeyCallback",
    "HostKeyChangedError",
    "HostKeyInfo",
    "HostKeyRejectedError",
    "KeyFileAuth",
    "LocalTransport",
    "PasswordAuth",
    "RemoteCommand",
    "RemoteCommandNotFoundError",
    "SshAuth",
    "SshOptions",
    "SshSecurityError",
    "SshTransport",
    "TransportError",
]
