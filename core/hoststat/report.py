"""``hoststat`` / ``sendmail -bh``: Sendmail 8.17's host status listing, byte for byte.

The tree is walked like ``mci_traverse_persistent`` (directory-read order,
depth first, names starting with ``.`` skipped).  The header line is printed
before the first file is read -- even if no file turns out to be usable --
and an empty tree prints nothing at all.  Per usable file: ``*`` if a shared
non-blocking flock fails (someone is delivering), else a space; the host
name rebuilt from the path, ``%-39s``; the age ``now - U`` right-justified in
12 columns (:func:`.texts.pintvl`); the Results column cut to 25 bytes (78
with ``verbose``).  Files Sendmail reports are reported the same way, on
standard output, as Sendmail's ``syserr`` prints them (a ``V`` line other than
0, and ``<path>: line N: <path>: could not read status file`` for an
unusable file, where N is Sendmail's global line counter -- see
``line_number``); symbolic links are skipped silently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from .fileformat import ENCODING, ERRORS, parse_status
from .paths import walk
from .store import HostStatusStore, is_locked_path
from .texts import pintvl, result_text

HEADER = b" -------------- Hostname --------------- How long ago ---------Results---------\n"


def format_hoststat(
    store: HostStatusStore,
    *,
    verbose: bool = False,
    now: float | None = None,
    line_number: int = 0,
) -> str:
    """The whole listing as ``str`` (non-UTF-8 bytes kept via surrogateescape).

    ``line_number`` is Sendmail's ``LineNumber`` when the walk starts -- the
    line count of the cf it read -- and only shows up in error lines.
    """
    chunks = iter_hoststat(store, verbose=verbose, now=now, line_number=line_number)
    return b"".join(chunks).decode(ENCODING, ERRORS)


def iter_hoststat(
    store: HostStatusStore,
    *,
    verbose: bool = False,
    now: float | None = None,
    line_number: int = 0,
) -> Iterator[bytes]:
    """The listing in chunks: the header, then one chunk per file."""
    current = int(time.time() if now is None else now)
    width = 78 if verbose else 25
    root = os.fsencode(store.directory).rstrip(b"/") or b"/"
    header_done = False
    for path, host, is_link in walk(root):
        if not header_done:
            header_done = True
            yield HEADER
        if is_link:
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        parsed = parse_status(data, line_number)
        out = [
            b"%s: line %d: Unknown host status version %d: 0 max\n" % (path, line, version)
            for line, version in parsed.bad_versions
        ]
        line_number = parsed.line_number
        if not parsed.ok:
            out.append(b"%s: line %d: %s: could not read status file\n" % (path, line_number, path))
            yield b"".join(out)
            continue
        mark = b"*" if is_locked_path(path) else b" "
        age = pintvl(current - parsed.last_use).encode()
        result = result_text(parsed.errno, parsed.exit_status, parsed.reply, width)
        out.append(b"%s%-39s %12s %s\n" % (mark, host, age, result))
        yield b"".join(out)
