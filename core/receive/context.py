"""What every SMTP session needs from the rest of the core, gathered in one place.

A ``ReceiverContext`` is built from a ``Config`` when the daemon starts (and
again on reload); sessions hold the context they started with, so a reload
never changes the rules in the middle of a conversation.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config.model import Config
from ..logging.maillog import MailLog
from ..logging.traffic import TrafficLog
from ..policy.auth_users import AuthUsers
from ..policy.ports import DaemonPort
from ..policy.privacy import Privacy
from ..policy.relay import RelayPolicy
from ..queue.commit import Committer
from ..queue.store import QueueStore
from ..stats.recorder import StatsRecorder
from .maps import ReceiverMaps


@dataclass(frozen=True)
class ListenerInfo:
    """The DaemonPortOptions entry a session arrived on, plus derived facts."""

    port: DaemonPort
    daemon_flags: str
    loopback: bool


Listeners = list[tuple[socket.socket, ListenerInfo]]
"""The listening sockets a worker accepts from, each with what it listens for."""


@dataclass
class ReceiverContext:
    """Shared, read-only (per generation) state for sessions."""

    config: Config
    store: QueueStore
    committer: Committer
    relay: RelayPolicy
    log: MailLog
    local_user_known: Callable[[str], bool]
    stats: StatsRecorder
    auth_users: AuthUsers | None = None
    tls: ssl.SSLContext | None = None
    traffic: TrafficLog | None = None
    system_hostname: str = ""
    etrn: Callable[[str], None] | None = None
    maps: ReceiverMaps = field(default_factory=ReceiverMaps)

    def __post_init__(self) -> None:
        if not self.system_hostname:
            self.system_hostname = socket.gethostname()

    @property
    def privacy(self) -> Privacy:
        return self.config.privacy

    @property
    def host_name(self) -> str:
        return self.config.host_name


@functools.lru_cache(maxsize=1024)
def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (remembered per address)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def server_tls_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2+) from the configured certificate and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
