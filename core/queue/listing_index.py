"""The listing index in memory: every control file's entry, grouped and in listing order.

A :class:`Listing` holds, for each control file of the queue folder (``qf``, ``hf``,
``Qf``), the columns of :class:`.listing_entry.Entry` as arrays (``names``, ``inos``,
``df_inos``, ``keys``, ``ranks`` -- the position in directory order -- and ``flags``)
and its schema's texts (for ``mailq``: ``normal``, ``verbose``, ``heads``) as one
buffer each with offsets (:class:`Texts`).  Entries are grouped by kind; within a group
they are in key order (for ``mailq`` the order a plain listing has: priority, then
directory order -- Sendmail's stable sort), and the entries a plain listing skips
(:attr:`Entry.listed` false) and the *volatile* ones (never cached) come last.  So the
text of a whole plain listing is one contiguous slice of a buffer.

A :class:`Listing` is read from an index file (columns decoded on first use).  A
refresh makes a :class:`Plan` with :func:`plan`: the new order, the columns, and the
texts as runs of the old index's buffers and of an :class:`Arena` of entries read
afresh, so they can be streamed into a new index file without being copied together
in memory first; :meth:`Plan.listing` joins them when the file cannot be written.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .listing_entry import Entry
from .listing_store import IndexFile, IndexUnusable, Piece

KINDS = ("qf", "hf", "Qf")
KIND_NUMBER = {kind: n for n, kind in enumerate(KINDS)}
LISTED, VOLATILE = 1, 2
_CODES = {"inos": "Q", "df_inos": "Q", "keys": "q", "ranks": "Q", "flags": "B", "dir_inos": "Q"}
_NAMES = ("names", "dir_names")


@dataclass(frozen=True)
class Texts:
    """Per-entry byte strings stored as one buffer and ``len + 1`` offsets."""

    blob: memoryview
    at: array[int]

    def item(self, i: int) -> memoryview:
        return self.blob[self.at[i] : self.at[i + 1]]

    def span(self, start: int, end: int) -> memoryview:
        return self.blob[self.at[start] : self.at[end]]


@dataclass(frozen=True)
class Group:
    """Where one kind's entries are: ``[start, listed)`` listed, ``[listed, end)`` the rest."""

    start: int
    listed: int
    end: int
    volatile: bool


class Listing:
    """The entries of one queue folder; columns load lazily from an index file."""

    def __init__(
        self,
        groups: dict[str, Group],
        columns: dict[str, Any] | None = None,
        source: IndexFile | None = None,
    ) -> None:
        self.groups = groups
        self._columns: dict[str, Any] = dict(columns or {})
        self.source = source
        """The index file the columns come from, if any."""
        self.origin = "index"
        """How it was checked: ``stamp`` (folder unchanged), ``scan`` (every name and inode
        matched), ``refresh`` (:attr:`reread` files were read again)."""
        self.reread = 0

    def column(self, name: str) -> Any:
        """Column ``name`` (decoded from the file on first use)."""
        if name not in self._columns:
            if self.source is None:
                raise IndexUnusable(f"no {name} column")
            self._columns[name] = _decode(name, self.source)
        return self._columns[name]

    @property
    def names(self) -> list[str]:
        return self.column("names")  # type: ignore[no-any-return]

    @property
    def inos(self) -> array[int]:
        return self.column("inos")  # type: ignore[no-any-return]

    @property
    def df_inos(self) -> array[int]:
        return self.column("df_inos")  # type: ignore[no-any-return]

    @property
    def dir_names(self) -> list[str]:
        """Every name in the folder (not only control files) when the index was made."""
        return self.column("dir_names")  # type: ignore[no-any-return]

    @property
    def dir_inos(self) -> array[int]:
        return self.column("dir_inos")  # type: ignore[no-any-return]

    @property
    def keys(self) -> array[int]:
        return self.column("keys")  # type: ignore[no-any-return]

    @property
    def flags(self) -> array[int]:
        return self.column("flags")  # type: ignore[no-any-return]

    def texts(self, kind: str) -> Texts:
        return self.column(kind)  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return max((g.end for g in self.groups.values()), default=0)

    def close(self) -> None:
        self._columns.clear()
        if self.source is not None:
            self.source.close()


