"""The option table: every option Postroom knows, with its kind, default and meaning.

Owns ``OPTIONS`` (name -> ``Option``) in the order ``-bP`` and the GUI show them, the
Timeout.* family, ``option_names()`` and ``option_doc()``.  Names are Sendmail's where
Sendmail has the option; ``ours`` marks Postroom's own (DESIGN section 4, marked *).
Defaults are raw values that go through the same parser as the file's, so a default can
never be something the file could not say.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..policy.errors import PolicyError
from ..policy.ports import (
    format_client_port,
    format_daemon_port,
    parse_client_port_options,
    parse_daemon_port_options,
)
from ..policy.privacy import parse_privacy_options, privacy_names
from . import kinds
from .errors import BadValue
from .kinds import Kind

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Option:
    """One option: ``attr`` is the Config attribute (``timeouts`` for Timeout.*)."""

    name: str
    attr: str
    kind: Kind
    default: object | Callable[[], object]
    doc: str
    ours: bool = False

    def default_value(self) -> object:
        return self.default() if callable(self.default) else self.default


def default_host_name() -> str:
    """The system's host name, with ".localdomain" added when it has no dot; never DNS."""
    name = socket.gethostname() or "localhost"
    return name if "." in name else f"{name}.localdomain"


def _privacy(value: object, base: Path) -> Any:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadValue(f'expected a list of names such as ["goaway", "noetrn"], not {value!r}')
    try:
        return parse_privacy_options(items)
    except PolicyError as exc:
        raise BadValue(str(exc)) from None


def _daemon_ports(value: object, base: Path) -> Any:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadValue(f'expected a list of strings such as ["Name=MTA, Port=25"], not {value!r}')
    ports = []
    for index, text in enumerate(items):
        try:
            ports.append(parse_daemon_port_options(text, index))
        except PolicyError as exc:
            raise BadValue(f'"{text}": {exc}', index=index) from None
    return tuple(ports)


def _client_port(value: object, base: Path) -> Any:
    if not isinstance(value, str):
        raise BadValue(f'expected a string such as "Addr=192.0.2.1, M=h", not {value!r}')
    if not value.strip():
        return None
    try:
        return parse_client_port_options(value)
    except PolicyError as exc:
        raise BadValue(str(exc)) from None


PRIVACY = Kind(
    _privacy, lambda t: t, lambda p: ",".join(privacy_names(p)), "a list of PrivacyOptions names"
)
DAEMON_PORTS = Kind(
    _daemon_ports,
    lambda t: [t],
    lambda ports: "; ".join(format_daemon_port(p) for p in ports),
    "a list of DaemonPortOptions strings",
)
CLIENT_PORT = Kind(
    _client_port,
    show=lambda p: "" if p is None else format_client_port(p),
    describe="a ClientPortOptions string",
)

# name: (default, default unit, low, high, meaning)
TIMEOUTS: dict[str, tuple[str, str, float, float, str]] = {
    "queuereturn": ("5d", "d", HOUR, 30 * DAY, "give up and bounce a message after this long"),
    "queuewarn": ("4h", "h", MINUTE, 30 * DAY, "warn the sender after a message waits this long"),
    "hoststatus": ("30m", "m", 0, 7 * DAY, "how long a host's status is trusted"),
    "command": ("5m", "m", 10, HOUR, "waiting for the next SMTP command (server side)"),
    "connect": ("5m", "m", 1, 7 * DAY, "waiting for an outgoing connection to open"),
    "initial": ("5m", "m", 1, 7 * DAY, "waiting for the remote greeting"),
    "helo": ("5m", "m", 1, 7 * DAY, "waiting for the reply to HELO/EHLO"),
    "mail": ("10m", "m", 1, 7 * DAY, "waiting for the reply to MAIL"),
    "rcpt": ("1h", "m", 1, 7 * DAY, "waiting for the reply to RCPT"),
    "datainit": ("5m", "m", 1, 7 * DAY, "waiting for the reply to DATA"),
    "datablock": ("1h", "m", 1, 7 * DAY, "waiting for each block of message data"),
    "datafinal": ("1h", "m", 1, 7 * DAY, "waiting for the reply to the final dot"),
    "rset": ("5m", "m", 1, 7 * DAY, "waiting for the reply to RSET"),
    "quit": ("2m", "m", 1, 7 * DAY, "waiting for the reply to QUIT"),
    "misc": ("2m", "m", 1, 7 * DAY, "waiting for the reply to NOOP and VERB"),
    "ident": ("5s", "m", 0, 7 * DAY, "waiting for an ident reply (0 disables ident)"),
    "starttls": ("1h", "m", 1, 7 * DAY, "the TLS handshake after STARTTLS"),
    "auth": ("10m", "m", 1, 7 * DAY, "an AUTH exchange"),
}

