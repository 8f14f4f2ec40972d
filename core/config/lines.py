"""Where each option sits in the config text, for error messages and the GUI.

Owns a light scan of the TOML text (not a second parser): ``find_lines`` maps each key
to the line where it is assigned, understanding ``Key = ...``, quoted keys, dotted keys
(``Timeout.command = ...``) and tables (``[Timeout]`` then ``command = ...``);
``element_lines`` finds the lines of a list's elements, so an error in the third
DaemonPortOptions string points at that string's line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PART = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_KEY = re.compile(rf"\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_TABLE = re.compile(rf"\s*\[\s*({_PART}(?:\s*\.\s*{_PART})*)\s*\]")
_SPLIT = re.compile(rf"{_PART}")


def _lines(text: str) -> list[str]:
    """The file's lines as TOML counts them: only LF ends a line (``str.splitlines`` would
    also break at U+0085, U+2028, form feeds..., which may sit inside a string value)."""
    return text.split("\n")


def _join(dotted: str) -> str:
    return ".".join(p.strip("\"'") for p in _SPLIT.findall(dotted))


def find_lines(text: str) -> dict[str, int]:
    """Full dotted key -> first line (1-based) that assigns it."""
    return _scan(text)[0]


def first_repeat(text: str) -> tuple[str, int] | None:
    """The first key assigned a second time, and that line (tomllib reports no line)."""
    repeats = _scan(text)[1]
    return repeats[0] if repeats else None


def _scan(text: str) -> tuple[dict[str, int], list[tuple[str, int]]]:
    lines: dict[str, int] = {}
    repeats: list[tuple[str, int]] = []
    table = ""
    for number, line in enumerate(_lines(text), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            match = _TABLE.match(line)
            table = _join(match.group(1)) if match and not stripped.startswith("[[") else ""
            if table:
                lines.setdefault(table, number)
            continue
        match = _KEY.match(line)
        if match:
            key = _join(match.group(1))
            full = f"{table}.{key}" if table else key
            if full in lines:
                repeats.append((full, number))
            lines.setdefault(full, number)
    return lines, repeats


def element_lines(text: str, start: int, values: Sequence[str]) -> list[int]:
    """The line of each string in ``values``, searching forward from line ``start``.

    A value that cannot be found (escapes, odd layout) gets the line of the previous one.
    """
    all_lines = _lines(text)
    result: list[int] = []
    line, column = max(start, 1), 0
    for value in values:
        for number in range(line, len(all_lines) + 1):
            at = all_lines[number - 1].find(value, column if number == line else 0)
            if value and at >= 0:
                line, column = number, at + len(value)
                break
        result.append(line)
    return result
