"""Aliases, ``:include:``, ``.forward`` and ``makemap`` maps (issue 4, "MTA core, part 3").

Public API (each module's docstring states its rules):

- parsing: :func:`parse_aliases` -> :class:`AliasSource` (entries, warnings,
  Sendmail's statistics) or :class:`AliasFileError` (every problem with its line);
- compiling: :func:`newaliases` / :func:`newaliases_for` (Config) ->
  :class:`CompileResult` (``.summary`` is
  ``<file>: N aliases, longest L bytes, T bytes total``), :func:`praliases`;
  the compiled file is ``<AliasFile>.sqlite`` (:mod:`.store` says why SQLite);
- loading: :func:`load_alias_table` -> :class:`AliasTable`,
  :class:`AliasTableCache` (last good table wins), :func:`load_table_for`;
- expansion: :class:`Expander` (``expand(address) -> Expansion``),
  :func:`expander_for` (from a Config), :class:`Expansion`, :class:`Delivery`
  (``controlling_user`` is the qf ``C`` value), :class:`Failure`,
  :class:`ExpandLimits`, :class:`IncludePolicy`, :class:`ForwardPolicy`;
- ``-bv``: :func:`verify` -> :class:`VerifyResult`;
- maps: :class:`AccessMap`, :class:`Virtusertable`, :class:`GenericsTable`,
  :class:`Mailertable`, :func:`load_domain_list`, :func:`makemap_main`;
- commands: :func:`run_newaliases`, :func:`run_praliases`, :func:`run_verify`;
- errors: :class:`AliasError` and subclasses.

Module map: ``lines`` (joining) -> ``parser`` -> ``compile`` -> ``store``;
``table`` loads; ``elements`` and ``listfile`` parse lists; ``trust`` checks
files; ``forward`` reads ``.forward``; ``expand`` walks; ``verify`` prints;
``maps`` + ``access``/``virtusers``/``generics``/``mailertable`` look up;
``makemap`` builds maps; ``setup`` and ``commands`` connect to Config and CLI.
"""

from .access import AccessKind, AccessMap, AccessResult
from .accounts import Account, ConfiguredUsers, StaticUsers, SystemUsers, UserDb, users_for
from .commands import run_newaliases, run_praliases, run_verify
from .compile import CompileResult, newaliases, praliases
from .elements import Element, Kind
from .errors import AliasDatabaseError, AliasError, AliasFileError, MapError, Problem
from .expand import Expander, ExpandLimits, IncludePolicy
from .expansion import ControllingUser, Delivery, Expansion, Failure
from .forward import ForwardPolicy
from .generics import GenericsTable, load_domain_list
from .mailertable import Mailertable, Route
from .makemap import main as makemap_main
from .maps import CompiledMap, ErrorTarget
from .parser import AliasEntry, AliasSource, parse_aliases
from .setup import expander_for, load_table_for, newaliases_for, restricted_reader
from .store import compiled_path
from .table import AliasTable, AliasTableCache, RunAs, load_alias_table
from .verify import VerifyResult, verify
from .virtusers import VirtualResult, Virtusertable

__all__ = [
    "AccessKind",
    "AccessMap",
    "AccessResult",
    "Account",
    "AliasDatabaseError",
    "AliasEntry",
    "AliasError",
    "AliasFileError",
    "AliasSource",
    "AliasTable",
    "AliasTableCache",
    "CompileResult",
    "CompiledMap",
    "ConfiguredUsers",
    "ControllingUser",
    "Delivery",
    "Element",
    "ErrorTarget",
    "ExpandLimits",
    "Expander",
    "Expansion",
    "Failure",
    "ForwardPolicy",
    "GenericsTable",
    "IncludePolicy",
    "Kind",
    "Mailertable",
    "MapError",
    "Problem",
    "Route",
    "RunAs",
    "StaticUsers",
    "SystemUsers",
    "UserDb",
    "VerifyResult",
    "VirtualResult",
    "Virtusertable",
    "compiled_path",
    "expander_for",
    "load_alias_table",
    "load_domain_list",
    "load_table_for",
    "makemap_main",
    "newaliases",
    "newaliases_for",
    "parse_aliases",
    "praliases",
    "restricted_reader",
    "run_newaliases",
    "run_praliases",
    "run_verify",
    "users_for",
    "verify",
]
