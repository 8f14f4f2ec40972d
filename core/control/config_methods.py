"""``config.get``, ``config.diff`` and ``config.set``: the configuration over the RPC.

``config.get`` returns the file's text and SHA-256, whether it loads (and every problem
when it does not), its warnings, and one entry per option: the value in force as
``-bP`` shows it, the raw value written in the file (if any) and its line, the default,
the kind of value and the one-line meaning.

``config.set`` takes ``changes`` (``{"Option": value}``, ``null`` to remove) and applies
them with tomlkit (:mod:`.config_edit`); the result is loaded with the real loader
before anything is written, then replaces the file atomically, keeping ``.bak``
(:mod:`.config_store`).  ``dry_run`` stops after the check and only shows the diff --
that is ``config.diff``.  ``base_sha256`` refuses the edit (``conflict``) when the file
changed since the client read it; ``reload`` then signals the daemon.  The result:
``{"changed", "diff", "sha256", "backup", "warnings", "reloaded"}``.  ``apply_edit`` is
shared with the privacy and ports methods.
"""

from __future__ import annotations

import tomllib
from typing import Any

from ..config.describe import describe
from ..config.options import OPTIONS
from .config_edit import apply_changes, normalize_changes, unified_diff
from .config_store import Proposal, check_base, edit_lock, read_config_text
from .context import Context, Stream
from .daemon_methods import daemon_state, reload_daemon
from .errors import config_problems
from .params import Params


def _raw_values(text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "Timeout" and isinstance(value, dict):
            flat.update({f"Timeout.{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    return flat


def config_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    current = read_config_text(ctx.config_path)
    config, problem = ctx.load()
    raw = _raw_values(current.text)
    shown: dict[str, list[str]] = {}
    if config is not None:
        for name, text in describe(config):
            shown.setdefault(name, []).append(text)
    lines = config.lines if config is not None else {}
    options = []
    for option in OPTIONS.values():
        values = shown.get(option.name)
        options.append(
            {
                "name": option.name,
                "value": None if values is None else "; ".join(values),
                "raw": raw.get(option.name),
                "set_in_file": option.name in raw,
                "line": lines.get(option.name, 0),
                "default": option.default_value(),
                "kind": option.kind.describe,
                "doc": option.doc,
                "ours": option.ours,
            }
        )
    return {
        "path": str(current.path),
        "sha256": current.sha256,
        "text": current.text,
        "valid": config is not None,
        "problems": [] if problem is None else config_problems(problem),
        "warnings": list(config.warnings) if config is not None else [],
        "overrides": list(ctx.overrides),
        "options": options,
    }


def apply_edit(
    ctx: Context,
    changes: object,
    *,
    dry_run: bool,
    base_sha256: str | None,
    reload: bool,
) -> dict[str, Any]:
    """Check, show and (unless ``dry_run``) write a change to the config file."""
    wanted = normalize_changes(changes)
    path = ctx.config_path.resolve()  # edit the file a symlink points to, keep the link
    with edit_lock(path):
        current = read_config_text(path)
        check_base(current, base_sha256)
        new_text = apply_changes(current.text, wanted)
        diff = unified_diff(current.text, new_text, path.name)
        if new_text == current.text:
            return _outcome(False, diff, current.sha256, None, [], None)
        proposal = Proposal(current, new_text)
        try:
            config = proposal.validate()
            if dry_run:
                return _outcome(True, diff, current.sha256, None, config.warnings, None)
            backup = proposal.replace()
        finally:
            proposal.drop()
    after = read_config_text(path)
    reloaded: bool | None = None
    if reload:
        live = ctx.config()
        reloaded = bool(daemon_state(live)["running"])
        if reloaded:
            reload_daemon(live)
    return _outcome(True, diff, after.sha256, str(backup), config.warnings, reloaded)


def _outcome(
    changed: bool,
    diff: str,
    sha256: str,
    backup: str | None,
    warnings: tuple[str, ...] | list[str],
    reloaded: bool | None,
) -> dict[str, Any]:
    return {
        "changed": changed,
        "diff": diff,
        "sha256": sha256,
        "backup": backup,
        "warnings": list(warnings),
        "reloaded": reloaded,
    }


def _edit(ctx: Context, params: Params, *, dry_run: bool) -> dict[str, Any]:
    return apply_edit(
        ctx,
        params.raw.get("changes"),
        dry_run=dry_run,
        base_sha256=params.text("base_sha256", max_length=64),
        reload=params.boolean("reload"),
    )


def config_diff(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    return _edit(ctx, params, dry_run=True)


def config_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    return _edit(ctx, params, dry_run=params.boolean("dry_run"))
