"""``aliases.get``, ``aliases.check``, ``aliases.set`` and ``aliases.rebuild``.

``aliases.get`` returns the aliases file's text and SHA-256, its entries as
parsed (with line numbers, warnings), and what the compiled table holds
(praliases), so a client can show both and mark differences.

``aliases.check`` parses a *proposed* text with the real parser, without
writing anything, and judges every entry (or the ``keys`` asked for) the way
delivery would (:mod:`.alias_check`): each target typed, syntax, loops,
fan-out, unknown local users, untrusted program/file/``:include:`` targets --
so the GUI and the core never disagree about a file.

``aliases.set`` validates the new text with the real parser before an atomic
write (backup kept as ``.bak``) and rebuilds at once unless ``rebuild`` is
false; a parse error is ``bad_params`` with the file's lines; ``base_sha256``
refuses the write (``conflict``) when the file changed since it was read.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from ..aliases import AliasError, AliasFileError, newaliases_for, parse_aliases, praliases
from ..policy.files import atomic_write
from .alias_check import check_text
from .context import Context, Stream
from .params import Params
from .protocol import BAD_PARAMS, CONFLICT, IO_ERROR, NOT_AVAILABLE, RpcError

MAX_ALIASES_BYTES = 4 * 1024 * 1024
MAX_CHECK_KEYS = 10_000


def _alias_path(ctx: Context) -> Path:
    config = ctx.config()
    if not config.alias_file:
        raise RpcError(NOT_AVAILABLE, "AliasFile is not set in the configuration")
    return Path(config.alias_file)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{path}: {exc.strerror}") from exc


def _proposed_text(params: Params) -> bytes:
    text = params.raw.get("text")
    if not isinstance(text, str) or len(text) > MAX_ALIASES_BYTES:
        raise RpcError(
            BAD_PARAMS,
            f"{params.method}: text must be a string of at most {MAX_ALIASES_BYTES} characters",
        )
    return text.encode("utf-8", "surrogateescape")


def aliases_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    path = _alias_path(ctx)
    config = ctx.config()
    data = _read(path)
    result: dict[str, Any] = {
        "path": str(path),
        "exists": path.exists(),
        "text": data.decode("utf-8", "replace"),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    try:
        source = parse_aliases(data, str(path), local_domains=config.local_domains)
        result["entries"] = [
            {"key": e.key, "value": e.value, "line": e.first_line, "last_line": e.line}
            for e in source.entries
        ]
        result["warnings"] = list(source.warnings)
        result["errors"] = []
    except AliasFileError as exc:
        result["entries"], result["warnings"], result["errors"] = [], [], list(exc.lines)
    db = path.with_name(path.name + ".sqlite")
    result["compiled_path"] = str(db)
    result["compiled_exists"] = db.exists()
    try:
        result["compiled"] = praliases(db) if db.exists() else []
    except AliasError as exc:
        result["compiled"] = []
        result["errors"].append(str(exc))
    return result


def aliases_check(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    path = _alias_path(ctx)
    data = _proposed_text(params)
    keys = params.strings("keys", max_items=MAX_CHECK_KEYS, max_length=512)
    name = params.text("name", max_length=512)
    targets = params.strings("targets", max_items=MAX_CHECK_KEYS, max_length=8192)
    return check_text(ctx.config(), path, data, keys, name=name, targets=targets)


def aliases_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    path = _alias_path(ctx)
    config = ctx.config()
    data = _proposed_text(params)
    base = params.text("base_sha256", max_length=64)
    try:
        parse_aliases(data, str(path), local_domains=config.local_domains)
    except AliasFileError as exc:
        raise RpcError(BAD_PARAMS, "; ".join(exc.lines), {"lines": list(exc.lines)}) from exc
    if base is not None:
        current = hashlib.sha256(_read(path)).hexdigest()
        if current != base:
            raise RpcError(
                CONFLICT,
                f"{path} was changed since you read it; read it again and redo the edit",
                {"sha256": current},
            )
    try:
        if path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        atomic_write(path, data, mode)
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{path}: {exc.strerror}") from exc
    answer: dict[str, Any] = {
        "path": str(path),
        "written": True,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if params.boolean("rebuild", True):
        answer["rebuild"] = aliases_rebuild(ctx, params, out)
    return answer


def aliases_rebuild(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    try:
        result = newaliases_for(config)
    except AliasFileError as exc:
        raise RpcError(BAD_PARAMS, "; ".join(exc.lines), {"lines": list(exc.lines)}) from exc
    except (AliasError, OSError) as exc:
        raise RpcError(IO_ERROR, str(exc)) from exc
    return {"summary": result.summary, "lines": result.lines()}
