"""Where mail for a domain goes: MX lookup with dnspython, through an injected resolver.

:class:`MailRouter` turns a destination into an ordered list of
:class:`MailHost` (a display name as Sendmail prints it -- ``mx1.example.org.``
from DNS, ``[192.0.2.1]`` for an address literal -- and its addresses):

- a domain literal (``[127.0.0.1]``) is used as it is, no DNS;
- otherwise the MX records, lowest preference first (DNS order within a
  preference), each host's A then AAAA addresses; MX hosts that name this
  host (``HostName``), and every MX of the same or worse preference, are
  dropped as Sendmail drops them;
- no MX records: the domain's own A/AAAA (the implicit MX);
- a null MX (``0 .``, RFC 7505) refuses mail permanently;
- ``mx_lookup=False`` (``SmartHost = "[host]"``) skips the MX step.

Errors: :class:`HostUnknown` (NXDOMAIN, or no MX and no address: bounce
with 5.1.2), :class:`NullMx` (5.1.10), :class:`LookupFailed` (server failure
or timeout: defer with 4.4.3).  The dnspython resolver is passed in; tests
point it at a DNS server of their own on loopback, never the system's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol

import dns.asyncresolver
import dns.exception
import dns.resolver


class Resolver(Protocol):
    """What we need of ``dns.asyncresolver.Resolver``."""

    async def resolve(self, qname: str, rdtype: str, *args: Any, **kwargs: Any) -> Any: ...


class RouteError(Exception):
    """No host to deliver to."""

    status = "4.4.3"
    temporary = True


class HostUnknown(RouteError):
    """The domain does not exist or has no address (Sendmail's EX_NOHOST)."""

    status = "5.1.2"
    temporary = False


class NullMx(RouteError):
    """The domain publishes a null MX: it accepts no mail."""

    status = "5.1.10"
    temporary = False


class LookupFailed(RouteError):
    """A temporary DNS failure (SERVFAIL, timeout, no answer from any server)."""


class LoopsBack(RouteError):
    """Every MX is this host or worse: mail would loop back to us."""

    status = "5.3.5"
    temporary = False


@dataclass(frozen=True)
class MailHost:
    """One host to try: its name as shown and its addresses."""

    name: str
    addresses: tuple[str, ...]
    preference: int = 0


def literal_address(text: str) -> str | None:
    """The address in ``[192.0.2.1]`` / ``[IPv6:2001:db8::1]`` / a bare IP, else None."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if inner.lower().startswith("ipv6:"):
        inner = inner[5:]
    try:
        return str(ipaddress.ip_address(inner))
    except ValueError:
        return None


class MailRouter:
    """MX and address lookups for outgoing mail."""

    def __init__(
        self,
        resolver: Resolver | None = None,
        *,
        host_name: str = "",
        families: tuple[str, ...] = ("A", "AAAA"),
    ) -> None:
        self._resolver = resolver
        self.host_name = host_name.lower().rstrip(".")
        self.families = families

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            self._resolver = dns.asyncresolver.Resolver()
        return self._resolver

    async def hosts(self, destination: str, *, mx_lookup: bool = True) -> list[MailHost]:
        """The hosts to try for ``destination``, best first; raises :class:`RouteError`."""
        literal = literal_address(destination)
        if literal is not None:
            shown = destination if destination.startswith("[") else f"[{destination}]"
            return [MailHost(shown, (literal,))]
        if not mx_lookup:
            return [MailHost(destination, await self.addresses(destination, strict=True))]
        try:
            answer = await self.resolver.resolve(destination, "MX", search=False)
        except dns.resolver.NXDOMAIN as exc:
            raise HostUnknown(f"Name server: {destination}: host not found") from exc
        except dns.resolver.NoAnswer:
            return [MailHost(destination, await self.addresses(destination, strict=True))]
        except dns.exception.DNSException as exc:
            raise LookupFailed(f"Name server: {destination}: host name lookup failure") from exc
        records = sorted(answer, key=lambda r: r.preference)
        if len(records) == 1 and records[0].exchange.to_text() == ".":
            raise NullMx(f"{destination}: domain does not accept mail (null MX)")
        return await self._mx_hosts(destination, records)

    async def _mx_hosts(self, destination: str, records: list[Any]) -> list[MailHost]:
        hosts: list[MailHost] = []
        for record in records:
            name = record.exchange.to_text()
            if name == ".":
                continue
            if self.host_name and name.lower().rstrip(".") == self.host_name:
                if not hosts:
                    raise LoopsBack(f"{destination}: config error: mail loops back to me")
                break
            try:
                addresses = await self.addresses(name, strict=False)
            except LookupFailed:
                continue
            if addresses:
                hosts.append(MailHost(name, addresses, int(record.preference)))
        if not hosts:
            raise LookupFailed(f"Name server: {destination}: host name lookup failure")
        return hosts

    async def addresses(self, name: str, *, strict: bool) -> tuple[str, ...]:
        """A then AAAA addresses of ``name``; ``strict`` raises HostUnknown when none."""
        found: list[str] = []
        missing = 0
        for rdtype in self.families:
            try:
                answer = await self.resolver.resolve(name, rdtype, search=False)
            except dns.resolver.NXDOMAIN as exc:
                if strict:
                    raise HostUnknown(f"Name server: {name}: host not found") from exc
                return ()
            except dns.resolver.NoAnswer:
                missing += 1
                continue
            except dns.exception.DNSException as exc:
                raise LookupFailed(f"Name server: {name}: host name lookup failure") from exc
            found.extend(r.to_text() for r in answer)
        if not found and strict and missing == len(self.families):
            raise HostUnknown(f"Name server: {name}: host not found")
        return tuple(found)
