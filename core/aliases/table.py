"""The alias table the delivery side uses: loaded from the compiled file, never from the text.

:func:`load_alias_table` opens ``<AliasFile>.sqlite`` (compiling it first when
it does not exist yet and ``rebuild_missing`` is set), and returns an
:class:`AliasTable`: the entries (without Sendmail's ``@`` marker), whether
program/file/``:include:`` targets may be used (the source was trusted when
compiled *and* the compiled file itself is owned by root or the MTA's user
and not group/world-writable), the account deliveries from it run as, and
``Warning: alias database <file> out of date`` when the source changed after
compiling (Sendmail keeps using the old table; so do we).

:class:`AliasTableCache` is for long-running processes: :meth:`get` reloads
when the compiled file was replaced, and when a reload fails it keeps the last
good table and remembers the error (``last_error``).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .compile import newaliases
from .errors import EX_TEMPFAIL, AliasDatabaseError, AliasError
from .parser import AliasSource, ascii_lower
from .store import TableError, compiled_path, read_table
from .trust import alias_file_problem

NOBODY_UID = 65534


@dataclass(frozen=True)
class RunAs:
    """An account deliveries run as: login name, uid, gid."""

    name: str
    uid: int
    gid: int


def default_user() -> RunAs:
    """Sendmail's DefaultUser: ``nobody`` (65534 when it has no passwd entry)."""
    try:
        entry = pwd.getpwnam("nobody")
        return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    except KeyError:
        return RunAs("nobody", NOBODY_UID, NOBODY_UID)


def run_as_for_uid(uid: int) -> RunAs:
    """The account for a file owner's ``uid``; root becomes :func:`default_user`."""
    if uid == 0:
        return default_user()
    try:
        entry = pwd.getpwuid(uid)
        return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    except KeyError:
        return RunAs(f"uid{uid}", uid, uid)


@dataclass(frozen=True)
class AliasTable:
    """Compiled aliases: ``lookup`` by name (case-insensitive), trust and run-as account."""

    entries: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    trusted: bool = True
    trust_problem: str | None = None
    run_as: RunAs = field(default_factory=default_user)
    source: Path | None = None
    db_path: Path | None = None
    warnings: tuple[str, ...] = ()

    def lookup(self, name: str) -> str | None:
        """The right side for ``name`` (``postmaster`` in any case works), or None."""
        if name == "@":
            return None
        return self.entries.get(ascii_lower(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def from_source(
        cls,
        source: AliasSource,
        *,
        trusted: bool = True,
        run_as: RunAs | None = None,
    ) -> AliasTable:
        """A table straight from parsed text (tests, previews); no compiled file involved."""
        return cls(
            MappingProxyType(source.as_dict()),
            trusted,
            None if trusted else "not trusted",
            run_as or run_as_for_uid(os.geteuid()),
            Path(source.path),
        )


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def load_alias_table(
    alias_file: Path,
    *,
    local_domains: Iterable[str] = (),
    rebuild_missing: bool = True,
    owners: Iterable[int] | None = None,
) -> AliasTable:
    """Load the compiled table of ``alias_file`` (see the module docstring).

    No source and no compiled file: an empty table (no aliases configured).
    Raises :class:`AliasDatabaseError` (exit code 75: try later) when the
    compiled file is missing or unreadable, :class:`~.errors.AliasFileError`
    when compiling a missing table finds the source broken.
    """
    source = Path(alias_file)
    db = compiled_path(source)
    owner_set = frozenset(owners) if owners is not None else None
    if not db.exists():
        if not source.exists():
            return AliasTable(source=source)
        if not rebuild_missing:
            raise AliasDatabaseError(f"alias database {db} unavailable", exit_code=EX_TEMPFAIL)
        newaliases(source, local_domains=local_domains, owners=owner_set)
    try:
        table = read_table(db)
        st = os.stat(db)
    except (TableError, OSError) as exc:
        raise AliasDatabaseError(
            f"alias database {db} unavailable: {exc}", exit_code=EX_TEMPFAIL
        ) from exc
    if not table.entries or table.entries[-1] != ("@", "@"):
        raise AliasDatabaseError(f"alias database {db} is incomplete", exit_code=EX_TEMPFAIL)
    meta = table.meta
    why = meta.get("trust_problem") or None
    if meta.get("trusted") != "1" and why is None:
        why = "not trusted when compiled"
    db_why = alias_file_problem(st, owner_set)
    if why is None and db_why is not None:
        why = f"compiled table {db}: {db_why}"
    warnings: tuple[str, ...] = ()
    try:
        src = os.stat(source)
        recorded = (meta.get("source_size"), meta.get("source_mtime_ns"))
        if recorded != (str(src.st_size), str(src.st_mtime_ns)):
            warnings = (f"Warning: alias database {db} out of date",)
    except OSError:
        pass
    try:
        uid = int(meta.get("source_uid", "0"))
    except ValueError:
        uid = 0
    entries = {k: v for k, v in table.entries if k != "@"}
    return AliasTable(
        MappingProxyType(entries),
        why is None,
        why,
        run_as_for_uid(uid),
        source,
        db,
        warnings,
    )


class AliasTableCache:
    """The current table of one aliases file for a long-running process; last good one wins."""

    def __init__(
        self,
        alias_file: Path,
        *,
        local_domains: Iterable[str] = (),
        loader: Callable[..., AliasTable] = load_alias_table,
    ) -> None:
        self.alias_file = Path(alias_file)
        self.local_domains = tuple(local_domains)
        self._loader = loader
        self._table: AliasTable | None = None
        self._signature: tuple[int, int, int] | None = None
        self.last_error: AliasError | None = None

    def get(self) -> AliasTable:
        """The current table; reloads when the compiled file changed, keeps the old on failure."""
        signature = _signature(compiled_path(self.alias_file))
        if self._table is not None and signature == self._signature:
            return self._table
        try:
            table = self._loader(self.alias_file, local_domains=self.local_domains)
        except AliasError as exc:
            self.last_error = exc
            if self._table is None:
                raise
            return self._table
        self._table = table
        self._signature = _signature(compiled_path(self.alias_file))
        self.last_error = None
        return table
