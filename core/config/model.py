"""The loaded configuration: one frozen ``Config`` with typed, snake_case attributes.

Owns the shape every other package reads (``config.queue_directory``,
``config.privacy``, ``config.daemon_ports``, ...) and ``SmartHost``.  Values are already
validated and resolved: paths are absolute (relative ones were taken relative to the
config file's folder, HostStatusDirectory relative to QueueDirectory), durations are
seconds, LocalDomains always contains HostName and ``localhost``.  Only ``loader``
creates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from ..policy.ports import ClientPort, DaemonPort
from ..policy.privacy import Privacy


@dataclass(frozen=True)
class SmartHost:
    """Sendmail's ``DS``: ``[host]:port`` skips the MX lookup, a bare ``host`` uses it."""

    host: str
    port: int = 25
    mx_lookup: bool = True

    def __str__(self) -> str:
        text = self.host if self.mx_lookup else f"[{self.host}]"
        return text if self.port == 25 else f"{text}:{self.port}"


@dataclass(frozen=True)
class Config:
    """Every option, typed.  ``lines`` maps option name -> line in ``path`` (0: default)."""

    path: Path
    queue_directory: Path
    host_status_directory: Path
    status_file: Path
    alias_file: Path
    privacy: Privacy
    daemon_ports: tuple[DaemonPort, ...]
    client_port: ClientPort | None
    log_level: int
    postmaster_copy: str | None
    timeouts: Mapping[str, float]  # seconds, keyed "command", "hoststatus", ...
    max_message_size: int
    max_recipients: int
    max_daemon_children: int  # 0: no limit
    max_connections_per_host: int
    daemon_processes: int  # 0: one per CPU
    smart_host: SmartHost | None
    local_domains: frozenset[str]  # lower case; always has host_name and "localhost"
    relay_domains: frozenset[str]  # lower case; subdomains match too
    relay_from: tuple[IPv4Network | IPv6Network, ...]
    local_users: frozenset[str]
    mail_spool_directory: Path
    mailbox_format: str  # "mbox" | "maildir"
    server_cert_file: Path | None
    server_key_file: Path | None
    auth_users_file: Path | None
    auth_require_tls: bool
    log_file: Path | None  # None: syslog
    time_series_file: Path | None
    vacation_directory: Path | None
    host_name: str
    super_safe: bool
    allow_rfc_violation: bool
    allow_open_relay: bool
    min_queue_age: float  # seconds
    queue_sort_order: str
    lines: Mapping[str, int]
    overrides: tuple[str, ...] = ()  # the -O arguments this config was loaded with
    warnings: tuple[str, ...] = ()  # accepted, but the administrator should know

    def timeout(self, name: str) -> float:
        """Seconds for ``Timeout.<name>``; KeyError for a name Postroom does not know."""
        return self.timeouts[name]
