"""The RCPT decision: local recipient, relay, or refusal, with Sendmail's reply line.

Owns ``RelayPolicy`` (built from LocalDomains = Sendmail's class w, RelayDomains = class
R, RelayFrom networks and a local-user lookup) and its one question, "may this client
give this recipient?".  The answer depends only on the recipient, the client's address
and whether it authenticated: never on MAIL FROM (BAD-INPUTS 37) or on anything the
client claims.

Rules (BAD-INPUTS C):

- no ``@``: a local part on this host; ``postmaster`` (any case, bare or at a local
  domain) is always accepted (RFC 5321 4.5.1);
- a local part is looked up literally: ``%``, ``!`` and quoted local parts never route
  anywhere, they are just names that are usually unknown (``550 5.1.1``);
- a second ``@`` or a source route gives ``553 5.1.3 ... Invalid route address``;
- LocalDomains match exactly (case-insensitive; ``[ip]`` literals only when listed
  verbatim); RelayDomains match the domain and its subdomains, as class R does;
- a remote domain is relayed for an authenticated client, a client in RelayFrom, or a
  RelayDomains domain; otherwise ``550 5.7.1 <addr>... Relaying denied``.  That is the
  text of Sendmail's check_rcpt ruleset; BAD-INPUTS 30's "554 5.7.1" is not used.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Characters that can never appear in an unquoted domain we would deliver to.
_BAD_DOMAIN_CHARS = frozenset('@:,;<>()[]"\\ \t')


class RcptVerdict(enum.Enum):
    LOCAL = "local"
    RELAY = "relay"
    DENIED = "denied"
    MALFORMED = "malformed"
    UNKNOWN_USER = "unknown_user"


@dataclass(frozen=True)
class RcptDecision:
    """The verdict and the complete SMTP reply line (without CRLF)."""

    verdict: RcptVerdict
    reply: str

    @property
    def accepted(self) -> bool:
        return self.verdict in (RcptVerdict.LOCAL, RcptVerdict.RELAY)


def _split(address: str) -> tuple[str, str | None] | None:
    """(local part, domain or None) or None when malformed.  Quotes are kept as given."""
    if address.startswith('"'):
        i = 1
        while i < len(address):
            if address[i] == "\\":
                i += 2
                continue
            if address[i] == '"':
                break
            i += 1
        else:
            return None  # unterminated quote
        local, rest = address[: i + 1], address[i + 1 :]
        if not rest:
            return local, None
        if not rest.startswith("@") or "@" in rest[1:]:
            return None
        return local, rest[1:]
    if address.count("@") > 1:
        return None
    local, sep, domain = address.partition("@")
    return local, (domain if sep else None)


def _normal_domain(domain: str) -> str | None:
    """The lower-cased domain without a trailing dot, or None when it cannot be one."""
    if domain.startswith("["):
        return domain.lower() if domain.endswith("]") and "]" not in domain[:-1] else None
    domain = domain[:-1] if domain.endswith(".") else domain
    if not domain or domain.startswith(".") or ".." in domain:
        return None
    if any(ch in _BAD_DOMAIN_CHARS for ch in domain):
        return None
    return domain.lower()


def _client_address(client_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(client_ip.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class RelayPolicy:
    """Decides each RCPT from the configured domains, networks and local users."""

    def __init__(
        self,
        *,
        local_domains: Iterable[str],
        relay_domains: Iterable[str],
        relay_from: Iterable[Network],
        local_user_known: Callable[[str], bool],
    ) -> None:
        self._local = frozenset(d.lower().rstrip(".") for d in local_domains)
        self._relay = frozenset(d.lower().rstrip(".") for d in relay_domains)
        self._networks = tuple(relay_from)
        self._known = local_user_known

    def client_may_relay(self, client_ip: str, authenticated: bool) -> bool:
        """True for an authenticated client or one whose address is in RelayFrom."""
        if authenticated:
            return True
        ip = _client_address(client_ip)
        if ip is None:
            return False
        return any(ip.version == net.version and ip in net for net in self._networks)

    def is_local_domain(self, domain: str) -> bool:
        return domain.lower().rstrip(".") in self._local

    def is_relay_domain(self, domain: str) -> bool:
        """RelayDomains match the domain itself and every subdomain (Sendmail class R)."""
        name = domain.lower().rstrip(".")
        if name.startswith("["):
            return name in self._relay
        labels = name.split(".")
        return any(".".join(labels[i:]) in self._relay for i in range(len(labels)))

    def check_recipient(self, address: str, *, client_ip: str, authenticated: bool) -> RcptDecision:
        """The decision for ``RCPT TO:<address>`` (``address`` without angle brackets)."""
        shown = f"<{address}>"
        if not address:
            return RcptDecision(RcptVerdict.MALFORMED, "553 5.1.3 <>... User address required")
        if address.startswith("@"):
            return _malformed(shown)
        parts = _split(address)
        if parts is None:
            return _malformed(shown)
        local, domain = parts
        if not local:
            return RcptDecision(
                RcptVerdict.MALFORMED, f"553 5.1.3 {shown}... User address required"
            )
        if domain is not None:
            if not domain:
                return RcptDecision(
                    RcptVerdict.MALFORMED, f"553 5.1.3 {shown}... Hostname required"
                )
            normal = _normal_domain(domain)
            if normal is None:
                return RcptDecision(
                    RcptVerdict.MALFORMED, f"553 5.1.2 {shown}... Invalid host name"
                )
            if normal not in self._local:
                return self._remote(shown, normal, client_ip, authenticated)
        if local.lower() == "postmaster" or self._known(local):
            return RcptDecision(RcptVerdict.LOCAL, f"250 2.1.5 {shown}... Recipient ok")
        return RcptDecision(RcptVerdict.UNKNOWN_USER, f"550 5.1.1 {shown}... User unknown")

    def _remote(self, shown: str, domain: str, client_ip: str, authenticated: bool) -> RcptDecision:
        if self.client_may_relay(client_ip, authenticated) or self.is_relay_domain(domain):
            return RcptDecision(RcptVerdict.RELAY, f"250 2.1.5 {shown}... Recipient ok")
        return RcptDecision(RcptVerdict.DENIED, f"550 5.7.1 {shown}... Relaying denied")


def _malformed(shown: str) -> RcptDecision:
    return RcptDecision(RcptVerdict.MALFORMED, f"553 5.1.3 {shown}... Invalid route address")
