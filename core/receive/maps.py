"""The receiver's view of the administrator's maps: ``access`` and ``virtusertable``.

The compiled maps live beside AliasFile (Sendmail keeps them beside aliases in
``/etc/mail``): ``makemap hash <dir>/access < <dir>/access`` builds
``access.sqlite``. A map that is missing is simply not used; one that cannot be
read is logged and not used, so a broken map never stops the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..aliases import AccessMap, Virtusertable
from ..aliases.setup import load_optional_map
from ..config.model import Config


@dataclass(frozen=True)
class ReceiverMaps:
    """The maps the SMTP session consults (None: no such map)."""

    access: AccessMap | None = None
    virtusers: Virtusertable | None = None


def load_receiver_maps(config: Config, log: Callable[[str], None]) -> ReceiverMaps:
    return ReceiverMaps(
        access=load_optional_map(config, "access", AccessMap.load, log),
        virtusers=load_optional_map(config, "virtusertable", Virtusertable.load, log),
    )
