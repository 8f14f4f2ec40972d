"""The shared syntax of DaemonPortOptions and ClientPortOptions strings.

Owns the key=value splitter and the parsers for the values both options share: Port
(number or service name), Addr (IP literal or ``localhost``; never a DNS lookup), Family,
Listen and modifier letters.  Every refusal is a ``PolicyError`` that says what was wrong
and what would be valid.  ``ports`` builds the listener and client records on top.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from .errors import PolicyError

# Service names we know without asking the system; getservbyname is the fallback.
SERVICE_PORTS: dict[str, int] = {"smtp": 25, "submission": 587, "smtps": 465, "submissions": 465}

FAMILIES = ("inet", "inet6")
_UNSUPPORTED_FAMILIES = ("unix", "local")
_SERVICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,31}")
_MAX_TEXT = 2048


def check_text(text: object, what: str) -> str:
    """Refuse a non-string, an overlong string or one with control characters."""
    if not isinstance(text, str):
        raise PolicyError(f"{what} must be a string of key=value pairs, not {text!r}")
    if len(text) > _MAX_TEXT:
        raise PolicyError(f"{what} is too long ({len(text)} characters; at most {_MAX_TEXT})")
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            raise PolicyError(f"{what} contains a control character (U+{ord(ch):04X})")
    return text


def split_fields(text: str, what: str) -> list[tuple[str, str]]:
    """Split ``key=value, key=value`` into stripped pairs; empty fields are skipped."""
    fields: list[tuple[str, str]] = []
    for raw in text.split(","):
        field = raw.strip()
        if not field:
            continue
        key, sep, value = field.partition("=")
        if not sep:
            raise PolicyError(f'{what} parameter "{field}" has no value: expected key=value')
        fields.append((key.strip(), value.strip()))
    return fields


def parse_port(value: str, *, allow_zero: bool = False) -> int:
    """A port number (1-65535, or 0 when ``allow_zero``) or a TCP service name."""
    lowest = 0 if allow_zero else 1
    if value.isascii() and value.isdigit():
        port = int(value)
        if lowest <= port <= 65535:
            return port
        raise PolicyError(f"Port {value} is out of range: use {lowest}-65535 or a service name")
    known = SERVICE_PORTS.get(value.lower())
    if known is not None:
        return known
    if _SERVICE_NAME.fullmatch(value):
        try:
            return socket.getservbyname(value.lower(), "tcp")
        except OSError:
            pass
    raise PolicyError(
        f'Port "{value}" is neither a number ({lowest}-65535) nor a known service name '
        f"(such as {', '.join(SERVICE_PORTS)})"
    )


def parse_family(value: str) -> str:
    """``inet`` or ``inet6`` (case-insensitive); unix/local are refused as unsupported."""
    family = value.lower()
    if family in FAMILIES:
        return family
    if family in _UNSUPPORTED_FAMILIES:
        raise PolicyError(
            f"Family={value} (a local socket) is not supported by Postroom; use inet or inet6"
        )
    raise PolicyError(f'Family "{value}" unknown; valid families are: inet, inet6')


def parse_addr(value: str, family: str | None) -> tuple[str | None, str]:
    """Parse Addr for ``family`` (None: not given); returns (address or None, family).

    ``None`` is the wildcard (``0.0.0.0``/``::``).  ``localhost`` becomes the loopback
    address of the family.  An IPv6 literal without a Family selects ``inet6``.
    """
    text = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if text.lower() == "localhost":
        fam = family or "inet"
        return ("127.0.0.1" if fam == "inet" else "::1"), fam
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise PolicyError(
            f'Addr "{value}" is not an IP address; Postroom accepts IPv4 and IPv6 literals '
            'and "localhost" here, never a name that needs DNS'
        ) from None
    ip_family = "inet" if ip.version == 4 else "inet6"
    if family is not None and family != ip_family:
        raise PolicyError(
            f'Addr "{value}" is an {"IPv4" if ip.version == 4 else "IPv6"} address but '
            f"Family={family}; use Family={ip_family}"
        )
    return (None if ip.is_unspecified else str(ip)), ip_family


def parse_count(value: str, key: str, low: int, high: int) -> int:
    """A decimal integer in ``low..high``."""
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise PolicyError(f'{key} "{value}" must be a whole number from {low} to {high}')
    return int(value)


def parse_modifiers(value: str, allowed: str, what: str) -> str:
    """Modifier letters from ``allowed``, in the order given, without repeats or spaces."""
    letters: list[str] = []
    for ch in value:
        if ch.isspace():
            continue
        if ch not in allowed:
            raise PolicyError(
                f'{what} modifier "{ch}" unknown; valid letters are: {" ".join(allowed)}'
            )
        if ch not in letters:
            letters.append(ch)
    return "".join(letters)
