"""Alias, ``:include:`` and ``.forward`` expansion of one recipient: :class:`Expander`.

``Expander(table, users=..., ...).expand(address) -> Expansion`` walks the
address depth first, in list order:

- a local name (bare, or at a LocalDomains domain) that is an alias expands to
  its list, unless written ``\\name`` (then: that mailbox, no alias, no
  ``.forward``).  Each alias is expanded once per call;
- **self-reference**: a name in its own alias list (``a: a, b``) is a's
  mailbox -- delivered once -- and b; a user named in their own ``.forward``
  gets the mailbox without further expansion (Sendmail's QSELFREF);
- **loops**: a name met again further down its own chain (``a1: a2``,
  ``a2: a1``) fails that branch with ``554 5.4.6 ... aliasing/forwarding
  loop broken``; more than ``max_depth`` (Sendmail's MaxAliasRecursion, 10)
  levels fail with ``aliasing/forwarding loop broken (11 aliases deep; 10
  max)``;
- **fan-out**: more than ``max_fanout`` distinct targets fails the whole
  address (``554 5.5.3 ... alias expansion too large``), nothing is delivered;
- duplicates are suppressed (first one wins);
- ``owner-<list>``: deliveries from ``<list>`` carry the envelope sender
  ``owner-<list>``'s value when it is a single address, else ``owner-<list>``
  (SENDMAIL.md 7.1), qualified with the host name;
- **trust**: programs, files and ``:include:`` only from a trusted alias table
  (else ``Address <alias> is unsafe for mailing to programs``), never for the
  address itself (``Cannot mail directly to programs``/``files``/
  ``:include:s``); ``:include:`` files per :class:`IncludePolicy` (inside the
  allowed folders, no symlinks, safe owner and mode; programs and files in
  them off by default); ``.forward`` per :class:`.forward.ForwardPolicy`,
  programs/files in it only for users with a shell in ``/etc/shells``;
- a local name with no alias and no account: ``550 5.1.1 ... User unknown``.

``reader`` ``(uid, gids)`` restricts which ``:include:``/``.forward`` files are
read to those that account can read (``-bv`` under ``restrictexpand``).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .accounts import Account, UserDb
from .elements import Element, ElementSyntaxError, Kind, parse_element, parse_list
from .expansion import ControllingUser, Delivery, Expansion, Failure
from .forward import TRANSIENT_ERRNOS, ForwardPolicy, read_forward
from .listfile import parse_list_file
from .parser import ascii_lower
from .table import AliasTable, run_as_for_uid
from .trust import (
    MAX_LIST_BYTES,
    UnsafeFile,
    include_problem,
    read_safely,
    readable_by,
    trusted_owners,
)

MAX_ALIAS_RECURSION = 10
MAX_FANOUT = 1000


@dataclass(frozen=True)
class ExpandLimits:
    """Depth (Sendmail's MaxAliasRecursion) and fan-out (distinct targets) limits."""

    max_depth: int = MAX_ALIAS_RECURSION
    max_fanout: int = MAX_FANOUT


@dataclass(frozen=True)
class IncludePolicy:
    """Where ``:include:`` files may live and what they may name.

    ``allowed_dirs`` empty means the aliases file's own folder.  Programs and
    files inside include files are refused unless allowed (BAD-INPUTS 46).
    """

    allowed_dirs: tuple[Path, ...] = ()
    allow_programs: bool = False
    allow_files: bool = False
    max_bytes: int = MAX_LIST_BYTES


class Origin(enum.Enum):
    PRIMARY = "primary"
    ALIAS = "alias"
    INCLUDE = "include"
    FORWARD = "forward"


Node = tuple[str, str]


@dataclass(frozen=True)
class _Scope:
    origin: Origin
    depth: int = 0
    chain: tuple[Node, ...] = ()
    parent: Node | None = None
    owner: ControllingUser | None = None
    sender: str | None = None
    via: tuple[str, ...] = ()
    no_programs: str | None = None  # refusal text, None: allowed
    no_files: str | None = None
    no_includes: str | None = None


class _TooLarge(Exception):
    pass


@dataclass
class _Run:
    original: str
    deliveries: dict[tuple[str, str], Delivery] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    done: set[Node] = field(default_factory=set)
    visits: int = 0
    aliased: bool = False


def _unsafe(target: str, what: str) -> str:
    return f"Address {target} is unsafe for mailing to {what}"


class Expander:
    """Expands recipients against one alias table and account database."""

    def __init__(
        self,
        table: AliasTable,
        *,
        users: UserDb,
        local_domains: Iterable[str] = (),
        host_name: str = "localhost",
        forward: ForwardPolicy | None = None,
        include: IncludePolicy | None = None,
        limits: ExpandLimits | None = None,
        shells: frozenset[str] | None = None,
        reader: tuple[int, tuple[int, ...]] | None = None,
    ) -> None:
        self.table = table
        self.users = users
        self.local_domains = tuple(d.lower().rstrip(".") for d in local_domains)
        self.host_name = host_name
        self.forward = forward or ForwardPolicy(host_name=host_name)
        self.include = include or IncludePolicy()
        self.limits = limits or ExpandLimits()
        self.shells = shells
        self.reader = reader

    # -- entry point ---------------------------------------------------------

    def expand(self, address: str) -> Expansion:
        """Expand one recipient as stored in the qf (``<a@b>``, ``alice``, ``\\alice``)."""
        text = address.strip()
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        run = _Run(address)
        if not text:
            run.failures.append(Failure(address or "<>", 553, "5.1.3", "User address required"))
            return self._result(run)
        element = parse_element(text, self.local_domains)
        try:
            self._visit(run, element, _Scope(Origin.PRIMARY), primary=text)
        except _TooLarge:
            most = self.limits.max_fanout
            failure = Failure(
                address, 554, "5.5.3", f"alias expansion too large (more than {most} addresses)"
            )
            return Expansion(address, (), (failure,), tuple(run.notes), True)
        return self._result(run)

    def _result(self, run: _Run) -> Expansion:
        return Expansion(
            run.original,
            tuple(run.deliveries.values()),
            tuple(run.failures),
            tuple(run.notes),
            run.aliased,
        )

    # -- helpers ---------------------------------------------------------------

    def _fail(self, run: _Run, scope: _Scope, shown: str, code: int, dsn: str, text: str) -> None:
        run.failures.append(Failure(shown, code, dsn, text, scope.via, scope.sender))

    def _add(self, run: _Run, key: tuple[str, str], delivery: Delivery) -> None:
        if key in run.deliveries:
            return
        run.deliveries[key] = delivery
        if len(run.deliveries) > self.limits.max_fanout:
            raise _TooLarge

    def _qualify(self, address: str) -> str:
        return address if "@" in address else f"{address}@{self.host_name}"

    def _list_owner(self, name: str) -> str | None:
        owner_key = "owner-owner" if name.startswith("owner-") else f"owner-{name}"
        value = self.table.lookup(owner_key)
        if value is None:
            return None
        value = value.strip()
        if any(c in value for c in ',:/|"'):
            return self._qualify(owner_key)
        return self._qualify(value)

    # -- the walk ----------------------------------------------------------------

    def _visit(self, run: _Run, el: Element, scope: _Scope, primary: str | None = None) -> None:
        run.visits += 1
        if run.visits > 10 * self.limits.max_fanout + 100:
            raise _TooLarge
        if scope.depth > self.limits.max_depth:
            self._fail(
                run, scope, el.shown, 554, "5.4.6",
                f"aliasing/forwarding loop broken ({scope.depth} aliases deep; "
                f"{self.limits.max_depth} max)",
            )  # fmt: skip
            return
        if el.kind is Kind.PROGRAM:
            self._program_or_file(run, el, scope, "programs", scope.no_programs)
        elif el.kind is Kind.FILE:
            self._program_or_file(run, el, scope, "files", scope.no_files)
        elif el.kind is Kind.INCLUDE:
            self._include(run, el, scope)
        elif el.kind is Kind.REMOTE:
            local, _, domain = el.value.rpartition("@")
            key = ("remote", f"{local}@{domain.lower()}")
            delivery = Delivery(
                Kind.REMOTE, el.value, el.shown, local, el.domain, el.quoted,
                sender=scope.sender, via=scope.via,
            )  # fmt: skip
            self._add(run, key, delivery)
        else:
            self._local(run, el, scope, primary)

    def _program_or_file(
        self, run: _Run, el: Element, scope: _Scope, what: str, refusal: str | None
    ) -> None:
        if scope.origin is Origin.PRIMARY:
            self._fail(run, scope, el.shown, 550, "5.7.1", f"Cannot mail directly to {what}")
            return
        if refusal is not None:
            self._fail(run, scope, el.shown, 550, "5.7.1", refusal)
            return
        key = ("prog" if el.kind is Kind.PROGRAM else "file", el.value)
        delivery = Delivery(
            el.kind, el.value, el.shown, owner=scope.owner, sender=scope.sender, via=scope.via
        )
        self._add(run, key, delivery)

    def _include(self, run: _Run, el: Element, scope: _Scope) -> None:
        if scope.origin is Origin.PRIMARY:
            self._fail(run, scope, el.shown, 550, "5.7.1", "Cannot mail directly to :include:s")
            return
        if scope.no_includes is not None:
            self._fail(run, scope, el.shown, 550, "5.7.1", scope.no_includes)
            return
        path = Path(el.value)
        node: Node = ("include", str(path))
        if node in scope.chain:
            self._fail(run, scope, el.shown, 554, "5.4.6", "aliasing/forwarding loop broken")
            return
        if node in run.done:
            return
        folders = self.include.allowed_dirs
        if not folders and self.table.source is not None:
            folders = (self.table.source.parent,)
        owners = set(trusted_owners())
        if scope.origin is Origin.FORWARD and scope.owner is not None:
            owners.add(scope.owner.uid)

        def check(p: Path) -> str | None:
            why = include_problem(p, folders, owners)
            if (
                why is None
                and self.reader is not None
                and not readable_by(os.stat(p), *self.reader)
            ):
                return "Permission denied"
            return why

        try:
            data, st = read_safely(path, check, max_bytes=self.include.max_bytes)
        except UnsafeFile as exc:
            self._fail(run, scope, el.shown, 550, "5.2.4", f"Cannot open {path}: {exc}")
            return
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno in TRANSIENT_ERRNOS:
                self._fail(run, scope, el.shown, 451, "4.2.4", f"Cannot open {path}: {reason}")
            else:
                self._fail(run, scope, el.shown, 550, "5.2.4", f"Cannot open {path}: {reason}")
            return
        run.done.add(node)
        owner = scope.owner
        if st.st_uid != 0:
            account = run_as_for_uid(st.st_uid)
            owner = ControllingUser(account.name, account.uid, account.gid, f":include:{path}")
        target = f":include:{path}"
        child = replace(
            scope,
            origin=Origin.INCLUDE,
            depth=scope.depth + 1,
            chain=(*scope.chain, node),
            parent=node,
            owner=owner,
            no_programs=scope.no_programs
            or (None if self.include.allow_programs else _unsafe(target, "programs")),
            no_files=scope.no_files
            or (None if self.include.allow_files else _unsafe(target, "files")),
        )
        for line in parse_list_file(data, self.local_domains):
            if line.error is not None:
                self._fail(run, child, f"{path}: line {line.number}", 553, "5.3.5", line.error)
                continue
            for element in line.elements:
                self._visit(run, element, child)

    def _local(self, run: _Run, el: Element, scope: _Scope, primary: str | None) -> None:
        name = el.value
        lname = ascii_lower(name)
        self_ref = scope.parent in (("alias", lname), ("forward", lname))
        alias_node: Node = ("alias", lname)
        if not el.quoted and not self_ref and self.table.lookup(lname) is not None:
            if alias_node in scope.chain:
                self._fail(run, scope, el.shown, 554, "5.4.6", "aliasing/forwarding loop broken")
                return
            if alias_node not in run.done:
                run.done.add(alias_node)
                self._expand_alias(run, el, lname, scope)
            run.aliased = True
            return
        account = self.users.lookup(lname)
        if account is None:
            self._fail(run, scope, el.shown, 550, "5.1.1", "User unknown")
            return
        forward_node: Node = ("forward", lname)
        if not el.quoted and scope.parent != forward_node and account.system:
            if forward_node in scope.chain:
                self._fail(run, scope, el.shown, 554, "5.4.6", "aliasing/forwarding loop broken")
                return
            if forward_node in run.done:
                run.aliased = True
                return
            if self._forward(run, el, lname, account, scope):
                run.done.add(forward_node)
                run.aliased = True
                return
        address = lname
        if primary is not None and not el.quoted:
            address = primary
        delivery = Delivery(
            Kind.LOCAL, address, el.shown, name, el.domain, el.quoted,
            sender=scope.sender, via=scope.via,
        )  # fmt: skip
        self._add(run, ("local", lname), delivery)

    def _expand_alias(self, run: _Run, el: Element, lname: str, scope: _Scope) -> None:
        value = self.table.lookup(lname) or ""
        try:
            elements = parse_list(value, self.local_domains)
        except ElementSyntaxError as exc:
            self._fail(run, scope, el.shown, 553, "5.3.5", f"{value}... {exc}")
            return
        node: Node = ("alias", lname)
        trusted = self.table.trusted
        run_as = self.table.run_as
        child = _Scope(
            origin=Origin.ALIAS,
            depth=scope.depth + 1,
            chain=(*scope.chain, node),
            parent=node,
            owner=ControllingUser(run_as.name, run_as.uid, run_as.gid, lname),
            sender=self._list_owner(lname) or scope.sender,
            via=(*scope.via, lname),
            no_programs=None if trusted else _unsafe(lname, "programs"),
            no_files=None if trusted else _unsafe(lname, "files"),
            no_includes=None if trusted else _unsafe(lname, ":include:s"),
        )
        for element in elements:
            self._visit(run, element, child)

    def _forward(self, run: _Run, el: Element, lname: str, account: Account, scope: _Scope) -> bool:
        """Expand ``account``'s .forward; False when there is none (deliver to the mailbox)."""
        result = read_forward(self.forward, account, reader=self.reader)
        run.notes.extend(result.notes)
        if result.transient:
            self._fail(
                run, scope, el.shown, 451, "4.3.0",
                "transient .forward open error: message queued",
            )  # fmt: skip
            return True
        if result.data is None:
            return False
        lines = parse_list_file(result.data, self.local_domains)
        if not lines:
            return False
        shells = self.shells
        bad_shell = shells is not None and account.shell not in shells
        host = self.host_name
        node: Node = ("forward", lname)
        child = _Scope(
            origin=Origin.FORWARD,
            depth=scope.depth + 1,
            chain=(*scope.chain, node),
            parent=node,
            owner=ControllingUser(account.name, account.uid, account.gid, lname),
            sender=scope.sender,
            via=(*scope.via, lname),
            no_programs=(
                f"User {account.name}@{host} doesn't have a valid shell for mailing to programs"
                if bad_shell
                else None
            ),
            no_files=(
                f"User {account.name}@{host} doesn't have a valid shell for mailing to files"
                if bad_shell
                else None
            ),
        )
        for line in lines:
            if line.error is not None:
                where = f"{result.path}: line {line.number}"
                self._fail(run, child, where, 553, "5.3.5", line.error)
                continue
            for element in line.elements:
                self._visit(run, element, child)
        return True
