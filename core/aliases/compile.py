"""``newaliases`` (``-bi``) and ``praliases``: compiling the aliases file and printing the result.

:func:`newaliases` locks the source file (``flock``, non-blocking: a second
run gets ``Alias file <f> is locked (maybe being rebuilt)``), reads and
parses it (:mod:`.parser`), refuses program, file and ``:include:`` targets
when the file is not trusted (:func:`.trust.alias_file_problem`,
BAD-INPUTS 44), then writes ``<file>.sqlite`` atomically with Sendmail's
special ``@`` -> ``@`` entry last.  Any problem raises before anything is
written, so the previous compiled table stays active.  The result carries
Sendmail's summary line (:meth:`CompileResult.summary`) and the duplicate
warnings.

:func:`praliases` prints a compiled table as Sendmail's ``praliases`` does:
``key:value`` lines in database order including ``@:@``; with keys, only
those, looked up literally (Sendmail's praliases does not fold case), and
``<key>: No such key`` for a missing one.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import EX_NOINPUT, EX_TEMPFAIL, AliasDatabaseError, AliasFileError, Problem
from .parser import AliasSource, parse_aliases
from .store import TableError, compiled_path, read_table, write_table
from .trust import alias_file_problem

MAX_ALIAS_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CompileResult:
    """What :func:`newaliases` did."""

    source: AliasSource
    db_path: Path
    trusted: bool
    trust_problem: str | None

    @property
    def summary(self) -> str:
        """``<file>: <N> aliases, longest <L> bytes, <T> bytes total``."""
        return self.source.summary()

    @property
    def warnings(self) -> tuple[str, ...]:
        """``<file>: line <n>: <name>... Warning: duplicate alias name <key>`` lines."""
        return self.source.warnings

    def lines(self) -> list[str]:
        """What ``newaliases`` prints: the warnings, then the summary."""
        return [*self.warnings, self.summary]


def _read_locked(path: Path) -> tuple[bytes, os.stat_result]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise AliasDatabaseError(
            f"cannot open {path}: {exc.strerror}", exit_code=EX_NOINPUT
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise AliasDatabaseError(
                    f"Alias file {path} is locked (maybe being rebuilt)", exit_code=EX_TEMPFAIL
                ) from exc
            raise
        st = os.fstat(fd)
        if st.st_size > MAX_ALIAS_FILE_BYTES:
            raise AliasFileError(
                str(path), [Problem(0, f"larger than {MAX_ALIAS_FILE_BYTES} bytes")]
            )
        chunks: list[bytes] = []
        while True:
            block = os.read(fd, 1 << 16)
            if not block:
                break
            chunks.append(block)
        return b"".join(chunks), st
    finally:
        os.close(fd)  # releases the lock


def _untrusted_targets(source: AliasSource, path: str, why: str) -> list[Problem]:
    return [
        Problem(
            entry.line,
            f"{element.shown}... program, file and :include: targets need a trusted "
            f"aliases file; {path} is not trusted: {why}",
        )
        for entry in source.entries
        for element in entry.privileged
    ]


def newaliases(
    alias_file: Path,
    *,
    local_domains: Iterable[str] = (),
    owners: Iterable[int] | None = None,
    now: float | None = None,
) -> CompileResult:
    """Compile ``alias_file`` into ``<alias_file>.sqlite``; raise instead of writing a bad table."""
    path = Path(alias_file)
    data, st = _read_locked(path)
    source = parse_aliases(data, str(path), local_domains=local_domains)
    why = alias_file_problem(st, owners)
    if why is not None:
        refused = _untrusted_targets(source, str(path), why)
        if refused:
            raise AliasFileError(str(path), refused)
    db_path = compiled_path(path)
    meta = {
        "kind": "aliases",
        "source": str(path),
        "source_size": str(st.st_size),
        "source_mtime_ns": str(st.st_mtime_ns),
        "source_sha256": hashlib.sha256(data).hexdigest(),
        "source_uid": str(st.st_uid),
        "trusted": "0" if why else "1",
        "trust_problem": why or "",
        "built": str(time.time() if now is None else now),
        "summary": source.summary(),
    }
    rows = [(e.key, e.value) for e in source.entries] + [("@", "@")]
    mode = 0o600 | (st.st_mode & 0o044)
    try:
        write_table(db_path, rows, meta, mode=mode)
    except TableError as exc:
        raise AliasDatabaseError(f"Cannot create database for alias file {path}: {exc}") from exc
    return CompileResult(source, db_path, why is None, why)


def praliases(db_path: Path, keys: Sequence[str] = ()) -> list[str]:
    """The lines Sendmail's ``praliases`` prints for the compiled table ``db_path``."""
    try:
        table = read_table(db_path)
    except TableError as exc:
        raise AliasDatabaseError(str(exc), exit_code=EX_NOINPUT) from exc
    if not keys:
        return [f"{k}:{v}" for k, v in table.entries]
    values = dict(reversed(table.entries))
    return [f"{k}:{values[k]}" if k in values else f"{k}: No such key" for k in keys]
