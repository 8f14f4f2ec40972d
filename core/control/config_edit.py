"""Editing the configuration text with tomlkit, so comments, order and layout survive.

``normalize_changes`` checks a ``{"Option": value}`` mapping from the wire: option names
are matched without regard to case (an unknown one is ``bad_params`` with a
did-you-mean), values must be what a TOML file could say for an option (text, whole
numbers, numbers, true/false, or a list of text), ``null`` removes the option so its
default applies, and no text may hold a control character.  ``apply_changes`` edits the
parsed document in place: a replaced value keeps its line, its trailing comment and,
for a list written one item per line, that layout; ``Timeout.*`` options are edited
where they are (dotted keys or a ``[Timeout]`` table) or added as dotted keys.
``unified_diff`` shows the change.  Whether the result is a valid configuration is
decided by the real loader (:mod:`.config_store`), not here.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.items import Array, Item

from ..config.loader import suggest
from ..config.options import OPTIONS
from .params import bad, control_char

MAX_CHANGES = 100
MAX_LIST = 1000
MAX_TEXT = 4096
_BY_LOWER = {name.lower(): name for name in OPTIONS}


def option_name(name: str) -> str:
    """The canonical spelling of option ``name``; ``bad_params`` if there is none."""
    canonical = _BY_LOWER.get(name.lower())
    if canonical is None:
        shown = name if control_char(name) is None else repr(name)
        raise bad(f"unknown option {shown[:80]}{suggest(name)}", option=name[:80])
    return canonical


def _check_value(option: str, value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**63:
            raise bad(f"{option}: {value} is too large", option=option)
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise bad(f"{option}: not a finite number", option=option)
        return value
    if isinstance(value, str):
        return _check_text(option, value)
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise bad(f"{option}: more than {MAX_LIST} items", option=option)
        if not all(isinstance(item, str) for item in value):
            raise bad(f"{option}: a list may hold only text", option=option)
        return [_check_text(option, item) for item in value]
    raise bad(
        f"{option}: {type(value).__name__} is not a value a config file can hold; "
        "use text, a number, true/false or a list of text",
        option=option,
    )


def _check_text(option: str, text: str) -> str:
    if len(text) > MAX_TEXT:
        raise bad(f"{option}: the value is longer than {MAX_TEXT} characters", option=option)
    ch = control_char(text)
    if ch is not None:
        raise bad(
            f"{option}: the value contains a control character (U+{ord(ch):04X}); "
            "configuration values must not contain control characters",
            option=option,
        )
    return text


def normalize_changes(changes: object) -> dict[str, object]:
    """``{"Option": value or None}`` with canonical names and checked values."""
    if not isinstance(changes, dict) or not changes:
        raise bad('changes must be a non-empty object such as {"LogLevel": 12}')
    if len(changes) > MAX_CHANGES:
        raise bad(f"at most {MAX_CHANGES} options can be changed at once")
    result: dict[str, object] = {}
    for name, value in changes.items():
        canonical = option_name(str(name))
        if canonical in result:
            raise bad(f"{canonical} is given twice (names are matched without case)")
        result[canonical] = _check_value(canonical, value)
    return result


def _item(value: object, old: Item | None) -> Item:
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(value)
        multiline = "\n" in old.as_string() if isinstance(old, Array) else len(value) > 1
        array.multiline(multiline)
        return array
    return tomlkit.item(value)


def apply_changes(text: str, changes: Mapping[str, object]) -> str:
    """``text`` with ``changes`` applied (``None`` removes an option)."""
    doc = tomlkit.parse(text)
    for name, value in changes.items():
        table, _, sub = name.partition(".") if name.startswith("Timeout.") else ("", "", "")
        if table:
            _set_timeout(doc, sub, value)
        elif value is None:
            if name in doc:
                del doc[name]
        else:
            old = doc.get(name)
            doc[name] = _item(value, old if isinstance(old, Item) else None)
    return tomlkit.dumps(doc)


def _set_timeout(doc: tomlkit.TOMLDocument, sub: str, value: object) -> None:
    container: Any = doc.get("Timeout")
    if value is None:
        if container is not None and sub in container:
            del container[sub]
            if not container:
                del doc["Timeout"]
        return
    if container is None:
        doc.add(tomlkit.key(["Timeout", sub]), _item(value, None))
        return
    old = container.get(sub)
    container[sub] = _item(value, old if isinstance(old, Item) else None)


def unified_diff(old: str, new: str, name: str) -> str:
    """The change as a unified diff (empty when nothing changes)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"{name} (in force)",
            f"{name} (proposed)",
        )
    )
