"""``virtusertable``: incoming address rewriting (FEATURE(virtusertable)).

:meth:`Virtusertable.lookup` searches, for ``user+detail@domain``:

1. ``user+detail@domain``
2. ``user+*@domain`` (only when there is a detail)
3. ``user@domain``
4. ``@domain`` -- the catch-all; ``%1`` in its value is the user, ``%2`` the
   detail, ``%3`` ``+detail`` (empty without a detail).

A value is a new address (``bob``, ``bob@example.org``, ``%1@example.org``)
or ``error:[D.S.N:]code text`` / ``error:nouser text``
(:func:`.maps.parse_error_target`), which refuses the address.  Keys are
compared without case (makemap folds them).  Which domains the table applies
to (Sendmail's class ``{VirtHost}`` or ``$=w``) is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .maps import CompiledMap, ErrorTarget, parse_error_target


@dataclass(frozen=True)
class VirtualResult:
    """A match: the key, and either the rewritten ``target`` or the ``error``."""

    key: str
    target: str | None = None
    error: ErrorTarget | None = None


class Virtusertable:
    """Lookups in a compiled virtusertable."""

    def __init__(self, compiled: CompiledMap) -> None:
        self.map = compiled

    @classmethod
    def load(cls, map_name: Path) -> Virtusertable:
        return cls(CompiledMap.load(map_name))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Virtusertable:
        return cls(CompiledMap.from_pairs(pairs))

    def lookup(self, address: str) -> VirtualResult | None:
        """The entry for ``address`` (``user@domain``, angle brackets allowed), or None."""
        bare = address.strip()
        if bare.startswith("<") and bare.endswith(">"):
            bare = bare[1:-1]
        local, at, domain = bare.rpartition("@")
        if not at or not local:
            return None
        user, plus, detail = local.partition("+")
        keys = [f"{local}@{domain}"]
        if plus:
            keys += [f"{user}+*@{domain}", f"{user}@{domain}"]
        keys.append(f"@{domain}")
        for key in keys:
            value = self.map.get(key)
            if value is None:
                continue
            value = value.strip()
            error = parse_error_target(value)
            if error is not None:
                return VirtualResult(key, error=error)
            if key.startswith("@"):
                value = (
                    value.replace("%1", user)
                    .replace("%2", detail)
                    .replace("%3", f"+{detail}" if plus else "")
                )
            return VirtualResult(key, target=value)
        return None
