"""The listing index on disk, beside the queue: ``<queue>/.postroom-index/``.

Each index (``mailq``, ``rows``: see :mod:`.listing_schema`) is a cache; the control
files stay the truth.  It lives in a subfolder so
that writing it does not change the queue folder's own timestamps (which
:mod:`.listing_refresh` compares to know that nothing changed).  Sendmail ignores the
subfolder (it only looks at ``qf``/``df``/``xf`` subfolders).

An index file is: a magic line ``POSTROOM-LISTING-INDEX <FORMAT>``, the
sections' bytes, the header as JSON (a random ``generation``, the time-zone fingerprint
the texts were rendered under, the queue folder's device and inode, the groups, the byte
order and the section table ``name -> [offset, length, crc32]``) and a fixed-size
trailer giving the header's offset -- so sections can be streamed to the file as they
are made.  :class:`IndexFile` maps the file, reads the header and then only the
sections asked for, checking each one's CRC; anything wrong -- missing, truncated,
another format or version, a CRC mismatch, unreadable -- raises :class:`IndexUnusable`,
which callers take as "no index".  Its stamp (``<name>.stamp``) is one JSON line naming
an index generation and the queue folder's ``stat`` at a moment it matched that index.

Both are written as a temporary file renamed into place (no fsync: a cache), mode 0600.
:func:`zone_fingerprint` identifies the local time zone: ``TZ``, ``TZDIR``, the names
and offsets ``time`` reports and the identity of the zone file in use.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from .durable import FILE_MODE

INDEX_DIR = ".postroom-index"
MAGIC = b"POSTROOM-LISTING-INDEX"
FORMAT = 1
_MAGIC_LINE = b"%s %d\n" % (MAGIC, FORMAT)
TRAILER = 22
"""The file ends with ``\\n``, the header's offset in 20 digits, ``\\n``."""
_TMP = ".tmp."

Piece = bytes | memoryview


class IndexUnusable(Exception):
    """The index file is missing, damaged or from another version: rebuild it."""


def index_dir(queue_dir: Path) -> Path:
    return queue_dir / INDEX_DIR


def index_path(queue_dir: Path, name: str) -> Path:
    """Where index ``name`` (``mailq``, ``rows``) of ``queue_dir`` lives."""
    return queue_dir / INDEX_DIR / name


def stamp_path(queue_dir: Path, name: str) -> Path:
    return queue_dir / INDEX_DIR / (name + ".stamp")


def zone_fingerprint() -> str:
    """What ``ctime`` in local time depends on, as one string."""
    parts: list[object] = [
        os.environ.get("TZ"),
        os.environ.get("TZDIR"),
        time.tzname,
        time.timezone,
        time.altzone,
        time.daylight,
    ]
    zone = os.environ.get("TZ")
    files = ["/etc/localtime"]
    if zone:
        name = zone[1:] if zone.startswith(":") else zone
        base = os.environ.get("TZDIR") or "/usr/share/zoneinfo"
        files.append(name if name.startswith("/") else os.path.join(base, name))
    for path in files:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            parts.append(None)
        else:
            parts.append([st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns])
    return json.dumps(parts)


