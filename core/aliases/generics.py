"""``genericstable`` with ``generics-domains``: outgoing sender rewriting (FEATURE(genericstable)).

Only addresses in a generics domain are rewritten: a bare ``user`` counts as
``user@<host name>``; ``entire_domain`` (FEATURE(generics_entire_domain))
also matches subdomains.  Keys, in order: ``user@domain``, then ``user``.
The value replaces the whole address (``bob.smith@example.org``).

:func:`load_domain_list` reads a domain-list file such as
``generics-domains`` (Sendmail's ``F{G}``): one domain per line, ``#``
comments and blank lines skipped, lower-cased.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .maps import CompiledMap, domain_walk
from .parser import ascii_lower


def load_domain_list(path: Path) -> frozenset[str]:
    """The domains listed in ``path`` (one per line)."""
    text = Path(path).read_text(encoding="utf-8")
    out = set()
    for line in text.splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            out.add(ascii_lower(word).rstrip("."))
    return frozenset(out)


class GenericsTable:
    """Sender rewriting for the ``domains`` (generics-domains)."""

    def __init__(
        self, compiled: CompiledMap, domains: Iterable[str], *, entire_domain: bool = False
    ) -> None:
        self.map = compiled
        self.domains = frozenset(ascii_lower(d).rstrip(".") for d in domains)
        self.entire_domain = entire_domain

    @classmethod
    def load(
        cls, map_name: Path, domains_file: Path, *, entire_domain: bool = False
    ) -> GenericsTable:
        return cls(
            CompiledMap.load(map_name), load_domain_list(domains_file), entire_domain=entire_domain
        )

    def _covered(self, domain: str) -> bool:
        if self.entire_domain:
            return any(d in self.domains for d in domain_walk(domain))
        return ascii_lower(domain).rstrip(".") in self.domains

    def rewrite(self, address: str, host_name: str) -> str | None:
        """The rewritten sender for ``address``, or None when it stays as it is."""
        bare = address.strip()
        if bare.startswith("<") and bare.endswith(">"):
            bare = bare[1:-1]
        if not bare:
            return None
        local, at, domain = bare.rpartition("@")
        if not at:
            local, domain = bare, host_name
        if not local or not self._covered(domain):
            return None
        for key in (f"{local}@{domain}", local):
            value = self.map.get(key)
            if value is not None and value.strip():
                return value.strip()
        return None
