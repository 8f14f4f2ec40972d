"""Compiled ``makemap`` maps and the helpers every map lookup shares.

- :class:`CompiledMap` -- a map built by :mod:`.makemap` (``<map>.sqlite``,
  see :mod:`.store`), loaded into memory; :meth:`CompiledMap.get` folds the
  key to lower case when the map was built with folding (the default;
  ``makemap -f`` turns it off), as Sendmail's map lookups do.
- :func:`parse_error_target` -- the ``error:`` right sides of virtusertable and
  mailertable: ``error:D.S.N:code text``, ``error:code text`` and Sendmail's
  old ``error:nouser text`` (a sysexits name).
- :func:`domain_walk` / :func:`ip_walk` -- the key search orders: a domain and
  its parents, an IP address and its prefixes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .errors import EX_NOINPUT, MapError
from .parser import ascii_lower
from .store import TableError, compiled_path, read_table

_DSN = re.compile(r"^([245]\.\d{1,3}\.\d{1,3}):?\s*(.*)$", re.S)
_CODE = re.compile(r"^([245]\d\d)(?:\s+(.*))?$", re.S)
SYSEXIT_ERRORS = {
    "nouser": ("550", "5.1.1"),
    "67": ("550", "5.1.1"),
    "nohost": ("550", "5.1.2"),
    "68": ("550", "5.1.2"),
    "unavailable": ("550", "5.0.0"),
    "69": ("550", "5.0.0"),
    "tempfail": ("451", "4.0.0"),
    "75": ("451", "4.0.0"),
    "noperm": ("550", "5.7.1"),
    "77": ("550", "5.7.1"),
}


@dataclass(frozen=True)
class CompiledMap:
    """A map in memory: key -> first value, and whether keys are folded to lower case."""

    path: Path | None = None
    entries: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fold: bool = True

    def get(self, key: str) -> str | None:
        return self.entries.get(ascii_lower(key) if self.fold else key)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], *, fold: bool = True) -> CompiledMap:
        entries: dict[str, str] = {}
        for key, value in pairs:
            entries.setdefault(ascii_lower(key) if fold else key, value)
        return cls(None, MappingProxyType(entries), fold)

    @classmethod
    def load(cls, map_name: Path) -> CompiledMap:
        """Open the compiled map of ``map_name`` (the name given to makemap)."""
        path = compiled_path(Path(map_name))
        try:
            table = read_table(path)
        except TableError as exc:
            raise MapError(str(exc), exit_code=EX_NOINPUT) from exc
        fold = table.meta.get("fold", "1") == "1"
        entries: dict[str, str] = {}
        for key, value in table.entries:
            entries.setdefault(key, value)
        return cls(path, MappingProxyType(entries), fold)


@dataclass(frozen=True)
class ErrorTarget:
    """An ``error:`` right side: SMTP code, enhanced status and text."""

    code: str
    dsn: str
    text: str

    @property
    def reply(self) -> str:
        return f"{self.code} {self.dsn} {self.text}".rstrip()

    @property
    def temporary(self) -> bool:
        return self.code.startswith("4")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def parse_error_target(value: str) -> ErrorTarget | None:
    """The :class:`ErrorTarget` of ``error:...`` (any case), or None for other values."""
    if not value[:6].lower() == "error:":
        return None
    rest = _unquote(value[6:])
    dsn: str | None = None
    match = _DSN.match(rest)
    if match:
        dsn, rest = match.group(1), _unquote(match.group(2))
    word, _, text = rest.partition(" ")
    if word.lower() in SYSEXIT_ERRORS:
        code, default_dsn = SYSEXIT_ERRORS[word.lower()]
        return ErrorTarget(code, dsn or default_dsn, text.strip())
    code_match = _CODE.match(rest)
    if code_match:
        code, text = code_match.group(1), (code_match.group(2) or "").strip()
        inner = _DSN.match(text)
        if dsn is None and inner and " " in text:
            dsn, text = inner.group(1), inner.group(2).strip()
        return ErrorTarget(code, dsn or f"{code[0]}.0.0", text)
    if dsn:
        return ErrorTarget("550" if dsn.startswith("5") else "451", dsn, rest.strip())
    return ErrorTarget("550", "5.0.0", rest.strip())


def domain_walk(domain: str) -> list[str]:
    """``a.b.c`` -> ``a.b.c``, ``b.c``, ``c`` (lower case, trailing dot dropped)."""
    labels = ascii_lower(domain).rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels)) if labels[i]]


def ip_walk(address: str) -> list[str]:
    """An IP address and its prefixes, in Sendmail's access-map key forms.

    IPv4 ``192.0.2.1`` -> ``192.0.2.1``, ``192.0.2``, ``192.0``, ``192``.  IPv6 keys
    carry Sendmail's ``IPv6:`` prefix: first the compressed form, then the full
    form (no ``::``, no leading zeros) and its prefixes group by group.
    """
    text = address.strip().strip("[]")
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return []
    if isinstance(ip, ipaddress.IPv4Address):
        parts = str(ip).split(".")
        return [".".join(parts[:n]) for n in range(4, 0, -1)]
    groups = [format(int(g, 16), "x") for g in ip.exploded.split(":")]
    keys = [f"IPv6:{ip.compressed}"]
    keys += [f"IPv6:{':'.join(groups[:n])}" for n in range(8, 0, -1)]
    return list(dict.fromkeys(keys))