class IndexFile:
    """An open index file (mapped read-only): its header, and its sections on demand."""

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as exc:
            raise IndexUnusable(f"{path}: {exc.strerror}") from exc
        try:
            size = os.fstat(fd).st_size
            if size < len(_MAGIC_LINE) + TRAILER:
                raise IndexUnusable(f"{path}: truncated")
            self._map = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        except (OSError, ValueError) as exc:
            raise IndexUnusable(f"{path}: cannot map it") from exc
        finally:
            os.close(fd)
        try:
            self.header = self._read_header(size)
        except BaseException:
            self.close()
            raise

    def _read_header(self, size: int) -> dict[str, Any]:
        view = self._map
        if view[: len(_MAGIC_LINE)] != _MAGIC_LINE:
            raise IndexUnusable(f"{self._path}: not an index of format {FORMAT}")
        trailer = view[size - TRAILER : size]
        try:
            start = int(trailer[1:-1]) if trailer[:1] == b"\n" and trailer[-1:] == b"\n" else -1
        except ValueError:
            start = -1
        if not len(_MAGIC_LINE) <= start < size - TRAILER:
            raise IndexUnusable(f"{self._path}: truncated or damaged")
        try:
            header = json.loads(view[start : size - TRAILER])
            sections = {
                str(k): (int(v[0]), int(v[1]), int(v[2])) for k, v in header["sections"].items()
            }
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise IndexUnusable(f"{self._path}: bad header") from exc
        if header.get("byteorder") != sys.byteorder:
            raise IndexUnusable(f"{self._path}: written on another machine")
        if any(o < len(_MAGIC_LINE) or o + n > start for o, n, _ in sections.values()):
            raise IndexUnusable(f"{self._path}: bad section table")
        self._sections = sections
        return dict(header)

    def section(self, name: str) -> memoryview:
        """The bytes of section ``name`` (a view of the mapping), checked against their CRC."""
        try:
            offset, length, crc = self._sections[name]
        except KeyError as exc:
            raise IndexUnusable(f"{self._path}: no section {name}") from exc
        data = memoryview(self._map)[offset : offset + length]
        if zlib.crc32(data) != crc:
            raise IndexUnusable(f"{self._path}: section {name} is damaged")
        return data

    def close(self) -> None:
        """Unmap (views still held keep the mapping alive until they go)."""
        with contextlib.suppress(BufferError, AttributeError):
            self._map.close()

    def __enter__(self) -> IndexFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_generation() -> str:
    return os.urandom(8).hex()


def write_index(
    queue_dir: Path,
    name: str,
    header: dict[str, Any],
    sections: Iterable[tuple[str, Iterable[Piece]]],
) -> None:
    """Write the index atomically, streaming each section's pieces as they come.

    ``header`` gains ``byteorder`` and the ``sections`` table.
    """

    def body(out: BinaryIO) -> None:
        table: dict[str, list[int]] = {}
        offset = out.write(_MAGIC_LINE)
        for name, pieces in sections:
            crc, length = 0, 0
            for piece in pieces:
                crc = zlib.crc32(piece, crc)
                length += out.write(piece)
            table[name] = [offset, length, crc]
            offset += length
        full = {**header, "byteorder": sys.byteorder, "sections": table}
        out.write(json.dumps(full, separators=(",", ":")).encode())
        out.write(b"\n%0*d\n" % (TRAILER - 2, offset))

    _replace(queue_dir, name, body)


def read_stamp(queue_dir: Path, name: str) -> dict[str, Any] | None:
    """The stamp of index ``name``, or None if missing or unreadable."""
    try:
        with open(stamp_path(queue_dir, name), "rb") as handle:
            stamp = json.loads(handle.read(4096))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def write_stamp(queue_dir: Path, name: str, stamp: dict[str, Any]) -> None:
    data = json.dumps(stamp).encode() + b"\n"
    _replace(queue_dir, stamp_path(queue_dir, name).name, lambda out: out.write(data))


def _replace(queue_dir: Path, name: str, body: Callable[[BinaryIO], object]) -> None:
    folder = index_dir(queue_dir)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    tmp = folder / f"{name}{_TMP}{os.getpid()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(tmp, flags, FILE_MODE)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20, closefd=False) as out:
            body(out)
        os.close(fd)
        fd = -1
        os.rename(tmp, folder / name)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _remove_debris(folder, name)


def _remove_debris(folder: Path, name: str) -> None:
    """Temporary files left by writers that died (their pid no longer runs)."""
    prefix = name + _TMP
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for other in names:
        if not other.startswith(prefix):
            continue
        pid = other[len(prefix) :]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(folder / other)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
