"""How the SSH transport authenticates: an agent, a key file, or a password.

The user chooses one; nothing else is tried (``look_for_keys`` is always off, and the
agent is consulted only when chosen).  Agent forwarding is never requested.  A key
file's passphrase is asked through a callback, only when the key turns out to be
encrypted, and is not kept; a password lives in :class:`PasswordAuth` only for the
connection attempt and never appears in its ``repr``.

``connect_kwargs`` turns a choice into the arguments of ``SSHClient.connect``; reading
the key file happens here, before the network is touched, so a missing file or a wrong
passphrase is reported as such and not as a refused login.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko  # type: ignore[import-untyped]

from .errors import AuthenticationFailedError

PassphraseCallback = Callable[[Path], str | None]
"""Asked for a key file's passphrase; returns None when the user cancels."""


@dataclass(frozen=True)
class AgentAuth:
    """Use the keys of the running SSH agent (``SSH_AUTH_SOCK``)."""

    method = "agent"


@dataclass(frozen=True)
class KeyFileAuth:
    """Use one private key file (OpenSSH or PEM format)."""

    path: Path
    method = "key"


@dataclass(frozen=True)
class PasswordAuth:
    """Use a password (kept in memory for the attempt only)."""

    password: str = field(repr=False)
    method = "password"


SshAuth = AgentAuth | KeyFileAuth | PasswordAuth


def load_key(path: Path, ask_passphrase: PassphraseCallback | None) -> paramiko.PKey:
    """The private key in ``path``, unlocked with a passphrase from the callback if needed."""
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise AuthenticationFailedError("key", f"the key file {path} does not exist") from None
    except (TypeError, paramiko.PasswordRequiredException):
        pass  # encrypted: ask below
    except OSError as exc:
        message = f"the key file {path} cannot be read: {exc.strerror}"
        raise AuthenticationFailedError("key", message) from None
    except Exception as exc:
        message = f"{path} is not a private key file this client can use ({exc})"
        raise AuthenticationFailedError("key", message) from None
    passphrase = ask_passphrase(path) if ask_passphrase is not None else None
    if passphrase is None:
        message = f"the key file {path} is protected by a passphrase and none was given"
        raise AuthenticationFailedError("passphrase", message)
    try:
        return paramiko.PKey.from_path(path, passphrase.encode("utf-8"))
    except Exception:
        message = f"wrong passphrase for the key file {path}"
        raise AuthenticationFailedError("passphrase", message) from None


def _require_agent_keys() -> None:
    if not os.environ.get("SSH_AUTH_SOCK"):
        message = "no SSH agent is running (SSH_AUTH_SOCK is not set); choose a key file instead"
        raise AuthenticationFailedError("agent", message)
    agent = paramiko.Agent()
    try:
        count = len(agent.get_keys())
    finally:
        agent.close()
    if not count:
        raise AuthenticationFailedError("agent", "the SSH agent holds no keys (see ssh-add)")


def connect_kwargs(auth: SshAuth, ask_passphrase: PassphraseCallback | None) -> dict[str, Any]:
    """Arguments for ``SSHClient.connect`` that use exactly the chosen method."""
    kwargs: dict[str, Any] = {"look_for_keys": False, "allow_agent": False}
    if isinstance(auth, AgentAuth):
        _require_agent_keys()
        kwargs["allow_agent"] = True
    elif isinstance(auth, KeyFileAuth):
        kwargs["pkey"] = load_key(Path(auth.path).expanduser(), ask_passphrase)
    else:
        kwargs["password"] = auth.password
    return kwargs


def refused_message(auth: SshAuth, user: str, host: str, port: int) -> str:
    """What to tell the user when the server refused ``auth``."""
    where = f"{user}@{host} port {port}"
    if isinstance(auth, PasswordAuth):
        return f"wrong password for {where} (the server refused it)"
    if isinstance(auth, KeyFileAuth):
        return f"the server refused the key {auth.path} for {where}"
    return f"the server accepted none of the SSH agent's keys for {where}"
