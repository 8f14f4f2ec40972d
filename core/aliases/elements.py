"""The right side of an alias (and each line of ``:include:`` and ``.forward`` files).

:func:`split_list` cuts a list at the commas that are outside quotes, angle
brackets and parenthesised comments (Sendmail's ``sendtolist`` with ``,`` as
delimiter) and raises :class:`ElementSyntaxError` with Sendmail's text
(``Unbalanced '"'``, ``Unbalanced '<'`` ...) when they do not pair up.
:func:`parse_element` turns one piece into an :class:`Element`:

=========================  ===========  =====================================
written                    kind         value
=========================  ===========  =====================================
``alice``                  LOCAL        ``alice`` (aliases and .forward apply)
``\\alice``                LOCAL        ``alice``, ``quoted``: no alias, no .forward
``alice@<local domain>``   LOCAL        ``alice``
``bob@example.org``        REMOTE       ``bob@example.org``
``Bob <bob@example.org>``  REMOTE       the angle address; comments are dropped
``/var/log/list``          FILE         the path
``"|/usr/bin/prog a b"``   PROGRAM      ``|/usr/bin/prog a b`` (also ``|prog``,
                                        ``|"prog a b"``)
``:include:/etc/list``     INCLUDE      the path
=========================  ===========  =====================================

``shown`` keeps the element as written (trimmed): that is what Sendmail
prints in ``-bv`` output and transcripts.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

WHITESPACE = " \t"


class Kind(enum.Enum):
    """Where an element leads; the value is Sendmail's mailer name."""

    LOCAL = "local"
    REMOTE = "esmtp"
    FILE = "*file*"
    PROGRAM = "prog"
    INCLUDE = "*include*"


@dataclass(frozen=True)
class Element:
    """One parsed list element."""

    kind: Kind
    value: str
    shown: str
    quoted: bool = False
    domain: str | None = None


class ElementSyntaxError(ValueError):
    """A list or element that does not parse; the message is Sendmail's text."""


def split_list(text: str) -> list[str]:
    """The comma-separated pieces of ``text`` (trimmed, empty ones dropped)."""
    pieces: list[str] = []
    current: list[str] = []
    quote = False
    comment = 0
    angle = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if quote:
            quote = c != '"'
        elif comment:
            comment += {"(": 1, ")": -1}.get(c, 0)
        elif c == '"':
            quote = True
        elif c == "(":
            comment = 1
        elif c == ")":
            raise ElementSyntaxError("Unbalanced ')'")
        elif c == "<":
            angle += 1
        elif c == ">":
            if angle == 0:
                raise ElementSyntaxError("Unbalanced '>'")
            angle -= 1
        elif c == "," and angle == 0:
            pieces.append("".join(current))
            current = []
            i += 1
            continue
        current.append(c)
        i += 1
    if quote:
        raise ElementSyntaxError("Unbalanced '\"'")
    if comment:
        raise ElementSyntaxError("Unbalanced '('")
    if angle:
        raise ElementSyntaxError("Unbalanced '<'")
    pieces.append("".join(current))
    return [p.strip(WHITESPACE) for p in pieces if p.strip(WHITESPACE)]


def _strip_comments(text: str) -> str:
    out: list[str] = []
    quote = False
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            if not depth:
                out.append(text[i : i + 2])
            i += 2
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(c, 0)
        elif quote:
            quote = c != '"'
            out.append(c)
        elif c == "(":
            depth = 1
        else:
            quote = c == '"'
            out.append(c)
        i += 1
    return "".join(out).strip(WHITESPACE)


def _angle_address(text: str) -> str:
    """The inside of the first top-level ``<...>``, or ``text`` itself."""
    quote = False
    start = -1
    for i, c in enumerate(text):
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            quote = not quote
        elif not quote and c == "<" and start < 0:
            start = i
        elif not quote and c == ">" and start >= 0:
            return text[start + 1 : i].strip(WHITESPACE)
    return text


def unquote(text: str) -> str:
    """``"a \\"b\\""`` -> ``a "b"``; text that is not one quoted string is unchanged."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        body = text[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                out.append(body[i + 1])
                i += 2
                continue
            out.append(body[i])
            i += 1
        return "".join(out)
    return text


def _last_at(text: str) -> int:
    quote = False
    found = -1
    for i, c in enumerate(text):
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            quote = not quote
        elif c == "@" and not quote:
            found = i
    return found


def parse_element(raw: str, local_domains: Iterable[str] = ()) -> Element:
    """Classify one list element (see the module table)."""
    shown = raw.strip(WHITESPACE)
    text = _angle_address(_strip_comments(shown))
    inner = unquote(text)
    if inner != text and (inner[:1] in ("|", "/") or inner.lower().startswith(":include:")):
        text = inner
    if text.startswith("|"):
        return Element(Kind.PROGRAM, "|" + unquote(text[1:].strip(WHITESPACE)), shown)
    if text.startswith("/"):
        return Element(Kind.FILE, text, shown)
    if text.lower().startswith(":include:"):
        path = unquote(text[len(":include:") :].strip(WHITESPACE))
        return Element(Kind.INCLUDE, path, shown)
    quoted = text.startswith("\\")
    if quoted:
        text = text[1:]
    at = _last_at(text)
    if at < 0:
        return Element(Kind.LOCAL, unquote(text), shown, quoted)
    local, domain = text[:at], text[at + 1 :].strip(WHITESPACE)
    key = domain.lower().rstrip(".")
    if key in {d.lower().rstrip(".") for d in local_domains}:
        return Element(Kind.LOCAL, unquote(local), shown, quoted, key)
    return Element(Kind.REMOTE, f"{local}@{domain}", shown, quoted, key)


def parse_list(text: str, local_domains: Iterable[str] = ()) -> list[Element]:
    """Every element of a list; :class:`ElementSyntaxError` when it does not split."""
    domains = tuple(local_domains)
    return [parse_element(piece, domains) for piece in split_list(text)]
