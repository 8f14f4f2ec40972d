"""Sendmail-style durations: ``30m``, ``5d``, ``1h30m``, or a bare number.

Owns parsing (to seconds, as a float) and formatting (the shortest exact form).  As in
Sendmail's convtime(), units are ``w d h m s``, several may be combined, and a number
without a unit takes the option's default unit (minutes for most timeouts, days for
Timeout.queuereturn, hours for Timeout.queuewarn).
"""

from __future__ import annotations

import re

from .errors import BadValue

UNITS: dict[str, int] = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,9})([wdhms]?)")


def parse_duration(value: object, default_unit: str = "m") -> float:
    """Seconds for ``value`` (a duration string or a whole number in ``default_unit``)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadValue(f'expected a duration such as "30m", "4h" or "5d", not {value!r}')
    if isinstance(value, int):
        if value < 0:
            raise BadValue(f"a duration cannot be negative ({value})")
        return float(value * UNITS[default_unit])
    text = value.strip().lower()
    total = 0
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            break
        total += int(match.group(1)) * UNITS[match.group(2) or default_unit]
        pos = match.end()
    if not text or pos != len(text):
        raise BadValue(
            f'"{value}" is not a duration: use a number with a unit w, d, h, m or s, '
            'such as "30m", "4h", "1h30m" or "5d"'
        )
    return float(total)


def format_duration(seconds: float) -> str:
    """The shortest exact text for ``seconds``: ``5d``, ``1h30m``, ``45s``, ``0s``."""
    rest = int(seconds)
    if rest <= 0:
        return "0s"
    parts: list[str] = []
    for unit, size in UNITS.items():
        if unit == "w":
            continue  # Sendmail's own output never uses weeks
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)
