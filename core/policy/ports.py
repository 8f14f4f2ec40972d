"""DaemonPortOptions and ClientPortOptions: parsed, validated, formatted.

Owns the ``DaemonPort`` (one listener) and ``ClientPort`` (outgoing connections)
records, their parsers (Sendmail's ``key=value, ...`` strings, keys recognised by their
first character with Sendmail's case rules), ``format_daemon_port``/``format_client_port``
(the inverse: ``parse(format(p)) == p``), the ``${daemon_flags}`` macro, and the checks
over a whole listener set.

Keys Sendmail knows but Postroom does not act on (InputMailFilters ``I=``, SndBufSize
``S=``, RcvBufSize ``R=``, children ``c=``, DeliveryMode ``D=``, refuseLA ``r=``,
delayLA ``d=``, queueLA ``q=``, ``T=``) are accepted so Sendmail strings load unchanged,
recorded in ``ignored`` and reported by ``listener_warnings``; they change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .errors import PolicyError
from .portsyntax import (
    check_text,
    parse_addr,
    parse_count,
    parse_family,
    parse_modifiers,
    parse_port,
    split_fields,
)

DAEMON_MODIFIERS = "abcfhrsuACEOS"
CLIENT_MODIFIERS = "hASDM"
MAX_DAEMONS = 64  # Sendmail's MAXDAEMONS in the Debian build
DEFAULT_LISTEN = 10

# First character -> canonical key (Sendmail daemon.c setsockaddroptions()).
_DAEMON_KEYS: dict[str, str] = {
    **{c: "Addr" for c in "Aa"},
    **{c: "Family" for c in "Ff"},
    **{c: "InputMailFilters" for c in "Ii"},
    **{c: "Listen" for c in "Ll"},
    **{c: "Modifiers" for c in "Mm"},
    **{c: "Name" for c in "Nn"},
    **{c: "Port" for c in "Pp"},
    **{c: "SndBufSize" for c in "Ss"},
    "c": "children",
    "D": "DeliveryMode",
    "d": "delayLA",
    "q": "queueLA",
    "R": "RcvBufSize",
    "r": "refuseLA",
    "T": "T",
}
_CLIENT_KEYS: dict[str, str] = {
    **{c: "Addr" for c in "Aa"},
    **{c: "Family" for c in "Ff"},
    **{c: "Modifiers" for c in "Mm"},
    **{c: "Port" for c in "Pp"},
    **{c: "SndBufSize" for c in "Ss"},
    "R": "RcvBufSize",
}
_ACTIVE_KEYS = frozenset({"Addr", "Family", "Listen", "Modifiers", "Name", "Port"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(frozen=True)
class DaemonPort:
    """One listening socket from DaemonPortOptions; ``addr`` None means any address."""

    name: str
    port: int
    addr: str | None
    family: str = "inet"
    modifiers: frozenset[str] = frozenset()
    listen: int = DEFAULT_LISTEN
    modifier_order: str = field(default="", compare=False)  # the letters as given
    ignored: tuple[str, ...] = field(default=(), compare=False)  # keys accepted, not used

    @property
    def requires_auth(self) -> bool:
        return "a" in self.modifiers and "A" not in self.modifiers

    @property
    def auth_disabled(self) -> bool:
        return "A" in self.modifiers

    @property
    def no_etrn(self) -> bool:
        return "E" in self.modifiers

    @property
    def no_starttls(self) -> bool:
        return "S" in self.modifiers

    @property
    def implicit_tls(self) -> bool:
        return "s" in self.modifiers

    @property
    def optional(self) -> bool:
        return "O" in self.modifiers

    @property
    def require_fqdn_sender(self) -> bool:
        return "f" in self.modifiers

    @property
    def allow_unqualified(self) -> bool:
        return "u" in self.modifiers

    @property
    def daemon_flags(self) -> str:
        return daemon_flags_macro(_ordered(self.modifiers, self.modifier_order, DAEMON_MODIFIERS))


@dataclass(frozen=True)
class ClientPort:
    """ClientPortOptions: source address and port for outgoing SMTP (0 = any port)."""

    addr: str | None = None
    port: int = 0
    family: str = "inet"
    modifiers: frozenset[str] = frozenset()
    modifier_order: str = field(default="", compare=False)


def _ordered(letters: Iterable[str], given: str, table: str) -> str:
    """The letters in the order given when that order is known, else the table order."""
    wanted = set(letters)
    if given and set(given) == wanted:
        return given
    return "".join(c for c in table if c in wanted) + "".join(sorted(wanted - set(table)))


def daemon_flags_macro(modifiers: str | Iterable[str]) -> str:
    """Sendmail's ``${daemon_flags}``: letters joined by spaces, uppercase ones doubled.

    ``"Ea"`` gives ``"EE a"``.  A string keeps its order; a set is put in the table order
    ``abcfhrsuACEOS``.
    """
    text = modifiers if isinstance(modifiers, str) else _ordered(modifiers, "", DAEMON_MODIFIERS)
    return " ".join(c * 2 if c.isupper() else c for c in text)


def _collect(text: object, what: str, keys: dict[str, str]) -> dict[str, str]:
    """Split a PortOptions string into canonical key -> value, refusing repeats."""
    valid = sorted(set(keys.values()), key=lambda k: (k not in _ACTIVE_KEYS, k.lower()))
    found: dict[str, str] = {}
    for key, value in split_fields(check_text(text, what), what):
        canonical = keys.get(key[:1])
        if canonical is None:
            raise PolicyError(
                f'PortOptions parameter "{key}" unknown; valid keys are: {", ".join(valid)}'
            )
        if canonical in found:
            raise PolicyError(f'{what} parameter "{canonical}" is given twice')
        if not value and canonical in _ACTIVE_KEYS:
            raise PolicyError(f'{what} parameter "{canonical}" has an empty value')
        found[canonical] = value
    return found


def _parse_name(value: str) -> str:
    if len(value) > 64 or not set(value) <= _NAME_CHARS:
        raise PolicyError(f'Name "{value}" is not valid: use 1-64 letters, digits, ".", "_" or "-"')
    return value


def parse_daemon_port_options(text: str, index: int = 0) -> DaemonPort:
    """Parse one DaemonPortOptions string; ``index`` names it ``Daemon<index>`` by default.

    Raises ``PolicyError`` saying what is wrong and what is valid.
    """
    what = "DaemonPortOptions"
    found = _collect(text, what, _DAEMON_KEYS)
    family = parse_family(found["Family"]) if "Family" in found else None
    addr: str | None = None
    if "Addr" in found:
        addr, family = parse_addr(found["Addr"], family)
    order = parse_modifiers(found.get("Modifiers", ""), DAEMON_MODIFIERS, what)
    if "a" in order and "A" in order:
        raise PolicyError(
            "modifiers a (require AUTH) and A (offer no AUTH) contradict each other; "
            "use one of them"
        )
    return DaemonPort(
        name=_parse_name(found["Name"]) if "Name" in found else f"Daemon{index}",
        port=parse_port(found["Port"]) if "Port" in found else 25,
        addr=addr,
        family=family or "inet",
        modifiers=frozenset(order),
        listen=parse_count(found["Listen"], "Listen", 1, 65535)
        if "Listen" in found
        else DEFAULT_LISTEN,
        modifier_order=order,
        ignored=tuple(key for key in found if key not in _ACTIVE_KEYS),
    )


def parse_client_port_options(text: str) -> ClientPort:
    """Parse a ClientPortOptions string (keys Port, Addr, Family, Modifiers; h A S D M)."""
    what = "ClientPortOptions"
    found = _collect(text, what, _CLIENT_KEYS)
    family = parse_family(found["Family"]) if "Family" in found else None
    addr: str | None = None
    if "Addr" in found:
        addr, family = parse_addr(found["Addr"], family)
    order = parse_modifiers(found.get("Modifiers", ""), CLIENT_MODIFIERS, what)
    return ClientPort(
        addr=addr,
        port=parse_port(found["Port"], allow_zero=True) if "Port" in found else 0,
        family=family or "inet",
        modifiers=frozenset(order),
        modifier_order=order,
    )


def format_daemon_port(p: DaemonPort) -> str:
    """The DaemonPortOptions string for ``p``; ``parse_daemon_port_options`` inverts it."""
    parts = [f"Name={p.name}", f"Port={p.port}"]
    if p.addr is not None:
        parts.append(f"Addr={p.addr}")
    if p.family != "inet":
        parts.append(f"Family={p.family}")
    if p.listen != DEFAULT_LISTEN:
        parts.append(f"Listen={p.listen}")
    if p.modifiers:
        parts.append("M=" + _ordered(p.modifiers, p.modifier_order, DAEMON_MODIFIERS))
    return ", ".join(parts)


def format_client_port(p: ClientPort) -> str:
    """The ClientPortOptions string for ``p``."""
    parts: list[str] = []
    if p.addr is not None:
        parts.append(f"Addr={p.addr}")
    if p.port:
        parts.append(f"Port={p.port}")
    if p.family != "inet" or not parts:
        parts.append(f"Family={p.family}")
    if p.modifiers:
        parts.append("M=" + _ordered(p.modifiers, p.modifier_order, CLIENT_MODIFIERS))
    return ", ".join(parts)


def _where(p: DaemonPort) -> str:
    return (
        p.addr
        if p.addr is not None
        else ("any IPv6 address" if p.family == "inet6" else "any IPv4 address")
    )


def validate_listener_set(ports: Sequence[DaemonPort]) -> list[str]:
    """Errors that make a listener set unusable (an empty list means it is fine).

    Refused: more than 64 listeners, two listeners with one name, and two listeners
    binding the same port on the same address within a family (a wildcard address
    overlaps every address of its family).
    """
    errors: list[str] = []
    if len(ports) > MAX_DAEMONS:
        errors.append(f"{len(ports)} listeners configured; at most {MAX_DAEMONS} are allowed")
    seen_names: dict[str, int] = {}
    for number, port in enumerate(ports, 1):
        if port.name in seen_names:
            errors.append(
                f'listeners {seen_names[port.name]} and {number} are both named "{port.name}"'
            )
        else:
            seen_names[port.name] = number
    by_bind: dict[tuple[str, int], list[DaemonPort]] = {}
    for port in ports:
        group = by_bind.setdefault((port.family, port.port), [])
        for other in group:
            if other.addr is None or port.addr is None or other.addr == port.addr:
                errors.append(
                    f'listeners "{other.name}" ({_where(other)}) and "{port.name}" '
                    f"({_where(port)}) both bind port {port.port}"
                )
                break
        group.append(port)
    return errors


def listener_warnings(ports: Sequence[DaemonPort]) -> list[str]:
    """Notes that do not stop the daemon: keys accepted for Sendmail compatibility only."""
    return [
        f'listener "{port.name}": {key}= is accepted for Sendmail compatibility but ignored'
        for port in ports
        for key in port.ignored
    ]
