"""``SshTransport``: ``postroom-mta --rpc`` over an SSH exec channel (paramiko; no Qt).

``connect()`` blocks (run it on a worker thread) and does, in order: TCP connect
(``connect_timeout``); the SSH handshake (``banner_timeout``); the host-key check
against ``~/.ssh/known_hosts`` and Postroom's own known-hosts file -- an unknown key goes
to the ``on_unknown_host_key`` callback before any credential is sent, a changed key is
:class:`HostKeyChangedError`; authentication with exactly the chosen method
(``auth_timeout``); an exec channel (``channel_timeout``) running
:class:`RemoteCommand`, whose launcher reports on stderr whether ``postroom-mta`` was
found.  Keepalives are sent every ``keepalive`` seconds; agent forwarding is never
requested; a session exposed to the Terrapin attack adds a warning to ``warnings``
(next to unreadable known-hosts lines), and ``SshOptions.disabled_algorithms`` can
refuse the algorithms concerned.  Each failure is its own :class:`TransportError` subclass (see
:mod:`.errors`), whose text names the host.

After ``connect()``, the object is a :class:`Transport`: ``send_line``, ``read_line``
(which raises ``TransportError`` saying whether the connection was lost or the remote
program ended, with its last stderr lines) and ``close``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import paramiko  # type: ignore[import-untyped]
from postroom.core.control.client import TransportError
from postroom.core.control.protocol import MAX_REPLY_BYTES

from .errors import (
    AuthenticationFailedError,
    ConnectFailedError,
    HostKeyChangedError,
    RemoteCommandNotFoundError,
    SshSecurityError,
)
from .hostkey_policy import AskUserPolicy, HostKeyCallback
from .known_hosts import fingerprint, host_key_name, load_known_hosts
from .lines import LineBuffer
from .remote_command import NOT_FOUND, NOT_FOUND_STATUS, STARTING, RemoteCommand
from .ssh_auth import PassphraseCallback, SshAuth, connect_kwargs, refused_message

_RECV = 1 << 16
_STDERR_LINES = 20


def default_user_known_hosts() -> Path:
    return Path("~/.ssh/known_hosts").expanduser()


@dataclass(frozen=True)
class SshOptions:
    """Timeouts in seconds, and algorithms to refuse (e.g. for Terrapin-exposed peers)."""

    connect_timeout: float = 15.0
    banner_timeout: float = 15.0
    auth_timeout: float = 30.0
    channel_timeout: float = 15.0
    keepalive: int = 30
    disabled_algorithms: dict[str, list[str]] | None = None


class SshTransport:
    """A line transport over one SSH connection to ``user@host:port``."""

    def __init__(
        self,
        host: str,
        user: str,
        auth: SshAuth,
        *,
        port: int = 22,
        known_hosts: Path,
        user_known_hosts: Path | None = None,
        on_unknown_host_key: HostKeyCallback | None = None,
        ask_passphrase: PassphraseCallback | None = None,
        remote: RemoteCommand | None = None,
        options: SshOptions | None = None,
        max_line: int = MAX_REPLY_BYTES,
    ) -> None:
        self.host = host
        self.user = user
        self.port = port
        self.auth = auth
        self.known_hosts = known_hosts
        self.user_known_hosts = (
            user_known_hosts if user_known_hosts is not None else default_user_known_hosts()
        )
        self.on_unknown_host_key = on_unknown_host_key
        self.ask_passphrase = ask_passphrase
        self.remote = remote or RemoteCommand()
        self.options = options or SshOptions()
        self.warnings: list[str] = []
        self.remote_program: str | None = None
        self._client: paramiko.SSHClient | None = None
        self._channel: paramiko.Channel | None = None
        self._lines = LineBuffer(max_line)
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._stderr_thread: threading.Thread | None = None
        self._closed = False

    @property
    def where(self) -> str:
        return self.host if self.port == 22 else f"{self.host} port {self.port}"

    # -- connecting -------------------------------------------------------------------

    def connect(self) -> None:
        """Open the session and start the remote program; raises a ``TransportError``."""
        client = paramiko.SSHClient()
        self._client = client
        try:
            self._open(client)
            self._start_remote(client)
        except BaseException:
            self.close()
            raise

    def _open(self, client: paramiko.SSHClient) -> None:
        known = load_known_hosts(
            [self.user_known_hosts, self.known_hosts], into=client.get_host_keys()
        )
        self.warnings.extend(known.warnings)
        policy = AskUserPolicy(self.host, self.port, self.on_unknown_host_key, self.known_hosts)
        client.set_missing_host_key_policy(policy)
        kwargs = connect_kwargs(self.auth, self.ask_passphrase)
        opts = self.options
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.user,
                timeout=opts.connect_timeout,
                banner_timeout=opts.banner_timeout,
                auth_timeout=opts.auth_timeout,
                channel_timeout=opts.channel_timeout,
                disabled_algorithms=opts.disabled_algorithms,
                **kwargs,
            )
        except paramiko.BadHostKeyException as exc:
            name = host_key_name(self.host, self.port)
            holder = self.known_hosts
            if not load_known_hosts([self.known_hosts]).lookup(name):
                holder = self.user_known_hosts
            raise HostKeyChangedError(
                self.host,
                self.port,
                exc.key.get_name(),
                fingerprint(exc.expected_key),
                fingerprint(exc.key),
                str(holder),
            ) from None
        except paramiko.BadAuthenticationType as exc:
            allowed = ", ".join(exc.allowed_types) or "none"
            raise AuthenticationFailedError(
                self.auth.method,
                f"{self.user}@{self.where} does not allow {self.auth.method} logins "
                f"(it allows: {allowed})",
            ) from None
        except paramiko.AuthenticationException:
            message = refused_message(self.auth, self.user, self.host, self.port)
            raise AuthenticationFailedError(self.auth.method, message) from None
        except TransportError:
            raise
        except _message_order_error() as exc:
            raise SshSecurityError(
                f"security error talking to {self.where}: {exc}; the connection was aborted"
            ) from None
        except TimeoutError:
            raise ConnectFailedError(f"connecting to {self.where} timed out") from None
        except paramiko.SSHException as exc:
            if "banner" in str(exc).lower():
                raise ConnectFailedError(
                    f"{self.where} sent no SSH greeting within {opts.banner_timeout:g} s "
                    "(is an SSH server listening there?)"
                ) from None
            raise ConnectFailedError(f"SSH with {self.where} failed: {exc}") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConnectFailedError(f"cannot connect to {self.where}: {reason}") from None
        transport = client.get_transport()
        if transport is not None:
            if self.options.keepalive:
                transport.set_keepalive(self.options.keepalive)
            warning = terrapin_warning(transport, self.where)
            if warning is not None:
                self.warnings.append(warning)

    def _start_remote(self, client: paramiko.SSHClient) -> None:
        transport = client.get_transport()
        if transport is None:
            raise ConnectFailedError(f"the SSH session with {self.where} ended")
        try:
            channel = transport.open_session(timeout=self.options.channel_timeout)
            channel.settimeout(self.options.channel_timeout)
            channel.exec_command(self.remote.command_line())
        except (paramiko.SSHException, OSError) as exc:
            raise ConnectFailedError(f"cannot start a command on {self.where}: {exc}") from None
        self._channel = channel
        first = self._first_stderr_line(channel)
        if first.startswith(STARTING):
            self.remote_program = first[len(STARTING) :]
            channel.settimeout(None)
            self._stderr_thread = threading.Thread(
                target=self._drain_stderr, name="ssh-stderr", daemon=True
            )
            self._stderr_thread.start()
            return
        status = _exit_status(channel, self.options.channel_timeout)
        if first == NOT_FOUND or status == NOT_FOUND_STATUS:
            raise RemoteCommandNotFoundError(self.host, self.remote.programs)
        detail = first or (f"exit status {status}" if status is not None else "no answer")
        raise ConnectFailedError(f"starting postroom-mta on {self.where} failed: {detail}")

    def _first_stderr_line(self, channel: paramiko.Channel) -> str:
        data = b""
        try:
            while b"\n" not in data and len(data) < 4096:
                part = channel.recv_stderr(1024)
                if not part:
                    break
                data += part
        except TimeoutError:
            raise ConnectFailedError(
                f"postroom-mta on {self.where} did not start within "
                f"{self.options.channel_timeout:g} s"
            ) from None
        first, _, rest = data.partition(b"\n")
        for line in rest.decode("utf-8", "replace").splitlines():
            self._stderr.append(line)
        return first.decode("utf-8", "replace").strip()

    def _drain_stderr(self) -> None:
        channel = self._channel
        pending = b""
        while channel is not None:
            try:
                part = channel.recv_stderr(_RECV)
            except (OSError, paramiko.SSHException):
                return
            if not part:
                if pending:
                    self._stderr.append(pending.decode("utf-8", "replace"))
                return
            pending += part
            *lines, pending = pending.split(b"\n")
            self._stderr.extend(line.decode("utf-8", "replace") for line in lines)
            pending = pending[-4096:]

    # -- the Transport protocol -------------------------------------------------------

    def send_line(self, data: bytes) -> None:
        channel = self._require_channel()
        try:
            channel.sendall(data)
        except (OSError, paramiko.SSHException) as exc:
            raise TransportError(self._ended_text(f"sending failed: {exc}")) from None

    def read_line(self) -> bytes:
        channel = self._require_channel()
        while True:
            line = self._lines.pop()
            if line is not None:
                return line
            try:
                data = channel.recv(_RECV)
            except (OSError, EOFError, paramiko.SSHException) as exc:
                reason = str(exc) or type(exc).__name__
                raise TransportError(self._ended_text(f"receiving failed: {reason}")) from None
            if not data:
                raise TransportError(self._ended_text("the stream ended"))
            self._lines.feed(data)

    def close(self) -> None:
        self._closed = True
        channel, self._channel = self._channel, None
        client, self._client = self._client, None
        if channel is not None:
            with contextlib.suppress(Exception):
                channel.close()
        if client is not None:
            client.close()

    # -- helpers ----------------------------------------------------------------------

    def _require_channel(self) -> paramiko.Channel:
        channel = self._channel
        if channel is None:
            state = "closed" if self._closed else "not connected"
            raise TransportError(f"the connection to {self.where} is {state}")
        return channel

    def _ended_text(self, fallback: str) -> str:
        if self._closed:
            return f"the connection to {self.where} was closed"
        channel = self._channel
        try:
            status = _exit_status(channel, 2.0) if channel is not None else None
        except (OSError, EOFError, paramiko.SSHException):
            status = None
        if status is None:
            return f"the connection to {self.where} was lost ({fallback})"
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=2)
        tail = " | ".join(list(self._stderr)[-3:])
        return f"postroom-mta on {self.where} ended (exit status {status})" + (
            f": {tail}" if tail else ""
        )


def terrapin_warning(transport: paramiko.Transport, where: str) -> str | None:
    """A warning when the session is exposed to the Terrapin attack (CVE-2023-48795).

    That needs a server without "strict kex" and a ChaCha20-Poly1305 cipher or an
    encrypt-then-MAC MAC with a CBC cipher.
    """
    if getattr(transport, "agreed_on_strict_kex", True):
        return None
    cipher = str(getattr(transport, "local_cipher", "") or "")
    mac = str(getattr(transport, "local_mac", "") or "")
    if "chacha20" in cipher or (mac.endswith("-etm@openssh.com") and cipher.endswith("-cbc")):
        return (
            f"{where} does not support strict key exchange and this session uses {cipher} "
            f"with {mac}: it is exposed to the Terrapin attack (CVE-2023-48795). Update the "
            "server's OpenSSH, or disable these algorithms in the connection's settings."
        )
    return None


def _exit_status(channel: paramiko.Channel, wait: float) -> int | None:
    """The remote program's exit status; None if the connection ended without one."""
    channel.status_event.wait(wait)
    if not channel.exit_status_ready():
        return None
    status = int(channel.recv_exit_status())
    return None if status < 0 else status


def _message_order_error() -> type[Exception]:
    error = getattr(paramiko.ssh_exception, "MessageOrderError", None)
    return error if isinstance(error, type) and issubclass(error, Exception) else _Never


class _Never(Exception):
    """Stands in for an exception class this paramiko does not have."""
