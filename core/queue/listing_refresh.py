"""Bringing a listing index up to date with the queue folder, and reading it.

:func:`open_listing` returns a :class:`.listing_index.Listing` of one
:class:`.listing_schema.Schema` that matches the folder as it is now.  The control
files are the truth; the index is trusted only as far as this can be checked cheaply:

1. *Unchanged folder* (no directory read at all): a file is created, removed or
   renamed only through its directory, which updates the directory's change time.  The
   stamp file records the folder's ``stat`` (device, inode, mtime, ctime, size) taken
   before a refresh that found the index exact, if that refresh also saw the same
   ``stat`` afterwards and the folder's times were already over :data:`SETTLED` old
   (a later change cannot then share the old timestamp, however coarse the clock).
   When the folder's ``stat`` still equals the stamp, the index is used as it is.
2. *Changed folder*: one ``scandir`` gives every name and inode number without a
   ``stat``.  Every control file is rewritten as ``tf`` + rename (Postroom and Sendmail
   alike), so a changed job has a new inode: an entry is reused when its control file's
   name and inode and its ``df``'s inode are those recorded; the others are read
   afresh (:func:`.listing_entry.read_control`).  Then the index is rewritten if
   anything differed, and the stamp when the folder is settled.

A control file edited in place (same inode) is therefore not noticed; neither program
does that.  The index is ignored, and rebuilt, when it is missing, damaged, from another
format or Python, from another folder (device or inode differ), or made under another
context (the time zone for ``mailq``).  Nothing is written when ``write`` is false or
the folder is not writable (the listing is still exact, only slower next time).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from array import array
from itertools import repeat
from pathlib import Path
from typing import Any

from .listing_index import (
    KINDS,
    VOLATILE,
    Arena,
    Listing,
    Plan,
    groups_from_header,
    groups_to_header,
    plan,
)
from .listing_schema import MAILQ, Schema, read_entry
from .listing_store import (
    IndexFile,
    IndexUnusable,
    index_dir,
    index_path,
    new_generation,
    read_stamp,
    write_index,
    write_stamp,
)

SETTLED = 2_000_000_000
"""Nanoseconds a folder's times must be old before its ``stat`` may stand for its contents."""
MAXQFNAME = 21
_VERSION = f"{sys.implementation.cache_tag}"
_COLUMNS = ("names", "inos", "df_inos", "keys", "flags", "ranks")
_SNAPSHOT = ("dir_names", "dir_inos")


def dir_stamp(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size]


def open_listing(
    queue_dir: Path, schema: Schema = MAILQ, *, write: bool = True, fresh: bool = False
) -> Listing:
    """The listing of ``queue_dir`` as it is now; the caller closes it.

    ``fresh`` ignores the index there (it was found damaged) and reads every file.
    """
    queue_dir = Path(queue_dir)
    if write:
        with contextlib.suppress(OSError):
            os.mkdir(index_dir(queue_dir), 0o700)
    context = schema.context()
    started = time.time_ns()
    before = dir_stamp(os.stat(queue_dir))
    old = None if fresh else _open_index(queue_dir, schema, context, before)
    if old is not None:
        stamp = read_stamp(queue_dir, schema.name)
        if (
            stamp is not None
            and stamp.get("generation") == old.header["generation"]
            and stamp.get("directory") == before
        ):
            try:
                return _checked(Listing(groups_from_header(old.header), source=old), "stamp", 0)
            except IndexUnusable:
                old.close()
                old = None
    refresh = _Refresh(queue_dir, schema, context, before, started, write)
    listing: Listing | None = None
    try:
        listing = refresh.run(old)
        return listing
    finally:
        if old is not None and (listing is None or listing.source is not old):
            old.close()


def has_index(queue_dir: Path, schema: Schema) -> bool:
    """True when ``queue_dir`` has a usable ``schema`` index (maybe out of date)."""
    try:
        before = dir_stamp(os.stat(queue_dir))
    except OSError:
        return False
    index = _open_index(Path(queue_dir), schema, schema.context(), before)
    if index is None:
        return False
    index.close()
    return True


