"""Host name <-> file path, and the tree walk, exactly as Sendmail's mci.c.

:func:`host_path` maps ``host.example.com`` to ``com./example./host`` below
the HostStatusDirectory: the name loses a leading ``[`` (and trailing ``]``)
and trailing dots, is split at the dots, and the labels are used right to
left -- every label but the leftmost becomes a folder named ``label.``, the
leftmost is the file.  ASCII letters are lower-cased and ``/`` becomes
``:``.  Rejected (:class:`InvalidHostNameError`): an empty name, a leading
``.``, ``..`` anywhere, a name over 255 bytes, and a bracketed name that is
neither an IPv4 address (``inet_addr`` rules, so ``255.255.255.255`` is
refused like in Sendmail) nor an IPv6 one (optionally ``IPv6:``-prefixed).

:func:`host_from_path` rebuilds the name from a file's path the way
``mci_traverse_persistent`` does (components ending in ``.`` belong to the
name; the file name's own trailing dot is dropped).  :func:`walk` yields the
files of a tree in directory-read order, depth first, skipping names that
start with ``.`` (so our temporary files are never seen), as Sendmail does.
Paths are bytes, so any file name round-trips.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator

from .errors import InvalidHostNameError

MAXHOSTNAMELEN = 256


def host_components(host: str) -> list[bytes]:
    """The path components (folders, then the file) for ``host``."""
    raw = host.encode("utf-8", "surrogateescape")
    if not raw or raw.startswith(b"."):
        raise InvalidHostNameError(f"no host status file for {host!r}")
    if len(raw) > MAXHOSTNAMELEN - 1:
        raise InvalidHostNameError(f"host name too long: {host[:40]!r}...")
    bracketed = raw.startswith(b"[")
    name = raw[1:] if bracketed else raw
    while name and (name.endswith(b".") or (bracketed and name.endswith(b"]"))):
        name = name[:-1]
    if bracketed and not _is_address(name):
        raise InvalidHostNameError(f"bogus address literal {host!r}")
    if b".." in name or b"\0" in name or not name:
        raise InvalidHostNameError(f"no host status file for {host!r}")
    labels = [_fold(label) for label in name.split(b".")]
    labels.reverse()
    return [label + b"." for label in labels[:-1]] + [labels[-1]]


def host_path(directory: bytes, host: str) -> bytes:
    """The full path of ``host``'s status file below ``directory``."""
    return b"/".join([directory.rstrip(b"/") or b"/", *host_components(host)])


def host_from_path(path: bytes) -> bytes:
    """Rebuild the host name from a status file's path (mci_traverse_persistent)."""
    parts: list[bytes] = []
    end = len(path) - 1
    while True:
        start = end
        while start > 0 and path[start - 1 : start] != b"/":
            start -= 1
        stop = end - 1 if path[end : end + 1] == b"." else end
        parts.append(path[start : stop + 1])
        end = start - 2
        if not (end > 0 and path[end : end + 1] == b"."):
            return b".".join(parts)


def walk(directory: bytes) -> Iterator[tuple[bytes, bytes, bool]]:
    """Yield ``(path, host, is_symlink)`` for every regular file below ``directory``.

    Like Sendmail, ``stat`` follows symbolic links (a linked folder is walked,
    a linked file is reported, and Sendmail then refuses to open it); unlike
    Sendmail, a folder already being walked is not entered again (no loop).
    """
    yield from _walk(directory.rstrip(b"/") or b"/", set())


def _walk(directory: bytes, seen: set[tuple[int, int]]) -> Iterator[tuple[bytes, bytes, bool]]:
    try:
        st = os.stat(directory)
        entries = [e.name for e in os.scandir(directory)]
    except OSError:
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return
    seen.add(key)
    for name in entries:
        if name.startswith(b"."):
            continue
        path = directory + b"/" + name
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(path, seen)
        elif stat.S_ISREG(st.st_mode):
            yield path, host_from_path(path), os.path.islink(path)
    seen.discard(key)


def _fold(label: bytes) -> bytes:
    return label.translate(_FOLD)


_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ/", b"abcdefghijklmnopqrstuvwxyz:")


def _is_address(name: bytes) -> bool:
    text = name.decode("ascii", "replace")
    try:
        if socket.inet_aton(text) != b"\xff\xff\xff\xff":
            return True
    except (OSError, ValueError):
        pass
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    try:
        socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError):
        return False
    return True
