"""Value kinds: how each option's raw value is checked, converted and shown.

Owns the small parsers behind the option table: paths (relative to the config file's
folder), bounded integers, byte sizes, durations, booleans, choices, host names, domain
lists, CIDR lists and the smart host.  Each ``Kind`` turns a TOML value into a typed one
(``parse``), an ``-O`` string into a TOML-like value (``from_text``) and a typed value into
Sendmail-style text (``show``).  Parsers raise ``BadValue`` with the reason only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .durations import format_duration, parse_duration
from .errors import BadValue
from .model import SmartHost

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SIZE = re.compile(r"(\d{1,15})\s*([kmg]?)b?", re.IGNORECASE)
_TRUE = frozenset({"true", "yes", "on", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "off", "0", "f", "n"})


def _same(text: str) -> object:
    return text


def _show_any(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Kind:
    """Parse a raw value (with the config folder for relative paths), read ``-O`` text, show."""

    parse: Callable[[object, Path], Any]
    from_text: Callable[[str], object] = _same
    show: Callable[[Any], str] = _show_any
    describe: str = ""


def _need_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadValue(f"expected {what} (a string), not {value!r}")
    return value


def path_kind(*, optional: bool = False, relative_to_base: bool = True) -> Kind:
    """A file or folder name; relative names are taken relative to the config's folder."""

    def parse(value: object, base: Path) -> Path | None:
        text = _need_str(value, "a path")
        if not text:
            if optional:
                return None
            raise BadValue("a path is required here; the empty string is not one")
        if "\0" in text:
            raise BadValue("a path cannot contain NUL")
        path = Path(text)
        return base / path if relative_to_base and not path.is_absolute() else path

    return Kind(parse, describe="a path" + (' ("" for none)' if optional else ""))


def _int_text(text: str) -> object:
    stripped = text.strip()
    return int(stripped) if re.fullmatch(r"-?\d{1,30}", stripped) else text


def int_kind(low: int, high: int) -> Kind:
    def parse(value: object, base: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValue(f"expected a whole number from {low} to {high}, not {value!r}")
        if not low <= value <= high:
            raise BadValue(f"{value} is out of range: use {low} to {high}")
        return value

    return Kind(parse, _int_text, describe=f"a whole number, {low}-{high}")


def size_kind(low: int, high: int) -> Kind:
    """Bytes: a whole number, or a string with a K, M or G suffix (powers of 1024)."""

    def parse(value: object, base: Path) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and (m := _SIZE.fullmatch(value.strip())):
            number = int(m.group(1)) * 1024 ** " kmg".index(m.group(2).lower() or " ")
        if number is None:
            raise BadValue(f'expected a size in bytes such as 52428800 or "50M", not {value!r}')
        if not low <= number <= high:
            raise BadValue(f"{number} bytes is out of range: use {low} to {high} bytes")
        return number

    return Kind(parse, _int_text, describe="bytes, or a number with K, M or G")


def duration_kind(low: float, high: float, unit: str = "m") -> Kind:
    def parse(value: object, base: Path) -> float:
        seconds = parse_duration(value, unit)
        if not low <= seconds <= high:
            raise BadValue(
                f"{value!r} is out of range: use {format_duration(low)} to {format_duration(high)}"
            )
        return seconds

    return Kind(parse, _int_text, format_duration, f'a duration like "30m" (bare number: {unit})')


def _bool_text(text: str) -> object:
    word = text.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else text


def _parse_bool(value: object, base: Path) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, not {value!r}")
    return value


BOOL = Kind(_parse_bool, _bool_text, lambda v: "true" if v else "false", "true or false")


def choice_kind(*choices: str) -> Kind:
    def parse(value: object, base: Path) -> str:
        word = _need_str(value, "one of " + ", ".join(choices)).strip().lower()
        if word not in choices:
            raise BadValue(f'"{value}" is not valid; use one of: {", ".join(choices)}')
        return word

    return Kind(parse, describe=" | ".join(choices))


def check_hostname(text: str) -> str:
    """A DNS host name (letters, digits, hyphens; dot-separated labels); BadValue if not."""
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(p) for p in name.split(".")):
        raise BadValue(
            f'"{text}" is not a valid host name: use labels of letters, digits and hyphens '
            "separated by dots"
        )
    return name


def check_domain(text: str) -> str:
    """A domain (lower-cased) or an address literal such as ``[192.0.2.1]``."""
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        inner = inner[5:] if inner.lower().startswith("ipv6:") else inner
        try:
            ipaddress.ip_address(inner)
        except ValueError:
            raise BadValue(f'"{text}" is not a valid address literal') from None
        return text.lower()
    return check_hostname(text).lower()


def _parse_hostname(value: object, base: Path) -> str:
    return check_hostname(_need_str(value, "a host name").strip())


HOSTNAME = Kind(_parse_hostname, describe="a host name")


def _split_list(value: object, what: str) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise BadValue(f'expected a list of {what}, such as ["a", "b"], not {value!r}')


def _list_text(text: str) -> object:
    return [item.strip() for item in text.split(",") if item.strip()]


def _show_list(values: Any) -> str:
    return ",".join(sorted(str(v) for v in values))


def name_list_kind(check: Callable[[str], str], what: str) -> Kind:
    def parse(value: object, base: Path) -> frozenset[str]:
        return frozenset(check(item) for item in _split_list(value, what))

    return Kind(parse, _list_text, _show_list, f"a list of {what}")


def check_user(text: str) -> str:
    if not text or len(text) > 64 or any(c.isspace() or c in '@:,"<>' for c in text):
        raise BadValue(f'"{text}" is not a valid user name: no spaces, @, :, quotes or <>')
    return text


def _parse_networks(value: object, base: Path) -> tuple[Any, ...]:
    networks = []
    for item in _split_list(value, "networks"):
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            hint = ""
            try:
                hint = f"; did you mean {ipaddress.ip_network(item, strict=False)}?"
            except ValueError:
                pass
            raise BadValue(f'"{item}" is not a network in CIDR form ({exc}){hint}') from None
    return tuple(networks)


NETWORKS = Kind(
    _parse_networks, _list_text, lambda v: ",".join(str(n) for n in v), "a list of CIDR networks"
)


def _parse_smart_host(value: object, base: Path) -> SmartHost | None:
    text = _need_str(value, "a host").strip()
    if not text:
        return None
    port = 25
    bracketed = text.startswith("[")
    if bracketed:
        host, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            raise BadValue(f'"{text}" is not [host] or [host]:port')
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_raw = text.partition(":")
        port_text = port_text_raw if colon else None
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise BadValue(f'port "{port_text}" must be a number from 1 to 65535')
        port = int(port_text)
    try:
        ipaddress.ip_address(host[5:] if host.lower().startswith("ipv6:") else host)
    except ValueError:
        check_hostname(host)
    return SmartHost(host=host, port=port, mx_lookup=not bracketed)


SMART_HOST = Kind(_parse_smart_host, describe='"[host]:port", "[host]" or "host"')


def _parse_text(value: object, base: Path) -> str | None:
    text = _need_str(value, "text").strip()
    if any(c.isspace() for c in text.replace(", ", ",")):
        raise BadValue(f'"{text}" must be addresses separated by commas, without spaces')
    return text or None


ADDRESSES = Kind(_parse_text, describe='an address, or addresses separated by ","')