def _open_index(
    queue_dir: Path, schema: Schema, context: str, before: list[int]
) -> IndexFile | None:
    try:
        index = IndexFile(index_path(queue_dir, schema.name))
    except IndexUnusable:
        return None
    header = index.header
    if (
        header.get("python") != _VERSION
        or header.get("context") != context
        or header.get("directory") != before[:2]
        or not isinstance(header.get("generation"), str)
    ):
        index.close()
        return None
    return index


def _checked(listing: Listing, origin: str, reread: int) -> Listing:
    listing.origin, listing.reread = origin, reread
    return listing


class _Refresh:
    """One refresh: scan the folder, reuse what holds, read the rest, write what changed."""

    def __init__(
        self,
        queue_dir: Path,
        schema: Schema,
        context: str,
        before: list[int],
        started: int,
        write: bool,
    ) -> None:
        self.queue_dir = queue_dir
        self.schema = schema
        self.context = context
        self.before = before
        self.started = started
        self.write = write

    def run(self, old_file: IndexFile | None) -> Listing:
        old = _old_listing(old_file)
        arena = Arena(self.schema.texts)
        dir_fd = os.open(self.queue_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            dir_names, dir_inos = _scan(dir_fd)
            unchanged = old is not None and dir_names == old.dir_names and dir_inos == old.dir_inos
            if unchanged:
                names, reuse, fresh = old.names, [], []  # type: ignore[union-attr]
            else:
                where = _controls(dir_names, self.schema)
                names = list(map(dir_names.__getitem__, where))
                inos = list(map(dir_inos.__getitem__, where))
                reuse = _reusable(names, inos, dir_names, dir_inos, old)
                fresh = self._read([i for i, j in enumerate(reuse) if j < 0], names, dir_fd, arena)
        finally:
            os.close(dir_fd)
        after = dir_stamp(os.stat(self.queue_dir))
        before = self.before
        settled = after == before and max(before[2], before[3]) < self.started - SETTLED
        if old is not None and old_file is not None and (unchanged or _same(reuse, arena, old)):
            if self.write and settled and not any(g.volatile for g in old.groups.values()):
                with contextlib.suppress(OSError):
                    self._stamp(old_file.header["generation"])
            return _checked(old, "scan", 0)
        try:
            new = plan(
                names, reuse, fresh, arena, old, self.schema.texts, self.schema.ties_by_name,
                (dir_names, dir_inos),
            )  # fmt: skip
        except IndexUnusable:  # an old text section is damaged: read every file again
            return self.run(None)
        settled = settled and not any(g.volatile for g in new.groups.values())
        if self.write:
            with contextlib.suppress(OSError, IndexUnusable):
                return _checked(self._save(new, settled), "refresh", len(arena))
        return _checked(new.listing(), "refresh", len(arena))

    def _read(self, stale: list[int], names: list[str], dir_fd: int, arena: Arena) -> list[int]:
        """Read the files ``stale`` into ``arena``: each file's number there (-1: gone)."""
        from . import listing_parallel  # only a refresh reads files: keep mailq's imports lean

        fresh = [-1] * len(names)
        workers = listing_parallel.worker_count(len(stale))
        if workers:
            work = [(i, names[i]) for i in stale if "\n" not in names[i]]
            reader = listing_parallel.read_entries(self.queue_dir, self.schema, work, workers)
            for i, entry in reader:
                if entry is not None:
                    fresh[i] = arena.add(entry)
            stale = [i for i in stale if "\n" in names[i]]  # not sent: lines are the protocol
        for i in stale:
            if (entry := read_entry(self.schema, dir_fd, names[i])) is not None:
                fresh[i] = arena.add(entry)
        return fresh

    def _save(self, new: Plan, settled: bool) -> Listing:
        """Write the new index (and stamp); the listing is then served from the new file."""
        generation = new_generation()
        header: dict[str, Any] = {
            "generation": generation,
            "python": _VERSION,
            "context": self.context,
            "directory": self.before[:2],
            "groups": groups_to_header(new.groups),
        }
        write_index(self.queue_dir, self.schema.name, header, new.sections())
        if settled:
            self._stamp(generation)
        index = IndexFile(index_path(self.queue_dir, self.schema.name))
        if index.header.get("generation") != generation:  # another one was written meanwhile
            index.close()
            return new.listing()
        return Listing(groups_from_header(index.header), source=index)

    def _stamp(self, generation: str) -> None:
        stamp = {"generation": generation, "directory": self.before}
        if read_stamp(self.queue_dir, self.schema.name) != stamp:
            write_stamp(self.queue_dir, self.schema.name, stamp)


def _old_listing(old: IndexFile | None) -> Listing | None:
    if old is None:
        return None
    try:
        listing = Listing(groups_from_header(old.header), source=old)
        for column in (*_COLUMNS, *_SNAPSHOT):
            listing.column(column)
    except IndexUnusable:
        return None
    count = len(listing)
    if any(len(listing.column(c)) != count for c in _COLUMNS) or len(listing.dir_names) != len(
        listing.dir_inos
    ):
        return None
    return listing


def _same(reuse: list[int], arena: Arena, old: Listing) -> bool:
    """True when every old entry holds, in the same directory order, and none is new."""
    if len(arena) or len(reuse) != len(old) or -1 in reuse:
        return False
    return list(map(old.column("ranks").__getitem__, reuse)) == list(range(len(reuse)))


def _scan(dir_fd: int) -> tuple[list[str], array[int]]:
    """Every name in the folder and its inode number, in directory order."""
    names: list[str] = []
    inos: list[int] = []
    add_name, add_ino = names.append, inos.append
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            add_name(entry.name)
            add_ino(entry.inode())
    return names, array("Q", inos)


def _controls(dir_names: list[str], schema: Schema) -> list[int]:
    """Where the control files ``schema`` lists are among ``dir_names`` (directory order)."""
    kinds, lists = KINDS, schema.lists
    return [
        i
        for i, name in enumerate(dir_names)
        if name[:2] in kinds and len(name) < MAXQFNAME and (lists is None or lists(name))
    ]


def _reusable(
    names: list[str], inos: list[int], dir_names: list[str], dir_inos: array[int],
    old: Listing | None,
) -> list[int]:  # fmt: skip
    """For each control file, the index of its old entry if that still holds, else -1.

    An entry holds when neither its control file nor its df changed name or inode since
    the snapshot the old index was made from, and it is not volatile.
    """
    if old is None:
        return [-1] * len(names)
    stale = _changed_names(dir_names, dir_inos, old.dir_names, old.dir_inos)
    for name in [n for n in stale if n[:2] == "df"]:
        stale.update(kind + name[2:] for kind in KINDS)
    old_names, old_inos, old_flags = old.names, old.inos, old.flags
    if any(g.volatile for g in old.groups.values()):
        stale.update(old_names[j] for j in range(len(old_names)) if old_flags[j] & VOLATILE)
    position = dict(zip(old_names, range(len(old_names)), strict=True))
    reuse = []
    get = position.get
    for name, ino in zip(names, inos, strict=True):
        j = -1 if name in stale else get(name, -1)
        if j >= 0 and old_inos[j] != ino:  # read from a later file than scanned
            j = -1
        reuse.append(j)
    return reuse


def _changed_names(
    names: list[str], inos: array[int], old_names: list[str], old_inos: array[int]
) -> set[str]:
    """Names added, removed or given another inode between two folder snapshots."""
    if names == old_names:  # the usual case when only files were replaced
        return {n for n, a, b in zip(names, inos, old_inos, strict=True) if a != b}
    then = dict(zip(old_names, old_inos, strict=True))
    before = list(map(then.pop, names, repeat(None)))  # what remains in ``then`` is gone
    changed = {n for n, a, b in zip(names, before, inos, strict=True) if a != b}
    changed.update(then)
    return changed
