"""Address-list files: ``:include:`` files and ``.forward`` files (Sendmail's ``include()``).

Each line is a list in alias right-side syntax (:mod:`.elements`); empty lines
and lines starting with ``#`` are skipped; lines are not continued.  A CR at
the end of a line is tolerated (files edited elsewhere); any other control
character, a NUL or invalid UTF-8 makes that line an error, as does a list that
does not split.  :func:`parse_list_file` never raises: bad lines come back
with their ``error`` text so the caller can bounce them with the line number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .elements import WHITESPACE, Element, ElementSyntaxError, parse_list
from .lines import line_problem, split_physical


@dataclass(frozen=True)
class ListLine:
    """One meaningful line: its number and its elements, or the error that refused it."""

    number: int
    text: str
    elements: tuple[Element, ...] = ()
    error: str | None = None


def parse_list_file(data: bytes, local_domains: Iterable[str] = ()) -> list[ListLine]:
    """The non-empty, non-comment lines of an address-list file, parsed."""
    domains = tuple(local_domains)
    out: list[ListLine] = []
    for number, (raw, _nl) in enumerate(split_physical(data), start=1):
        raw = raw.removesuffix(b"\r")
        text = raw.decode("utf-8", "replace").strip(WHITESPACE)
        if not text or text.startswith("#"):
            continue
        why = line_problem(raw)
        if why is not None:
            out.append(ListLine(number, text, error=why))
            continue
        try:
            out.append(ListLine(number, text, tuple(parse_list(text, domains))))
        except ElementSyntaxError as exc:
            out.append(ListLine(number, text, error=f"{text}... {exc}"))
    return out
