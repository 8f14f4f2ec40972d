"""``aliases.get/set/rebuild`` and ``vacation.get/set``.

``aliases.get`` returns the aliases file's text, its entries as parsed (with
line numbers, warnings), and what the compiled table holds (praliases), so a
client can show both and mark differences. ``aliases.set`` validates the new
text with the real parser before an atomic write (backup kept as ``.bak``)
and can rebuild at once; a parse error is ``bad_params`` with the file's line.
``vacation.get``/``vacation.set`` read and write the built-in per-user
responder settings under VacationDirectory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..aliases import AliasError, AliasFileError, newaliases_for, parse_aliases, praliases
from ..policy.files import atomic_write
from ..vacation import SettingsError, VacationSettings, list_users, load_settings, save_settings
from .context import Context, Stream
from .params import Params
from .protocol import BAD_PARAMS, IO_ERROR, NOT_AVAILABLE, RpcError

MAX_ALIASES_BYTES = 4 * 1024 * 1024


def _alias_path(ctx: Context) -> Path:
    config = ctx.config()
    if not config.alias_file:
        raise RpcError(NOT_AVAILABLE, "AliasFile is not set in the configuration")
    return Path(config.alias_file)


def aliases_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    path = _alias_path(ctx)
    config = ctx.config()
    try:
        data = path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{path}: {exc.strerror}") from exc
    result: dict[str, Any] = {"path": str(path), "text": data.decode("utf-8", "replace")}
    try:
        source = parse_aliases(data, str(path), local_domains=config.local_domains)
        result["entries"] = [
            {"key": e.key, "value": e.value, "line": e.first_line} for e in source.entries
        ]
        result["warnings"] = list(source.warnings)
        result["errors"] = []
    except AliasFileError as exc:
        result["entries"], result["warnings"], result["errors"] = [], [], list(exc.lines)
    db = path.with_name(path.name + ".sqlite")
    try:
        result["compiled"] = praliases(db) if db.exists() else []
    except AliasError as exc:
        result["compiled"] = []
        result["errors"].append(str(exc))
    return result


def aliases_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    path = _alias_path(ctx)
    config = ctx.config()
    text = params.raw.get("text")
    if not isinstance(text, str) or len(text) > MAX_ALIASES_BYTES:
        raise RpcError(
            BAD_PARAMS,
            f"aliases.set: text must be a string of at most {MAX_ALIASES_BYTES} characters",
        )
    data = text.encode("utf-8", "surrogateescape")
    try:
        parse_aliases(data, str(path), local_domains=config.local_domains)
    except AliasFileError as exc:
        raise RpcError(BAD_PARAMS, "; ".join(exc.lines), {"lines": list(exc.lines)}) from exc
    try:
        if path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        atomic_write(path, data, mode)
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{path}: {exc.strerror}") from exc
    answer: dict[str, Any] = {"path": str(path), "written": True}
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


def _vacation_dir(ctx: Context) -> Path:
    config = ctx.config()
    if config.vacation_directory is None:
        raise RpcError(NOT_AVAILABLE, "VacationDirectory is not set in the configuration")
    return Path(config.vacation_directory)


def vacation_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    if not params.has("user"):
        return {"users": list_users(directory)}
    user = params.text("user", required=True, max_length=64) or ""
    try:
        settings = load_settings(directory, user)
    except SettingsError as exc:
        raise RpcError(BAD_PARAMS, str(exc), {"field": exc.field}) from exc
    return {"user": user, "settings": settings.to_json()}


def vacation_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    user = params.text("user", required=True, max_length=64) or ""
    raw = params.raw.get("settings")
    try:
        settings = VacationSettings.from_json(raw)
        path = save_settings(directory, user, settings)
    except SettingsError as exc:
        raise RpcError(BAD_PARAMS, str(exc), {"field": exc.field}) from exc
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{directory}: {exc.strerror}") from exc
    return {"user": user, "path": str(path), "settings": settings.to_json()}
