"""Physical lines to logical lines, exactly as Sendmail's ``readaliases``/``contline`` join them.

:func:`logical_lines` takes the raw bytes of an aliases file and yields
:class:`LogicalLine` objects.  Joining follows Sendmail 8.17 (SENDMAIL.md 7.1):

- a backslash just before the newline: both are removed and the next physical
  line is appended whatever it starts with;
- a following line that starts with a space or a tab: only the newline is
  removed, the leading white space is kept (``alice,\\n\\tbob`` -> ``alice,\\tbob``).

A logical line reports the number of its *last* physical line, as Sendmail's
``LineNumber`` does.  :func:`byte_problems` checks each physical line for what
Postroom refuses although Sendmail would store it (BAD-INPUTS 47): a carriage
return, a NUL, other control characters and invalid UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .errors import Problem

MAX_LOGICAL_LINE = 8192
"""Sendmail reads an alias entry into a ``BUFSIZ`` buffer (8192 on glibc)."""

_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A} | {0x7F}


@dataclass(frozen=True)
class LogicalLine:
    """One joined line: its text (no newline), first and last physical line numbers."""

    text: str
    first: int
    last: int


def split_physical(data: bytes) -> list[tuple[bytes, bool]]:
    """``(line, ended_by_newline)`` pairs; a final newline does not start an empty line."""
    parts = data.split(b"\n")
    out = [(p, True) for p in parts[:-1]]
    if parts[-1]:
        out.append((parts[-1], False))
    return out


def byte_problems(data: bytes) -> list[Problem]:
    """CR, NUL, other control characters and invalid UTF-8, one problem per physical line."""
    problems: list[Problem] = []
    for number, (raw, _nl) in enumerate(split_physical(data), start=1):
        text = line_problem(raw)
        if text is not None:
            problems.append(Problem(number, text))
    return problems


def line_problem(raw: bytes) -> str | None:
    """Why one physical line is refused, or None."""
    if b"\r" in raw:
        return "carriage return (CR) in line; the file must use LF line ends only"
    if b"\0" in raw:
        return "NUL byte in line"
    bad = next((b for b in raw if b in _CONTROL), None)
    if bad is not None:
        return f"control character 0x{bad:02x} in line"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start + 1} of the line"
    return None


def logical_lines(data: bytes) -> Iterator[LogicalLine]:
    """Join physical lines with Sendmail's two continuation rules.

    Bytes that are not UTF-8 are replaced (U+FFFD): callers refuse such files
    through :func:`byte_problems` but may still parse them to find more problems.
    """
    physical = split_physical(data)
    count = len(physical)
    i = 0
    while i < count:
        start = i
        buf, newline = physical[i]
        i += 1
        while True:
            if newline and buf.endswith(b"\\"):
                buf = buf[:-1]
                if i >= count:
                    break
                more, newline = physical[i]
                buf += more
                i += 1
                continue
            if i < count and physical[i][0][:1] in (b" ", b"\t"):
                more, newline = physical[i]
                buf += more
                i += 1
                continue
            break
        yield LogicalLine(buf.decode("utf-8", "replace"), start + 1, i)
