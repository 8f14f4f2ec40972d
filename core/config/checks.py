"""Rules that involve more than one option, checked after every value parsed on its own.

Owns the cross-option refusals and warnings (BAD-INPUTS E): recipient limits below the
RFC minimum, open-relay networks, listener sets that cannot all bind, AUTH that could be
sent in plain text on a public listener, certificate/key pairs, and requirements no
client could meet.  Each finding names the option whose line the loader should show.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..policy.ports import DaemonPort, listener_warnings, validate_listener_set

RFC_MIN_RECIPIENTS = 100


@dataclass(frozen=True)
class Finding:
    option: str
    message: str
    error: bool


def is_loopback_only(port: DaemonPort) -> bool:
    """True when the listener binds a loopback address (never the wildcard)."""
    return port.addr is not None and ipaddress.ip_address(port.addr).is_loopback


def _recipients(v: Mapping[str, Any]) -> list[Finding]:
    limit = v["max_recipients"]
    if limit >= RFC_MIN_RECIPIENTS:
        return []
    if v["allow_rfc_violation"]:
        return [
            Finding(
                "MaxRecipientsPerMessage",
                f"{limit} is below the RFC 5321 minimum of {RFC_MIN_RECIPIENTS}; allowed "
                "because AllowRFCViolation = true",
                False,
            )
        ]
    return [
        Finding(
            "MaxRecipientsPerMessage",
            f"{limit} is below the RFC 5321 minimum of {RFC_MIN_RECIPIENTS} (RFC 5321 "
            "4.5.3.1.8); set AllowRFCViolation = true to allow it anyway",
            True,
        )
    ]


def _open_relay(v: Mapping[str, Any]) -> list[Finding]:
    findings = []
    for net in v["relay_from"]:
        if net.prefixlen != 0:
            continue
        if v["allow_open_relay"]:
            message = f"{net} makes this server an open relay; allowed by AllowOpenRelay = true"
            findings.append(Finding("RelayFrom", message, False))
        else:
            message = (
                f"{net} would let every host on the Internet relay through this server (an "
                "open relay); list your own networks, or set AllowOpenRelay = true"
            )
            findings.append(Finding("RelayFrom", message, True))
    return findings


def _listeners(v: Mapping[str, Any]) -> list[Finding]:
    ports: tuple[DaemonPort, ...] = v["daemon_ports"]
    findings = [Finding("DaemonPortOptions", m, True) for m in validate_listener_set(ports)]
    findings += [Finding("DaemonPortOptions", m, False) for m in listener_warnings(ports)]
    has_auth = v["auth_users_file"] is not None
    has_cert = v["server_cert_file"] is not None
    for port in ports:
        if port.requires_auth and not has_auth:
            findings.append(
                Finding(
                    "DaemonPortOptions",
                    f'listener "{port.name}" requires AUTH (M=a) but no AuthUsersFile is '
                    "set, so no client could ever send mail through it",
                    True,
                )
            )
        if port.implicit_tls and not has_cert:
            findings.append(
                Finding(
                    "DaemonPortOptions",
                    f'listener "{port.name}" speaks TLS on connect (M=s) but ServerCertFile '
                    "and ServerKeyFile are not set",
                    True,
                )
            )
        offers_auth = has_auth and not port.auth_disabled
        public = not is_loopback_only(port)
        if offers_auth and public and not port.implicit_tls:
            if not v["auth_require_tls"]:
                findings.append(
                    Finding(
                        "AuthRequireTLS",
                        f"false would let passwords cross the network in plain text on the "
                        f'public listener "{port.name}"; make that listener loopback-only '
                        "(Addr=127.0.0.1), turn AUTH off there (M=A), or keep "
                        "AuthRequireTLS = true",
                        True,
                    )
                )
            elif not has_cert or port.no_starttls:
                findings.append(
                    Finding(
                        "DaemonPortOptions",
                        f'listener "{port.name}" will never offer AUTH: it needs TLS and '
                        + ("STARTTLS is off there (M=S)" if has_cert else "no certificate is set"),
                        False,
                    )
                )
    return findings


def _tls_pair(v: Mapping[str, Any]) -> list[Finding]:
    cert, key = v["server_cert_file"], v["server_key_file"]
    if cert is not None and key is None:
        return [Finding("ServerCertFile", "ServerKeyFile must be set too", True)]
    if key is not None and cert is None:
        return [Finding("ServerKeyFile", "ServerCertFile must be set too", True)]
    return []


def _timeouts(v: Mapping[str, Any]) -> list[Finding]:
    t = v["timeouts"]
    if t["queuewarn"] >= t["queuereturn"]:
        return [
            Finding(
                "Timeout.queuewarn",
                "is not shorter than Timeout.queuereturn, so no delay warning is ever sent",
                False,
            )
        ]
    return []


def cross_check(values: Mapping[str, Any]) -> list[Finding]:
    """Every cross-option finding for ``values`` (Config attribute name -> typed value)."""
    return [
        *_recipients(values),
        *_open_relay(values),
        *_tls_pair(values),
        *_listeners(values),
        *_timeouts(values),
    ]
