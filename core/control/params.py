"""Checking a request's params: typed getters that answer ``bad_params`` with the reason.

A method declares the names it accepts; :func:`check_names` refuses any other.  Each
getter (``text``, ``integer``, ``boolean``, ``choice``, ``strings``, ``queue_ids``) reads
one param, applies its default, and raises :class:`RpcError` ``bad_params`` naming the
param, what it got and what it wants.  Text is refused when it holds control characters,
so nothing from the wire reaches a file, a log line or a header unchecked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..queue.errors import InvalidQueueIdError
from ..queue.qid import check_qid
from .protocol import BAD_PARAMS, RpcError

MAX_TEXT = 4096
MAX_IDS = 100_000


def bad(message: str, **data: Any) -> RpcError:
    return RpcError(BAD_PARAMS, message, data or None)


def control_char(text: str) -> str | None:
    """The first control character in ``text`` (C0, DEL or C1), or None."""
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            return ch
    return None


def check_names(params: Mapping[str, Any], allowed: Collection[str], method: str) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise bad(f"{method}: unknown parameter {unknown[0]!r}; it takes: {known}")


class Params:
    """The params object of one request."""

    def __init__(self, raw: Mapping[str, Any], method: str) -> None:
        self.raw = raw
        self.method = method

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def _get(self, name: str, required: bool) -> Any:
        value = self.raw.get(name)
        if value is None and required:
            raise bad(f"{self.method}: parameter {name!r} is required", param=name)
        return value

    def text(
        self,
        name: str,
        default: str | None = None,
        *,
        required: bool = False,
        max_length: int = MAX_TEXT,
        allow_empty: bool = True,
    ) -> str | None:
        value = self._get(name, required)
        if value is None:
            return default
        return check_text(value, f"{self.method}: {name}", max_length, allow_empty)

    def integer(
        self, name: str, default: int | None = None, *, low: int, high: int, required: bool = False
    ) -> int | None:
        value = self._get(name, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(f"{self.method}: {name} must be a whole number, not {value!r:.40}")
        if not low <= value <= high:
            raise bad(f"{self.method}: {name} must be from {low} to {high}, not {value}")
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(f"{self.method}: {name} must be a number, not {value!r:.40}")
        if not low <= value <= high:
            raise bad(f"{self.method}: {name} must be from {low:g} to {high:g}, not {value:g}")
        return float(value)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise bad(f"{self.method}: {name} must be true or false, not {value!r:.40}")
        return value

    def choice(self, name: str, choices: Iterable[str], default: str) -> str:
        options = tuple(choices)
        value = self.raw.get(name)
        if value is None:
            return default
        if value not in options:
            raise bad(
                f"{self.method}: {name} must be one of {', '.join(options)}, not {value!r:.40}"
            )
        return str(value)

    def strings(
        self,
        name: str,
        *,
        required: bool = False,
        max_items: int = 1000,
        max_length: int = MAX_TEXT,
        choices: Collection[str] | None = None,
    ) -> list[str] | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, list):
            raise bad(f"{self.method}: {name} must be a list of strings, not {value!r:.40}")
        if len(value) > max_items:
            raise bad(f"{self.method}: {name} has {len(value)} items; at most {max_items}")
        items = [check_text(v, f"{self.method}: {name}", max_length, False) for v in value]
        if choices is not None:
            for item in items:
                if item not in choices:
                    raise bad(
                        f"{self.method}: {name}: {item!r} is not one of "
                        + ", ".join(sorted(choices))
                    )
        return items

    def queue_ids(self) -> list[str]:
        """``ids`` (a list) or ``id`` (one), each a well-formed queue id, no repeats."""
        if self.has("id") and self.has("ids"):
            raise bad(f"{self.method}: give either id or ids, not both")
        if self.has("id"):
            ids = [self.text("id", required=True, max_length=32) or ""]
        else:
            ids = self.strings("ids", required=True, max_items=MAX_IDS, max_length=32) or []
        if not ids:
            raise bad(f"{self.method}: ids is empty")
        for qid in ids:
            try:
                check_qid(qid)
            except InvalidQueueIdError:
                raise bad(f"{self.method}: {qid!r} is not a queue id", id=qid) from None
        return list(dict.fromkeys(ids))


def check_text(value: object, where: str, max_length: int, allow_empty: bool) -> str:
    if not isinstance(value, str):
        raise bad(f"{where} must be a string, not {value!r:.40}")
    if len(value) > max_length:
        raise bad(f"{where} is longer than {max_length} characters")
    if not allow_empty and not value:
        raise bad(f"{where} must not be empty")
    ch = control_char(value)
    if ch is not None:
        raise bad(f"{where} contains a control character (U+{ord(ch):04X})")
    return value