def groups_from_header(header: dict[str, Any]) -> dict[str, Group]:
    try:
        groups = {
            str(k): Group(int(v[0]), int(v[1]), int(v[2]), bool(v[3]))
            for k, v in header["groups"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise IndexUnusable("bad groups in the index header") from exc
    for kind, g in groups.items():
        if kind not in KIND_NUMBER or not 0 <= g.start <= g.listed <= g.end:
            raise IndexUnusable("bad groups in the index header")
    return groups


def groups_to_header(groups: dict[str, Group]) -> dict[str, list[int]]:
    return {k: [g.start, g.listed, g.end, int(g.volatile)] for k, g in groups.items()}


def _decode(name: str, source: IndexFile) -> Any:
    data = source.section(name)
    if name in _NAMES:
        return bytes(data).decode("utf-8", "surrogateescape").split("\0") if data else []
    if name in _CODES:
        column = array(_CODES[name])
        if len(data) % column.itemsize:
            raise IndexUnusable(f"section {name} has a bad length")
        column.frombytes(data)
        return column
    at = array("Q")
    at.frombytes(source.section(name + "_at"))
    if not at or at[0] != 0 or at[-1] != len(data):
        raise IndexUnusable(f"section {name} does not match its offsets")
    return Texts(data, at)


class Arena:
    """Entries read afresh during a refresh: small columns, texts appended to buffers."""

    def __init__(self, texts: tuple[str, ...]) -> None:
        self.keys: list[int] = []
        self.flags: list[int] = []
        self.inos: list[int] = []
        self.df_inos: list[int] = []
        self._kinds = texts
        self._blobs = [bytearray() for _ in texts]
        self._at = [array("Q", [0]) for _ in texts]

    def add(self, entry: Entry) -> int:
        """Keep ``entry``; returns its number in the arena."""
        self.keys.append(entry.key)
        self.flags.append((LISTED if entry.listed else 0) | (VOLATILE if entry.volatile else 0))
        self.inos.append(entry.ino)
        self.df_inos.append(entry.df_ino)
        for blob, at, text in zip(self._blobs, self._at, entry.texts, strict=True):
            blob += text
            at.append(len(blob))
        return len(self.flags) - 1

    def texts(self, kind: str) -> Texts:
        n = self._kinds.index(kind)
        return Texts(memoryview(self._blobs[n]), self._at[n])

    def __len__(self) -> int:
        return len(self.flags)


_Run = tuple[int, int, int]  # (source: 0 old, 1 arena; first; last + 1)


@dataclass
class Plan:
    """A refreshed listing before it is written: columns, groups, texts as runs."""

    groups: dict[str, Group]
    columns: dict[str, Any]
    runs: list[_Run]
    sources: tuple[dict[str, Texts], dict[str, Texts]]
    kinds: tuple[str, ...]

    def pieces(self, kind: str) -> Iterator[memoryview]:
        old, fresh = self.sources
        for source, a, b in self.runs:
            yield (fresh if source else old)[kind].span(a, b)

    def offsets(self, kind: str) -> array[int]:
        old, fresh = self.sources
        at = array("Q", [0])
        total = 0
        for source, a, b in self.runs:
            src = (fresh if source else old)[kind].at
            base = src[a]
            if b == a + 1:
                total += src[b] - base
                at.append(total)
            else:
                shift = total - base
                at.extend([x + shift for x in src[a + 1 : b + 1]])
                total = at[-1]
        return at

    def sections(self) -> Iterator[tuple[str, Iterable[Piece]]]:
        """The index sections, made as they are written."""
        for name in _NAMES:
            yield name, ["\0".join(self.columns[name]).encode("utf-8", "surrogateescape")]
        for name in _CODES:
            yield name, [self.columns[name].tobytes()]
        for kind in self.kinds:
            yield kind, self.pieces(kind)
            yield kind + "_at", [self.offsets(kind).tobytes()]

    def listing(self) -> Listing:
        """The listing held in memory (when no index file could be written)."""
        columns = dict(self.columns)
        for kind in self.kinds:
            blob = b"".join(self.pieces(kind))
            columns[kind] = Texts(memoryview(blob), self.offsets(kind))
        return Listing(self.groups, columns)


_GONE = len(KINDS)  # a file that vanished: sorts after every kind, then dropped
_TAIL_OF = tuple(0 if f == LISTED else 2 if f & VOLATILE else 1 for f in range(256))


def plan(
    names: list[str], reuse: list[int], fresh: list[int], arena: Arena, old: Listing | None,
    kinds: tuple[str, ...], ties_by_name: bool, snapshot: tuple[list[str], array[int]],
) -> Plan:  # fmt: skip
    """The listing of the control files ``names`` (directory order), in listing order.

    For file ``i``: ``reuse[i]`` is its index in ``old`` when that entry still holds,
    else ``fresh[i]`` its number in ``arena`` (or -1: the file is gone; leave it out).
    Within a kind the order is ``key``, then directory order (or name): stable sorts on
    key columns, so no per-file sort key is built.  ``snapshot`` is every name in the
    folder and its inode, as scanned.
    """
    count = len(names)
    if old is not None:
        at = [j if j >= 0 else 0 for j in reuse]
        keys = list(map(old.keys.__getitem__, at))
        flags = list(map(old.flags.__getitem__, at))
        inos = list(map(old.inos.__getitem__, at))
        df_inos = list(map(old.df_inos.__getitem__, at))
    else:
        keys, flags, inos, df_inos = [0] * count, [0] * count, [0] * count, [0] * count
    source = list(reuse)  # >= 0: old entry; < 0: arena entry -1 - source
    kind_no = [KIND_NUMBER[name[:2]] for name in names]
    for i in [i for i, j in enumerate(reuse) if j < 0]:
        k = fresh[i]
        if k >= 0:
            keys[i], flags[i], inos[i] = arena.keys[k], arena.flags[k], arena.inos[k]
            df_inos[i], source[i] = arena.df_inos[k], -1 - k
        else:
            kind_no[i] = _GONE
    tails = list(map(_TAIL_OF.__getitem__, flags))
    order = sorted(range(count), key=names.__getitem__) if ties_by_name else list(range(count))
    for column in (keys, tails, kind_no):  # least significant first; each sort is stable
        order.sort(key=column.__getitem__)
    counts = Counter(zip(kind_no, tails, strict=True))
    del order[count - sum(n for (kind, _), n in counts.items() if kind == _GONE) :]
    columns: dict[str, Any] = {
        "names": list(map(names.__getitem__, order)),
        "inos": array("Q", map(inos.__getitem__, order)),
        "df_inos": array("Q", map(df_inos.__getitem__, order)),
        "keys": array("q", map(keys.__getitem__, order)),
        "ranks": array("Q", order),
        "flags": array("B", map(flags.__getitem__, order)),
        "dir_names": snapshot[0],
        "dir_inos": snapshot[1],
    }
    old_texts = {kind: old.texts(kind) for kind in kinds} if old is not None else {}
    fresh_texts = {kind: arena.texts(kind) for kind in kinds}
    runs = _runs(map(source.__getitem__, order))
    return Plan(_groups(counts), columns, runs, (old_texts, fresh_texts), kinds)


def _groups(counts: Counter[tuple[int, int]]) -> dict[str, Group]:
    """Where each kind's entries are, from the number of entries per (kind, tail)."""
    groups: dict[str, Group] = {}
    position = 0
    for kind_no, kind in enumerate(KINDS):
        listed, rest, volatile = (counts.get((kind_no, tail), 0) for tail in (0, 1, 2))
        if listed + rest + volatile:
            end = position + listed + rest + volatile
            groups[kind] = Group(position, position + listed, end, volatile > 0)
            position = end
    return groups


def _runs(sources: Iterable[int]) -> list[_Run]:
    """The new order as runs of consecutive entries of the same source.

    A source ``j >= 0`` is entry ``j`` of the old listing, ``j < 0`` arena entry ``-1 - j``.
    """
    runs: list[_Run] = []
    current, start, end = -1, -1, -1
    for value in sources:
        source, j = (0, value) if value >= 0 else (1, -1 - value)
        if source == current and j == end:
            end += 1
            continue
        if current >= 0:
            runs.append((current, start, end))
        current, start, end = source, j, j + 1
    if current >= 0:
        runs.append((current, start, end))
    return runs
