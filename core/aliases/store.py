"""The compiled-table file shared by the alias database and ``makemap`` maps.

Format: one SQLite file, ``<source>.sqlite`` (see :func:`compiled_path`), with
two tables, ``meta(name, value)`` and ``entries(seq, key, value)``; ``seq`` is
insertion order, which is the "database order" ``praliases`` and
``makemap -u`` print.

Why SQLite rather than the stdlib ``dbm``: Python's dbm flavour depends on how
the interpreter was built (gnu, ndbm or the slow "dumb" one, not readable
across builds) and ndbm/dumb use several files, which cannot be replaced in
one atomic step.  SQLite is always present, is one file, keeps insertion
order, holds metadata (source size/mtime/hash, trust) next to the entries, and
lets readers that opened the old file keep reading it while a new one is
renamed over it.  The name ends in ``.sqlite`` so it never collides with a
real Sendmail's ``aliases.db`` (Berkeley DB) beside the same source file.

:func:`write_table` builds the file under a temporary name in the same
folder, fsyncs it, renames it into place and fsyncs the folder: a reader sees
the old table or the new one, never a mix.  :func:`read_table` opens read-only.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUFFIX = ".sqlite"
FORMAT = "postroom-table-1"

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX entries_key ON entries (key);
"""


def compiled_path(source: Path) -> Path:
    """The compiled file for the text file (or map name) ``source``."""
    return source.with_name(source.name + SUFFIX)


@dataclass(frozen=True)
class Table:
    """A compiled table read back: entries in database order, and its metadata."""

    path: Path
    entries: tuple[tuple[str, str], ...]
    meta: Mapping[str, str]


class TableError(Exception):
    """A compiled table that cannot be read or written; the message says why."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_table(
    path: Path,
    entries: Iterable[tuple[str, str]],
    meta: Mapping[str, str],
    *,
    mode: int = 0o644,
) -> None:
    """Replace ``path`` atomically with a table of ``entries`` (kept in order) and ``meta``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        os.fchmod(fd, mode)
        os.close(fd)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [("format", FORMAT), *meta.items()],
            )
            conn.executemany("INSERT INTO entries (key, value) VALUES (?, ?)", entries)
            conn.execute("COMMIT")
        finally:
            conn.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except (OSError, sqlite3.Error) as exc:
        raise TableError(f"cannot write {path}: {exc}") from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def read_table(path: Path) -> Table:
    """Read every entry and the metadata of the compiled table at ``path``."""
    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise TableError(f"cannot open {path}: {exc}") from exc
    try:
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise TableError(f"{path}: not a Postroom table (format {meta.get('format')!r})")
        rows = conn.execute("SELECT key, value FROM entries ORDER BY seq").fetchall()
    except sqlite3.Error as exc:
        raise TableError(f"cannot read {path}: {exc}") from exc
    finally:
        conn.close()
    return Table(path, tuple((str(k), str(v)) for k, v in rows), meta)
