"""Building the expansion machinery from a ``Config``: table, accounts, policies.

- :func:`newaliases_for` -- :func:`.compile.newaliases` for ``AliasFile``;
- :func:`load_table_for` -- :func:`.table.load_alias_table` for ``AliasFile``
  with the LocalDomains (so ``name@<local domain>:`` keys work);
- :func:`expander_for` -- an :class:`.expand.Expander` with the local
  agent's account rule (:func:`.accounts.users_for`), ``.forward`` enabled
  only when running as root, ForwardPath ``$z/.forward`` unless given,
  ``:include:`` files allowed in the aliases file's folder only, and
  ``/etc/shells`` for the valid-shell rule;
- :func:`restricted_reader` -- the ``reader`` to pass for ``-bv`` under
  PrivacyOptions ``restrictexpand`` (None for root).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ..config.model import Config
from ..policy.privacy import Privacy
from .accounts import UserDb, users_for, valid_shells
from .compile import CompileResult, newaliases
from .errors import AliasError
from .expand import Expander, ExpandLimits, IncludePolicy
from .forward import DEFAULT_FORWARD_PATH, ForwardPolicy, forward_enabled_default
from .store import compiled_path
from .table import AliasTable, AliasTableCache, load_alias_table

M = TypeVar("M")


def newaliases_for(config: Config) -> CompileResult:
    """``newaliases`` for ``config.alias_file`` (LocalDomains allowed in left sides)."""
    return newaliases(Path(config.alias_file), local_domains=config.local_domains)


def load_table_for(config: Config, *, rebuild_missing: bool = True) -> AliasTable:
    """The compiled alias table of ``config.alias_file``."""
    return load_alias_table(
        Path(config.alias_file),
        local_domains=config.local_domains,
        rebuild_missing=rebuild_missing,
    )


def expander_for(
    config: Config,
    table: AliasTable,
    *,
    users: UserDb | None = None,
    forward_path: str = DEFAULT_FORWARD_PATH,
    forward_enabled: bool | None = None,
    include_dirs: Sequence[Path] = (),
    limits: ExpandLimits | None = None,
    reader: tuple[int, tuple[int, ...]] | None = None,
) -> Expander:
    """An :class:`Expander` configured as the delivery agent needs it."""
    enabled = forward_enabled_default() if forward_enabled is None else forward_enabled
    return Expander(
        table,
        users=users or users_for(config),
        local_domains=config.local_domains,
        host_name=config.host_name,
        forward=ForwardPolicy(enabled, forward_path, config.host_name),
        include=IncludePolicy(tuple(include_dirs) or (Path(config.alias_file).parent,)),
        limits=limits,
        shells=valid_shells(),
        reader=reader,
    )


def restricted_reader(config: Config) -> tuple[int, tuple[int, ...]] | None:
    """``(uid, gids)`` to expand ``-bv`` with under restrictexpand, or None when unrestricted."""
    uid = os.getuid()
    if not config.privacy & Privacy.restrictexpand or uid == 0:
        return None
    return (uid, tuple(os.getgroups()))


def alias_cache(config: Config) -> AliasTableCache | None:
    """The runner's alias table cache, or None when there is no aliases file."""
    path = Path(config.alias_file) if config.alias_file else None
    if path is None or not path.exists():
        return None
    return AliasTableCache(path, local_domains=config.local_domains)


def load_optional_map(
    config: Config, name: str, load: Callable[[Path], M], log: Callable[[str], None]
) -> M | None:
    """The compiled map ``name`` beside AliasFile, or None when it was never built.

    A map that exists but cannot be read is logged and not used, so a broken map
    never stops the daemon or a queue run.
    """
    if not config.alias_file:
        return None
    path = Path(config.alias_file).parent / name
    if not compiled_path(path).exists():
        return None
    try:
        return load(path)
    except (AliasError, OSError) as exc:
        log(f"map {path}: {exc}; not used")
        return None
