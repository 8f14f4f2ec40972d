"""Which jobs ``mailq`` lists: Sendmail's ``-q`` selection flags.

``-qI<substr>`` matches the control file's name (case-sensitive, like
Sendmail's ``strcontainedin(false, ...)`` on ``qf<id>``), ``-qR<substr>`` any
recipient address and ``-qS<substr>`` the sender (both ASCII
case-insensitive).  ``!`` after ``-q`` negates (``-q!Rexample.org``).  Several
flags of one kind are alternatives (any may match); different kinds must all
match.  ``-qQ`` lists quarantined (``hf``) jobs, ``-qQ<substr>`` only those
whose reason contains the text (case-sensitive); ``-qL`` lists lost (``Qf``)
jobs.  The last of ``-qQ``/``-qL`` wins, as in Sendmail.  Queue-run flags
(``-q``, ``-q30m``, ``-qf``, ``-qp``, ``-qG<group>``) are accepted and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import QueueSelectionError

_INTERVAL = re.compile(r"([0-9]+[smhdw]?)+")
Mode = Literal["normal", "quarantine", "lost"]
MODE_PREFIX: dict[Mode, str] = {"normal": "qf", "quarantine": "hf", "lost": "Qf"}


@dataclass(frozen=True)
class Match:
    """One substring test; ``negate`` selects jobs that do NOT contain it."""

    text: str
    negate: bool = False


@dataclass(frozen=True)
class QueueSelection:
    """The parsed ``-q`` flags of a ``mailq`` invocation."""

    mode: Mode = "normal"
    ids: tuple[Match, ...] = ()
    recipients: tuple[Match, ...] = ()
    senders: tuple[Match, ...] = ()
    reasons: tuple[Match, ...] = ()


def parse_selection(args: Sequence[str]) -> QueueSelection:
    """Parse flags like ``["-qIabc", "-q!Rfoo", "-qQ"]``; raises QueueSelectionError."""
    mode: Mode = "normal"
    found: dict[str, list[Match]] = {"I": [], "R": [], "S": [], "Q": []}
    for arg in args:
        if arg == "-q":
            continue
        if not arg.startswith("-q"):
            raise QueueSelectionError(f"not a queue selection flag: {arg!r}")
        body = arg[2:]
        negate = body.startswith("!")
        if negate:
            body = body[1:]
        kind, text = body[:1], body[1:]
        if kind in ("I", "R", "S"):
            found[kind].append(Match(text, negate))
        elif kind == "Q":
            if text:
                found["Q"].append(Match(text, negate))
            mode = "quarantine"
        elif kind == "L":
            mode = "lost"
        elif not negate and (kind in ("f", "p", "G") or _INTERVAL.fullmatch(body)):
            continue  # queue-run flags (-qf, -qp, -qG, -q30m): no effect on a listing
        else:
            raise QueueSelectionError(f"unknown queue selection flag: {arg!r}")
    return QueueSelection(
        mode=mode,
        ids=tuple(found["I"]),
        recipients=tuple(found["R"]),
        senders=tuple(found["S"]),
        reasons=tuple(found["Q"]),
    )


def contains(pattern: bytes, text: bytes, *, ignore_case: bool) -> bool:
    """Sendmail's strcontainedin: substring test, ASCII case folding if asked."""
    if ignore_case:
        return pattern.lower() in text.lower()
    return pattern in text


def any_match(matches: tuple[Match, ...], text: bytes, *, ignore_case: bool) -> bool:
    """True if one of ``matches`` accepts ``text`` (the Sendmail list walk)."""
    for m in matches:
        hit = contains(m.text.encode("utf-8", "surrogateescape"), text, ignore_case=ignore_case)
        if hit != m.negate:
            return True
    return False