_P = kinds.path_kind
_LOCAL_DEFAULT = ["authwarnings"]
_TABLE: list[Option] = [
    Option("QueueDirectory", "queue_directory", _P(), "/var/spool/postroom/mqueue",
           "Folder of the mail queue (qf/df/xf files)."),
    Option("HostStatusDirectory", "host_status_directory", _P(relative_to_base=False),
           ".hoststat", "Persistent host status; relative to QueueDirectory unless absolute."),
    Option("StatusFile", "status_file", _P(), "/var/lib/postroom/statistics",
           "The statistics file read by mailstats."),
    Option("AliasFile", "alias_file", _P(), "/etc/postroom/aliases", "The aliases file."),
    Option("PrivacyOptions", "privacy", PRIVACY, _LOCAL_DEFAULT,
           "Privacy flags such as goaway, noexpn, novrfy, noetrn, restrictmailq."),
    Option("DaemonPortOptions", "daemon_ports", DAEMON_PORTS,
           ["Name=MTA, Port=25", "Name=MSA, Port=587, M=E"],
           "One listener per string (Name, Port, Addr, Family, Listen, M=modifiers). "
           "A -O DaemonPortOptions replaces the file's list instead of adding to it."),
    Option("ClientPortOptions", "client_port", CLIENT_PORT, "",
           "Source address, port and modifiers (h A S D M) for outgoing SMTP."),
    Option("LogLevel", "log_level", kinds.int_kind(0, 99), 9, "How much to log (0-99)."),
    Option("PostmasterCopy", "postmaster_copy", kinds.ADDRESSES, "",
           "Who gets a copy of bounces; empty for nobody."),
    *(
        Option(f"Timeout.{name}", "timeouts", kinds.duration_kind(low, high, unit), default,
               f"Timeout.{name}: {meaning}.")
        for name, (default, unit, low, high, meaning) in TIMEOUTS.items()
    ),
    Option("MaxMessageSize", "max_message_size", kinds.size_kind(1, 2**40), 50 * 2**20,
           "Largest message accepted, in bytes."),
    Option("MaxRecipientsPerMessage", "max_recipients", kinds.int_kind(1, 100_000), 100,
           "Recipients per message; below 100 needs AllowRFCViolation."),
    Option("MaxDaemonChildren", "max_daemon_children", kinds.int_kind(0, 100_000), 0,
           "Most simultaneous SMTP sessions; 0 for no limit."),
    Option("MaxConnectionsPerHost", "max_connections_per_host", kinds.int_kind(1, 100_000),
           100, "Most simultaneous sessions from one client address.", ours=True),
    Option("DaemonProcesses", "daemon_processes", kinds.int_kind(0, 64), 0,
           "Processes serving the daemon's SMTP sessions; 0 for one per CPU.", ours=True),
    Option("SmartHost", "smart_host", kinds.SMART_HOST, "",
           'Send all outgoing mail through this host: "[host]:port" or "host" (MX looked up).'),
    Option("LocalDomains", "local_domains", kinds.name_list_kind(kinds.check_domain, "domains"),
           [], "Domains delivered here (class w); HostName and localhost are always in it."),
    Option("RelayDomains", "relay_domains", kinds.name_list_kind(kinds.check_domain, "domains"),
           [], "Domains (and their subdomains) relayed for anyone (class R)."),
    Option("RelayFrom", "relay_from", kinds.NETWORKS, ["127.0.0.0/8", "::1/128"],
           "Client networks allowed to relay without AUTH; /0 needs AllowOpenRelay.", ours=True),
    Option("LocalUsers", "local_users", kinds.name_list_kind(kinds.check_user, "user names"),
           [], "Local mailbox users when system accounts are not used.", ours=True),
    Option("MailSpoolDirectory", "mail_spool_directory", _P(), "/var/mail",
           "Where local mailboxes live.", ours=True),
    Option("MailboxFormat", "mailbox_format", kinds.choice_kind("mbox", "maildir"), "mbox",
           "Local mailbox format: mbox or maildir.", ours=True),
    Option("ServerCertFile", "server_cert_file", _P(optional=True), "",
           "TLS certificate (PEM) for STARTTLS."),
    Option("ServerKeyFile", "server_key_file", _P(optional=True), "",
           "TLS private key (PEM) for STARTTLS."),
    Option("AuthUsersFile", "auth_users_file", _P(optional=True), "",
           "SMTP AUTH users with scrypt hashes; empty: no AUTH.", ours=True),
    Option("AuthRequireTLS", "auth_require_tls", kinds.BOOL, True,
           "Offer AUTH only inside TLS (or on loopback listeners).", ours=True),
    Option("LogFile", "log_file", _P(optional=True), "",
           "Log to this file instead of syslog.", ours=True),
    Option("TimeSeriesFile", "time_series_file", _P(optional=True), "",
           "Fixed-size traffic series for the dashboard graphs.", ours=True),
    Option("VacationDirectory", "vacation_directory", _P(optional=True), "",
           "Per-user vacation settings and reply memory.", ours=True),
    Option("HostName", "host_name", kinds.HOSTNAME, default_host_name,
           "This host's name ($j) in the greeting and Received headers.", ours=True),
    Option("SuperSafe", "super_safe", kinds.BOOL, True,
           "fsync queue files before accepting a message."),
    Option("AllowRFCViolation", "allow_rfc_violation", kinds.BOOL, False,
           "Allow settings below RFC minimums (such as MaxRecipientsPerMessage < 100).",
           ours=True),
    Option("AllowOpenRelay", "allow_open_relay", kinds.BOOL, False,
           "Allow RelayFrom to contain 0.0.0.0/0 or ::/0 (an open relay).", ours=True),
    Option("MinQueueAge", "min_queue_age", kinds.duration_kind(0, 7 * DAY), "0",
           "A queued message is retried at most this often."),
    Option("QueueSortOrder", "queue_sort_order",
           kinds.choice_kind("priority", "host", "time", "random", "filename", "modification",
                             "none"), "priority", "Order of queue runs."),
]  # fmt: skip

OPTIONS: dict[str, Option] = {option.name: option for option in _TABLE}


def option_names() -> tuple[str, ...]:
    """Every option name, in display order (Timeout.* spelled out)."""
    return tuple(OPTIONS)


def option_doc(name: str) -> str:
    """The one-line meaning of ``name`` (KeyError if unknown)."""
    return OPTIONS[name].doc
