"""The receiver's view of the administrator's maps: ``access`` and ``virtusertable``.

The compiled maps live beside AliasFile (Sendmail keeps them beside aliases in
``/etc/mail``): ``makemap hash <dir>/access < <dir>/access`` builds
``access.sqlite``. A map that is missing is simply not used; one that cannot be
read is logged and not used, so a broken map never stops the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..aliases import AccessMap, Virtusertable
from ..aliases.errors import AliasError
from ..aliases.store import compiled_path
from ..config.model import Config


@dataclass(frozen=True)
class ReceiverMaps:
    """The maps the SMTP session consults (None: no such map)."""

    access: AccessMap | None = None
    virtusers: Virtusertable | None = None


def maps_directory(config: Config) -> Path | None:
    return Path(config.alias_file).parent if config.alias_file else None


def load_receiver_maps(config: Config, log: Callable[[str], None]) -> ReceiverMaps:
    directory = maps_directory(config)
    if directory is None:
        return ReceiverMaps()
    access = virtusers = None
    name = directory / "access"
    if compiled_path(name).exists():
        try:
            access = AccessMap.load(name)
        except (AliasError, OSError) as exc:
            log(f"access map {name}: {exc}; not used")
    name = directory / "virtusertable"
    if compiled_path(name).exists():
        try:
            virtusers = Virtusertable.load(name)
        except (AliasError, OSError) as exc:
            log(f"virtusertable {name}: {exc}; not used")
    return ReceiverMaps(access, virtusers)
