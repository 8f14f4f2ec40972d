"""``mailertable``: per-domain routing (FEATURE(mailertable)).

:meth:`Mailertable.route` searches, for ``host.sub.example.org``: the exact
name, then ``.sub.example.org``, ``.example.org``, ``.org`` (a leading dot
matches any host below), then ``.`` (the default route).  A value is
``mailer:host`` (``esmtp:[mx.example.org]``, ``relay:smart.example.org``,
``smtp:mx.example.org:2525``, ``local:user``) or ``error:[D.S.N:]code text``
(:func:`.maps.parse_error_target`).  ``[host]`` means "no MX lookup", as in
SmartHost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .maps import CompiledMap, ErrorTarget, domain_walk, parse_error_target


@dataclass(frozen=True)
class Route:
    """Where mail for a domain goes: ``mailer`` and ``host`` (or an ``error``)."""

    key: str
    mailer: str = ""
    host: str = ""
    error: ErrorTarget | None = None

    @property
    def mx_lookup(self) -> bool:
        """False for ``[host]``: connect to that host, no MX lookup."""
        return not self.host.startswith("[")


class Mailertable:
    """Lookups in a compiled mailertable."""

    def __init__(self, compiled: CompiledMap) -> None:
        self.map = compiled

    @classmethod
    def load(cls, map_name: Path) -> Mailertable:
        return cls(CompiledMap.load(map_name))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Mailertable:
        return cls(CompiledMap.from_pairs(pairs))

    def route(self, domain: str) -> Route | None:
        """The route for ``domain``, or None (normal MX routing)."""
        walk = domain_walk(domain)
        keys = walk[:1] + [f".{d}" for d in walk[1:]] + ["."]
        for key in keys:
            value = self.map.get(key)
            if value is None:
                continue
            value = value.strip()
            error = parse_error_target(value)
            if error is not None:
                return Route(key, "error", "", error)
            mailer, colon, host = value.partition(":")
            if not colon:
                mailer, host = "esmtp", value
            return Route(key, mailer.strip(), host.strip())
        return None
