"""Per-domain routing (``mailertable``) and outgoing sender rewriting (``genericstable``).

Both maps live beside AliasFile, compiled with ``makemap`` (``mailertable.sqlite``,
``genericstable.sqlite``; ``generics-domains`` is a plain list of domains).
A mailertable entry overrides SmartHost and MX routing for its domain, as in
Sendmail: ``esmtp:[host]:port`` (no MX lookup), ``esmtp:host`` (MX lookup),
``relay:...`` the same with the relay mailer, ``error:D.S.N:code text`` refuses.
The genericstable rewrites the envelope sender of mail leaving over SMTP when
the sender's domain is listed in generics-domains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..aliases import GenericsTable, Mailertable, Virtusertable
from ..aliases.setup import load_optional_map
from ..config.errors import BadValue
from ..config.kinds import SMART_HOST
from ..config.model import Config
from .outcome import Outcome, failed
from .smtp import NextHop

SMTP_MAILERS = ("esmtp", "smtp", "smtp8", "dsmtp", "relay")


@dataclass(frozen=True)
class DeliveryMaps:
    """The maps delivery consults (None: no such map)."""

    mailertable: Mailertable | None = None
    generics: GenericsTable | None = None
    virtusers: Virtusertable | None = None


def load_delivery_maps(config: Config, log: Callable[[str], None]) -> DeliveryMaps:
    """mailertable, genericstable (with generics-domains) and virtusertable, when built."""
    generics = None
    if config.alias_file and (Path(config.alias_file).parent / "generics-domains").exists():
        domains = Path(config.alias_file).parent / "generics-domains"
        generics = load_optional_map(
            config, "genericstable", lambda path: GenericsTable.load(path, domains), log
        )
    return DeliveryMaps(
        mailertable=load_optional_map(config, "mailertable", Mailertable.load, log),
        generics=generics,
        virtusers=load_optional_map(config, "virtusertable", Virtusertable.load, log),
    )


def routed_hop(maps: DeliveryMaps, domain: str) -> NextHop | Outcome | None:
    """The mailertable's hop (or refusal) for ``domain``; None when it has no entry."""
    if maps.mailertable is None or not domain:
        return None
    route = maps.mailertable.route(domain)
    if route is None:
        return None
    if route.error is not None:
        return failed(route.error.text, status=route.error.dsn, diagnostic=route.error.reply)
    if route.mailer not in SMTP_MAILERS or not route.host:
        text = f"554 5.3.5 mailertable entry for {domain}: mailer {route.mailer!r} not supported"
        return failed(text[10:], status="5.3.5", diagnostic=text)
    try:
        smart = SMART_HOST.parse(route.host, Path("."))
    except BadValue as exc:
        text = f"554 5.3.5 mailertable entry for {domain}: {exc}"
        return failed(text[10:], status="5.3.5", diagnostic=text)
    return NextHop(smart.host, smart.port, smart.mx_lookup, route.mailer)


def rewritten_sender(maps: DeliveryMaps, sender: str, host_name: str) -> str:
    """The envelope sender as it leaves over SMTP (genericstable applied)."""
    if maps.generics is None or not sender:
        return sender
    return maps.generics.rewrite(sender, host_name) or sender
