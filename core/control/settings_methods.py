"""PrivacyOptions and DaemonPortOptions as screens: ``privacy.*`` and ``ports.*``.

Thin layers over :func:`.config_methods.apply_edit`: the ``get`` methods return the
value in force in a structured form together with the help texts the GUI shows beside
each flag or modifier (``privacy_help``, :mod:`.ports_help`); the ``set`` methods check
their input first (a flag name that does not exist, a listener string that does not
parse -- with its index) and then write the option as a whole, with the same
``dry_run``, ``base_sha256`` and ``reload`` params and the same result as
``config.set``.  Both ``get`` methods also return the config file's ``path`` and
``sha256``, for ``base_sha256`` on the next ``set``; ``privacy.get`` adds ``written``,
the names as the file lists them, so an editor can keep their order.
"""

from __future__ import annotations

import tomllib
from typing import Any

from ..policy.errors import PolicyError
from ..policy.ports import (
    DAEMON_MODIFIERS,
    format_daemon_port,
    listener_warnings,
    parse_daemon_port_options,
)
from ..policy.privacy import GOAWAY, PRIVACY_VALUES, Privacy, privacy_names
from ..policy.privacy_help import PRIVACY_HELP
from .config_methods import apply_edit
from .config_store import read_config_text
from .context import Context, Stream
from .params import Params, bad
from .ports_help import DAEMON_MODIFIER_HELP, PORT_KEYS

MAX_LISTENERS = 64
_LISTENER_FIELDS = {"name", "port", "addr", "family", "listen", "modifiers"}


def _flag_set(name: str, value: Privacy) -> bool:
    bits = PRIVACY_VALUES[name]
    if name == "public":
        return int(value) == 0
    if name == "goaway":
        return value & GOAWAY == GOAWAY
    return bool(value & bits)


def _written_names(text: str) -> list[str]:
    """PrivacyOptions as the file writes them, in its order (names lowercased)."""
    try:
        raw = tomllib.loads(text).get("PrivacyOptions")
    except tomllib.TOMLDecodeError:
        return []
    items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    words = (w for item in items if isinstance(item, str) for w in item.replace(",", " ").split())
    return list(dict.fromkeys(w.lower() for w in words))


def privacy_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    current = read_config_text(ctx.config_path)
    return {
        "path": str(current.path),
        "sha256": current.sha256,
        "names": privacy_names(config.privacy),
        "written": _written_names(current.text),
        "value": int(config.privacy),
        "flags": [
            {
                "name": name,
                "set": _flag_set(name, config.privacy),
                "bits": int(PRIVACY_VALUES[name]),
                "summary": PRIVACY_HELP[name].summary,
                "detail": PRIVACY_HELP[name].detail,
            }
            for name in PRIVACY_VALUES
        ],
    }


def privacy_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    flags = params.strings("flags", required=True, max_items=len(PRIVACY_VALUES), max_length=40)
    assert flags is not None
    names = []
    for flag in flags:
        name = flag.strip().lower()
        if name not in PRIVACY_VALUES:
            raise bad(
                f"privacy.set: unknown PrivacyOptions name {flag!r}; valid names are: "
                + ", ".join(PRIVACY_VALUES),
                flag=flag,
            )
        names.append(name)
    return apply_edit(
        ctx,
        {"PrivacyOptions": list(dict.fromkeys(names)) or ["public"]},
        dry_run=params.boolean("dry_run"),
        base_sha256=params.text("base_sha256", max_length=64),
        reload=params.boolean("reload"),
    )


def ports_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    current = read_config_text(ctx.config_path)
    return {
        "path": str(current.path),
        "sha256": current.sha256,
        "listeners": [
            {
                "name": p.name,
                "port": p.port,
                "addr": p.addr,
                "family": p.family,
                "listen": p.listen,
                "modifiers": "".join(c for c in DAEMON_MODIFIERS if c in p.modifiers),
                "text": format_daemon_port(p),
            }
            for p in config.daemon_ports
        ],
        "warnings": listener_warnings(config.daemon_ports),
        "keys": PORT_KEYS,
        "modifiers": DAEMON_MODIFIER_HELP,
    }


def _listener_text(item: object, index: int) -> str:
    """One listener as a DaemonPortOptions string, from a string or an object."""
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        raise bad(f"ports.set: listener {index} must be a string or an object", index=index)
    unknown = set(item) - _LISTENER_FIELDS
    if unknown:
        raise bad(
            f"ports.set: listener {index}: unknown field {sorted(unknown)[0]!r}; "
            f"fields are {', '.join(sorted(_LISTENER_FIELDS))}",
            index=index,
        )
    parts = []
    for key, label in (("name", "Name"), ("port", "Port"), ("addr", "Addr"),
                       ("family", "Family"), ("listen", "Listen"), ("modifiers", "M")):  # fmt: skip
        value = item.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad(f"ports.set: listener {index}: {key} must be text or a number", index=index)
        text = str(value)
        if any(c in text for c in ",=") or not text.isprintable():
            raise bad(f"ports.set: listener {index}: {key} {text!r} is not valid", index=index)
        parts.append(f"{label}={text}")
    return ", ".join(parts)


def ports_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    raw = params.raw.get("listeners")
    if not isinstance(raw, list) or not raw:
        raise bad("ports.set: listeners must be a non-empty list")
    if len(raw) > MAX_LISTENERS:
        raise bad(f"ports.set: at most {MAX_LISTENERS} listeners")
    texts = []
    for index, item in enumerate(raw):
        text = _listener_text(item, index)
        try:
            parse_daemon_port_options(text, index)
        except PolicyError as exc:
            raise bad(f"ports.set: listener {index} ({text!r}): {exc}", index=index) from None
        texts.append(text)
    return apply_edit(
        ctx,
        {"DaemonPortOptions": texts},
        dry_run=params.boolean("dry_run"),
        base_sha256=params.text("base_sha256", max_length=64),
        reload=params.boolean("reload"),
    )
