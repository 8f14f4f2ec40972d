"""Parsing an aliases file: :func:`parse_aliases` -> :class:`AliasSource` (or an error).

Follows Sendmail's ``readaliases`` (SENDMAIL.md 7.1) with Postroom's stricter
refusals (BAD-INPUTS 47).  Lines are joined by :mod:`.lines`; then, per
logical line:

- empty lines and lines starting with ``#`` are skipped;
- a line starting with white space: ``Non-continuation line starts with space``;
- no colon: ``missing colon``;
- the left side must be a local name: ``|prog``, ``/file`` or a name at a
  domain that is not local gives ``<name>... cannot alias non-local names``;
  white space, quotes or other specials inside it give ``<line>... illegal
  alias name`` (Sendmail would quietly store ``a b`` as ``ab``);
- keys are stored lower-cased (ASCII letters only, as Sendmail's makelower);
- the right side is stored as written less its leading white space; an empty
  one gives ``<line>... missing value for alias`` (the line cut at 40 bytes);
  each element must split (``<text>... Unbalanced '"'``);
- a duplicate key is a warning, ``<name>... Warning: duplicate alias name
  <key>``, and the FIRST entry is kept (the issue's rule; note that the real
  Sendmail 8.17 hash map keeps the last one);
- CR, NUL, control characters and invalid UTF-8 are errors with the line.

Any error rejects the whole file: :class:`AliasFileError` lists them all, in
line order, as ``<file>: line <n>: <text>``.  The statistics (``stored``,
``longest``, ``total``) count as Sendmail does: every stored line including
duplicates, ``strlen(key) + strlen(value)`` bytes, the ``@`` entry excluded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .elements import WHITESPACE, Element, ElementSyntaxError, Kind, parse_list
from .errors import AliasFileError, Problem
from .lines import MAX_LOGICAL_LINE, byte_problems, logical_lines

_ILLEGAL_IN_NAME = frozenset(' \t"(),:;<>[]\\')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only (Sendmail's ``makelower``)."""
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class AliasEntry:
    """One alias: lower-cased ``key``, ``value`` as stored, its lines and parsed elements."""

    key: str
    value: str
    line: int
    first_line: int
    elements: tuple[Element, ...]

    @property
    def privileged(self) -> tuple[Element, ...]:
        """The program, file and ``:include:`` targets (allowed from trusted files only)."""
        return tuple(e for e in self.elements if e.kind in (Kind.PROGRAM, Kind.FILE, Kind.INCLUDE))


@dataclass(frozen=True)
class AliasSource:
    """A parsed aliases file: the kept entries in file order, warnings, Sendmail's statistics."""

    path: str
    entries: tuple[AliasEntry, ...]
    warnings: tuple[str, ...] = ()
    stored: int = 0
    longest: int = 0
    total: int = 0

    def summary(self) -> str:
        """``<file>: <N> aliases, longest <L> bytes, <T> bytes total``."""
        return (
            f"{self.path}: {self.stored} aliases, longest {self.longest} bytes, "
            f"{self.total} bytes total"
        )

    def as_dict(self) -> dict[str, str]:
        """key -> value, in file order."""
        return {e.key: e.value for e in self.entries}


def _cut40(text: str) -> str:
    """Sendmail's ``%.40s``: the first 40 bytes."""
    return text.encode("utf-8")[:40].decode("utf-8", "ignore")


def _key(lhs: str, line: str, local_domains: frozenset[str]) -> tuple[str | None, str | None]:
    """(key, None) or (None, problem text) for a left side."""
    if lhs[:1] in ("|", "/"):
        return None, f"{lhs}... cannot alias non-local names"
    if not lhs or any(c in _ILLEGAL_IN_NAME for c in lhs) or lhs.count("@") > 1:
        return None, f"{_cut40(line)}... illegal alias name"
    local, at, domain = lhs.partition("@")
    if at:
        if not local or domain.lower().rstrip(".") not in local_domains:
            return None, f"{lhs}... cannot alias non-local names"
    key = ascii_lower(local)
    return key, None


def parse_aliases(data: bytes, path: str, *, local_domains: Iterable[str] = ()) -> AliasSource:
    """Parse the bytes of an aliases file named ``path``; raise :class:`AliasFileError`."""
    domains = frozenset(d.lower().rstrip(".") for d in local_domains)
    problems = byte_problems(data)
    warnings: list[Problem] = []
    entries: dict[str, AliasEntry] = {}
    stored = longest = total = 0
    for logical in logical_lines(data):
        text, number = logical.text, logical.last
        if not text or text.startswith("#"):
            continue
        if len(text.encode("utf-8")) >= MAX_LOGICAL_LINE:
            problems.append(Problem(number, "alias line too long"))
            continue
        if text[0] in WHITESPACE:
            problems.append(Problem(number, "Non-continuation line starts with space"))
            continue
        colon = text.find(":")
        if colon < 0:
            problems.append(Problem(number, "missing colon"))
            continue
        lhs = text[:colon].strip(WHITESPACE)
        key, why = _key(lhs, text, domains)
        if key is None:
            problems.append(Problem(number, why or "illegal alias name"))
            continue
        rhs = text[colon + 1 :].lstrip(WHITESPACE)
        if not rhs.strip(WHITESPACE):
            problems.append(Problem(number, f"{_cut40(text)}... missing value for alias"))
            continue
        try:
            elements = tuple(parse_list(rhs, domains))
        except ElementSyntaxError as exc:
            problems.append(Problem(number, f"{_cut40(rhs)}... {exc}"))
            continue
        size = len(rhs.encode("utf-8"))
        stored += 1
        total += len(key.encode("utf-8")) + size
        longest = max(longest, size)
        if key in entries:
            warnings.append(Problem(number, f"{lhs}... Warning: duplicate alias name {key}"))
            continue
        entries[key] = AliasEntry(key, rhs, number, logical.first, elements)
    if problems:
        raise AliasFileError(path, sorted(problems, key=lambda p: p.line))
    return AliasSource(
        path,
        tuple(entries.values()),
        tuple(w.render(path) for w in warnings),
        stored,
        longest,
        total,
    )
