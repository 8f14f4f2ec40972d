"""The ``access`` map (FEATURE(access_db) with tags): decisions for connect, MAIL and RCPT.

Keys and search order (Sendmail's proto.m4 rulesets with ``<+ Tag>``: each key
is tried with its tag first, then without):

- :meth:`AccessMap.check_connect` (``Connect:``): the client's host name and its
  parent domains (when it has a verified name), then its IP address and its
  prefixes (``192.0.2.1``, ``192.0.2``, ``192.0``, ``192``; IPv6 as
  ``IPv6:...``);
- :meth:`AccessMap.check_mail` (``From:``) and :meth:`AccessMap.check_rcpt`
  (``To:``): the full address ``user@domain``, then the domain and its parents
  (an ``[ip]`` literal walks the IP instead), then ``user@``.

Values: ``OK``, ``RELAY``, ``REJECT``, ``DISCARD``, ``SKIP`` (stop this walk,
no decision), ``ERROR:[D.S.N:]code text`` (also a bare ``code text``); other
values (``QUARANTINE:...``, spam-friend flags ...) come back as ``OTHER``.
``ERROR:"421 4.3.2 text"`` (the status after the code) is read too.
:meth:`AccessResult.reply` gives the SMTP reply line for refusals:
``550 5.7.1 Access denied`` at connect, ``550 5.7.1 <addr>... Access denied``
for MAIL/RCPT, the map's own text for ``ERROR:``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .maps import CompiledMap, domain_walk, ip_walk

_DSN_FIRST = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\s+(.*)$", re.S)
_ERROR = re.compile(r"^(?:([245]\.\d{1,3}\.\d{1,3}):)?\s*([245]\d\d)(?:\s+(.*))?$", re.S)


class AccessKind(enum.Enum):
    OK = "OK"
    RELAY = "RELAY"
    REJECT = "REJECT"
    DISCARD = "DISCARD"
    SKIP = "SKIP"
    ERROR = "ERROR"
    OTHER = "OTHER"


@dataclass(frozen=True)
class AccessResult:
    """A matching entry: what it says, the key that matched, the raw value."""

    kind: AccessKind
    key: str
    value: str
    code: str | None = None
    dsn: str | None = None
    text: str | None = None

    @property
    def refuses(self) -> bool:
        return self.kind in (AccessKind.REJECT, AccessKind.ERROR)

    def reply(self, address: str | None = None) -> str | None:
        """The SMTP reply for a refusal (``address`` for MAIL/RCPT), None otherwise."""
        if self.kind is AccessKind.REJECT:
            where = f"{address}... " if address else ""
            return f"550 5.7.1 {where}Access denied"
        if self.kind is AccessKind.ERROR and self.code:
            dsn = self.dsn or f"{self.code[0]}.0.0"
            return f"{self.code} {dsn} {self.text or ''}".rstrip()
        return None


def parse_access_value(key: str, value: str) -> AccessResult:
    """Classify one access-map right side."""
    text = value.strip()
    word = text.upper()
    simple = {k.value: k for k in AccessKind if k not in (AccessKind.ERROR, AccessKind.OTHER)}
    if word in simple:
        return AccessResult(simple[word], key, value)
    body = text[6:] if word.startswith("ERROR:") else text
    body = body.strip()
    if len(body) >= 2 and body[0] == body[-1] == '"':
        body = body[1:-1]
    match = _ERROR.match(body)
    if match:
        dsn, code, rest = match.group(1), match.group(2), (match.group(3) or "").strip()
        if len(rest) >= 2 and rest[0] == rest[-1] == '"':
            rest = rest[1:-1]
        inner = _DSN_FIRST.match(rest)
        if dsn is None and inner:
            dsn, rest = inner.group(1), inner.group(2)
        return AccessResult(AccessKind.ERROR, key, value, code, dsn, rest)
    if word.startswith("ERROR:"):
        return AccessResult(AccessKind.ERROR, key, value, "550", "5.7.1", body or "Access denied")
    return AccessResult(AccessKind.OTHER, key, value)


class AccessMap:
    """Lookups in a compiled access map."""

    def __init__(self, compiled: CompiledMap) -> None:
        self.map = compiled

    @classmethod
    def load(cls, map_name: Path) -> AccessMap:
        return cls(CompiledMap.load(map_name))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> AccessMap:
        return cls(CompiledMap.from_pairs(pairs))

    def _walk(self, tag: str, keys: Iterable[str]) -> AccessResult | bool | None:
        """First match over ``keys`` (tagged, then bare); False means SKIP stopped the walk."""
        for key in keys:
            for candidate in (f"{tag}:{key}", key):
                value = self.map.get(candidate)
                if value is None:
                    continue
                result = parse_access_value(candidate, value)
                if result.kind is AccessKind.SKIP:
                    return False
                return result
        return None

    def _search(self, tag: str, groups: Iterable[Iterable[str]]) -> AccessResult | None:
        for keys in groups:
            found = self._walk(tag, keys)
            if isinstance(found, AccessResult):
                return found
        return None

    def check_connect(self, ip: str, host_name: str | None = None) -> AccessResult | None:
        """The decision for a client at ``ip`` (with its verified ``host_name``, if any)."""
        groups: list[list[str]] = []
        if host_name and not host_name.startswith("["):
            groups.append(domain_walk(host_name))
        groups.append(ip_walk(ip))
        return self._search("Connect", groups)

    def _address(self, tag: str, address: str) -> AccessResult | None:
        bare = address.strip()
        if bare.startswith("<") and bare.endswith(">"):
            bare = bare[1:-1]
        if not bare:
            return self._search(tag, [["<>"]])
        local, at, domain = bare.rpartition("@")
        if not at:
            return self._search(tag, [[f"{bare}@"]])
        if domain.startswith("["):
            walk = ip_walk(domain)
        else:
            walk = domain_walk(domain)
        return self._search(tag, [[f"{local}@{domain}"], walk, [f"{local}@"]])

    def check_mail(self, sender: str) -> AccessResult | None:
        """The decision for ``MAIL FROM:<sender>`` (``From:`` tag; ``<>`` for the null sender)."""
        return self._address("From", sender)

    def check_rcpt(self, recipient: str) -> AccessResult | None:
        """The decision for ``RCPT TO:<recipient>`` (``To:`` tag)."""
        return self._address("To", recipient)
