"""The DaemonPortOptions being edited: one row per listener, checked as the user types.

:class:`ListenerRow` holds a listener's fields as typed (Name, Port, Addr, Family, the
modifier letters, and Listen, kept as it was).  ``check_rows`` finds what makes the set
unusable -- each problem tied to a row and a field, so the screen can show it beside
that field: a port out of 1-65535 or not a service-name shape, an address that is not
an IPv4/IPv6 literal (or ``localhost``) of the row's family, a bad name, two listeners
with one name, two binding one port on overlapping addresses, and ``a`` (require AUTH)
with ``A`` (offer no AUTH).  ``row_warnings`` gives Sendmail's advice that does not stop
Apply: ``a`` on port 25 or on a non-loopback address means other mail servers, which do
not authenticate, cannot deliver there.

These mirror the server's checks (``postroom.core.policy.portsyntax`` and
``validate_listener_set``) so the answer is instant; the server's dry run stays the
judge, and its refusal is shown too.  ``MSA_PRESET`` is Sendmail's submission listener.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Any

MODIFIERS = "abcfhuACEOS"
FAMILIES = ("inet", "inet6")
SERVICE_PORTS = {"smtp": 25, "submission": 587, "smtps": 465, "submissions": 465}
FIELDS = ("name", "port", "addr", "family", "modifiers")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SERVICE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,31}")
_NAMED_IN_MESSAGE = re.compile(r'listener "([^"]+)"')
AUTH_ADVICE = (
    "Sendmail's advice: never require AUTH on a public MTA -- other mail servers do not "
    "log in, so they could no longer deliver mail here."
)


@dataclass
class ListenerRow:
    """One listener as typed; ``modifiers`` may hold letters without a box (r, s)."""

    name: str = ""
    port: str = ""
    addr: str = ""
    family: str = "inet"
    modifiers: str = ""
    listen: int | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ListenerRow:
        listen = data.get("listen")
        return cls(
            name=str(data.get("name") or ""),
            port=str(data.get("port") or ""),
            addr=str(data.get("addr") or ""),
            family=str(data.get("family") or "inet"),
            modifiers=str(data.get("modifiers") or ""),
            listen=int(listen) if isinstance(listen, int) and listen != 10 else None,
        )

    def to_wire(self) -> dict[str, Any]:
        """The listener for ``ports.set`` (empty fields left out: their defaults apply)."""
        wire: dict[str, Any] = {"name": self.name.strip(), "port": self.port.strip()}
        if self.addr.strip():
            wire["addr"] = self.addr.strip()
        if self.family != "inet":
            wire["family"] = self.family
        if self.listen is not None:
            wire["listen"] = self.listen
        if self.modifiers:
            wire["modifiers"] = self.modifiers
        return {k: v for k, v in wire.items() if v != ""}

    def has(self, letter: str) -> bool:
        return letter in self.modifiers

    def with_modifier(self, letter: str, on: bool) -> ListenerRow:
        letters = self.modifiers.replace(letter, "")
        return replace(self, modifiers=letters + letter if on else letters)

    def port_number(self) -> int | None:
        text = self.port.strip()
        if not text:
            return 25
        if text.isascii() and text.isdigit():
            return int(text) if 1 <= int(text) <= 65535 else None
        return SERVICE_PORTS.get(text.lower())

    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The address typed (``localhost`` as loopback), None for any address or bad text."""
        text = self.addr.strip().removeprefix("[").removesuffix("]")
        if not text:
            return None
        if text.lower() == "localhost":
            return ipaddress.ip_address("127.0.0.1" if self.family == "inet" else "::1")
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            return None

    def is_loopback(self) -> bool:
        ip = self.address()
        return ip is not None and ip.is_loopback


MSA_PRESET = ListenerRow(name="MSA", port="587", modifiers="Ea")

Problems = dict[tuple[int, str], str]


def _check_port(row: ListenerRow) -> str | None:
    text = row.port.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        if not 1 <= int(text) <= 65535:
            return f"Port {text} is out of range: use 1-65535"
        return None
    if text.lower() in SERVICE_PORTS or _SERVICE.fullmatch(text):
        return None
    return f'Port "{text}" is neither a number (1-65535) nor a service name such as submission'


def _check_addr(row: ListenerRow) -> str | None:
    text = row.addr.strip()
    if not text:
        return None
    ip = row.address()
    if ip is None:
        return (
            f'Addr "{text}" is not an IP address; use an IPv4 or IPv6 literal, localhost, '
            "or leave it empty for every address"
        )
    wanted = "inet" if ip.version == 4 else "inet6"
    if text.lower() != "localhost" and wanted != row.family:
        kind = "IPv4" if ip.version == 4 else "IPv6"
        return f"Addr {text} is an {kind} address but Family is {row.family}; use {wanted}"
    return None


def _check_one(index: int, row: ListenerRow, problems: Problems) -> None:
    name = row.name.strip()
    if name and not _NAME.fullmatch(name):
        problems[(index, "name")] = "Name: use 1-64 letters, digits, '.', '_' or '-'"
    port = _check_port(row)
    if port:
        problems[(index, "port")] = port
    addr = _check_addr(row)
    if addr:
        problems[(index, "addr")] = addr
    if row.family not in FAMILIES:
        problems[(index, "family")] = f"Family {row.family}: use inet or inet6"
    if row.has("a") and row.has("A"):
        problems[(index, "modifiers")] = (
            "Modifiers a (require AUTH) and A (offer no AUTH) contradict each other; "
            "untick one of them"
        )


def _overlap(one: ListenerRow, other: ListenerRow) -> bool:
    if one.family != other.family or one.port_number() != other.port_number():
        return False
    a, b = one.address(), other.address()
    return a is None or b is None or a == b


def check_rows(rows: list[ListenerRow]) -> Problems:
    """Every problem, keyed by (row index, field)."""
    problems: Problems = {}
    if not rows:
        problems[(-1, "")] = "At least one listener is needed; the daemon would not listen at all"
    names: dict[str, int] = {}
    for index, row in enumerate(rows):
        _check_one(index, row, problems)
        name = row.name.strip() or f"Daemon{index}"
        if name in names and (index, "name") not in problems:
            problems[(index, "name")] = f'Name "{name}" is also listener {names[name] + 1}\'s'
        names.setdefault(name, index)
        if (index, "port") in problems or (index, "addr") in problems:
            continue
        for earlier in range(index):
            if _overlap(rows[earlier], row) and row.port_number() is not None:
                other = rows[earlier].name or f"Daemon{earlier}"
                problems[(index, "port")] = (
                    f"Port {row.port_number()} is already bound by listener {other} "
                    "on an overlapping address"
                )
                break
    return problems


def row_named(rows: list[ListenerRow], message: str) -> int | None:
    """The row of the listener a server message names (``listener "MSA"``), if any."""
    match = _NAMED_IN_MESSAGE.search(message)
    if match is None:
        return None
    names = [row.name.strip() or f"Daemon{i}" for i, row in enumerate(rows)]
    return names.index(match.group(1)) if match.group(1) in names else None


def row_warnings(row: ListenerRow) -> list[str]:
    """Advice that does not stop Apply."""
    if not row.has("a") or row.has("A"):
        return []
    if row.port_number() == 25:
        return [f"Modifier a on port 25. {AUTH_ADVICE}"]
    if not row.is_loopback():
        where = row.addr.strip() or "every address"
        return [
            f"Modifier a on {where}, not loopback: only clients that log in can send here. "
            f"Right for a submission port; wrong for a public MTA. {AUTH_ADVICE}"
        ]
    return []
