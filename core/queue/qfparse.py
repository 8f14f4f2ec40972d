"""Reading a qf/hf/Qf control file into a :class:`QueueFile`, like Sendmail's ``readqf``.

Rules kept from Sendmail: ``V`` must be the first line (no ``V`` means
version 0) and a version newer than 8 is refused; an unknown code letter is
"unrecognized line"; the file must end with a line holding only ``.`` and
anything after it is an error; an ``F`` line starting with ``From `` is an
error; obsolete ``E``/``D``/``L`` lines are ignored; a line starting with a
space or tab continues the previous line, joined with ``"\\n"``; a bare ``C``
ends the controlling-user scope.

Where Sendmail would silently drop or guess (a garbled number, a duplicate
envelope line, a ``Q``/``r``/``M`` line with no ``R`` after it, a header
without a colon, a continuation of a non-header line) this reader refuses the
file instead, so nothing is lost by rewriting it: a refused file is renamed
aside, never "repaired".  Every error is a :class:`QueueFileError` naming the
file, the line number and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import QueueFileError
from .qfmodel import (
    ENCODING,
    ERRORS,
    QF_VERSION,
    Header,
    QueueFile,
    QueueRecipient,
    valid_body_type,
    valid_macro_name,
    valid_xtext,
)

_NUMBER = re.compile(r"[+-]?[0-9]+")
_SINGLE = {"T": "ctime", "K": "last_attempt", "N": "attempts", "P": "priority"}
_TEXT = {
    "d": "df_dir",
    "I": "inode",
    "B": "body_type",
    "q": "quarantine",
    "F": "flags",
    "S": "sender",
    "Z": "envid",
    "A": "auth",
    "!": "deliver_by",
}


@dataclass
class _Pending:
    """Recipient qualifiers read but not yet attached to an ``R`` line."""

    status: tuple[int, str] | None = None
    orcpt: tuple[int, str] | None = None
    final: tuple[int, str] | None = None
    controlling: str | None = None


@dataclass
class _State:
    path: str
    version: int = 0
    fields: dict[str, object] = field(default_factory=dict)
    macros: list[tuple[str, str]] = field(default_factory=list)
    recipients: list[QueueRecipient] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    pending: _Pending = field(default_factory=_Pending)

    def fail(self, line: int, reason: str) -> QueueFileError:
        return QueueFileError(self.path, line, reason)


_BAD_BYTES = (
    (b"\0", "NUL byte in queue file"),
    (b"\r", "CR inside a line (queue file lines end with LF alone)"),  # the writer never puts one
)


def parse_qf(data: bytes, path: str = "<qf>") -> QueueFile:
    """Parse control-file bytes; raises :class:`QueueFileError` (path, line, reason)."""
    if not data:
        raise QueueFileError(path, 0, "empty queue file")
    for byte, reason in _BAD_BYTES:
        if byte in data:
            line = data[: data.index(byte)].count(b"\n") + 1
            raise QueueFileError(path, line, reason)
    raw = data.decode(ENCODING, ERRORS).split("\n")
    if raw[-1] == "":
        raw.pop()
    state = _State(path)
    finished = False
    i = 0
    while i < len(raw):
        lineno = i + 1
        text = raw[i]
        i += 1
        while i < len(raw) and raw[i][:1] in (" ", "\t"):
            if text[:1] != "H":
                raise state.fail(i + 1, "continuation line after a non-header line")
            text += "\n" + raw[i]
            i += 1
        if finished:
            raise state.fail(lineno, "extra data after the final '.'")
        if text == ".":
            finished = True
            continue
        _line(state, lineno, text)
    if not finished:
        raise QueueFileError(path, len(raw), "incomplete queue file (no final '.' line)")
    return _build(state, len(raw))


def _line(state: _State, lineno: int, text: str) -> None:
    code, rest = text[:1], text[1:]
    pending = state.pending
    if code == "V":
        if lineno != 1:
            raise state.fail(lineno, "V line is not the first line")
        if not _NUMBER.fullmatch(rest) or not 0 <= int(rest) <= QF_VERSION:
            raise state.fail(lineno, f"unsupported queue file version {rest!r}")
        state.version = int(rest)
    elif code in _SINGLE:
        if not _NUMBER.fullmatch(rest):
            raise state.fail(lineno, f"bad number in {code} line: {rest!r}")
        _set(state, lineno, _SINGLE[code], int(rest))
    elif code in _TEXT:
        _text_line(state, lineno, code, rest)
    elif code == "M":
        if pending.status is not None:
            _flush_status(state, pending.status)
        pending.status = (lineno, rest)
    elif code == "Q":
        if pending.orcpt is not None:
            raise state.fail(lineno, "second Q line before an R line")
        pending.orcpt = (lineno, rest)
    elif code == "r":
        if pending.final is not None:
            raise state.fail(lineno, "second r line before an R line")
        pending.final = (lineno, rest)
    elif code == "C":
        pending.controlling = rest or None
    elif code == "R":
        _recipient(state, lineno, rest)
    elif code == "$":
        _macro(state, lineno, rest)
    elif code == "H":
        state.headers.append(_header(state, lineno, rest))
    elif code in ("E", "D", "L"):
        pass  # obsolete: error recipient, data file name, Solaris Content-Length
    else:
        raise state.fail(lineno, f"unrecognized line {text[:40]!r}")
    if code not in ("M", "Q", "r", "C", "R") and pending.status is not None:
        _flush_status(state, pending.status)
        pending.status = None


def _set(state: _State, lineno: int, name: str, value: object) -> None:
    if name in state.fields:
        raise state.fail(lineno, f"duplicate {name} line")
    state.fields[name] = value


def _text_line(state: _State, lineno: int, code: str, rest: str) -> None:
    if code == "F" and rest.startswith("rom "):
        raise state.fail(lineno, "bogus queue line 'From ' (spoofing attempt)")
    if code == "B" and not valid_body_type(rest):
        raise state.fail(lineno, f"invalid body type {rest!r}")
    if code == "A" and not valid_xtext(rest):
        raise state.fail(lineno, "bogus queue line: AUTH parameter is not xtext")
    _set(state, lineno, _TEXT[code], rest)


def _flush_status(state: _State, status: tuple[int, str]) -> None:
    """An ``M`` line not followed by its recipient's ``R``: the envelope status."""
    _set(state, status[0], "status", status[1])


def _recipient(state: _State, lineno: int, rest: str) -> None:
    pending = state.pending
    if state.version >= 1:
        flags, colon, address = rest.partition(":")
        if not colon:
            raise state.fail(lineno, "recipient line without ':' after the flags")
        if flags and not (flags.isascii() and flags.isalpha()):
            raise state.fail(lineno, f"recipient flags must be letters, not {flags!r}")
    else:
        flags, address = "", rest
    state.recipients.append(
        QueueRecipient(
            address=address,
            flags=flags,
            orcpt=pending.orcpt[1] if pending.orcpt else None,
            final_recipient=pending.final[1] if pending.final else None,
            status=pending.status[1] if pending.status else None,
            controlling_user=pending.controlling,
        )
    )
    pending.status = pending.orcpt = pending.final = None


def _macro(state: _State, lineno: int, rest: str) -> None:
    if rest.startswith("{"):
        end = rest.find("}")
        name = rest[: end + 1] if end > 0 else ""
    else:
        name = rest[:1]
    if not valid_macro_name(name):
        raise state.fail(lineno, f"bad macro definition {rest[:40]!r}")
    state.macros.append((name, rest[len(name) :]))


def _header(state: _State, lineno: int, rest: str) -> Header:
    condition = ""
    if rest.startswith("?"):
        end = rest.find("?", 1)
        if end < 0:
            raise state.fail(lineno, "header condition without closing '?'")
        condition, rest = rest[1:end], rest[end + 1 :]
    name, colon, value = rest.partition(":")
    if not colon or not name or any(not ("!" <= c <= "~") for c in name):
        raise state.fail(lineno, f"header syntax error {rest[:40]!r}")
    space = value.startswith(" ")
    return Header(name=name, value=value[1:] if space else value, condition=condition, space=space)


def _build(state: _State, last_line: int) -> QueueFile:
    pending = state.pending
    for item, what in ((pending.orcpt, "Q"), (pending.final, "r")):
        if item is not None:
            raise state.fail(item[0], f"{what} line not followed by an R line")
    if pending.status is not None:
        _flush_status(state, pending.status)
    f = state.fields
    if "sender" not in f:
        raise state.fail(last_line, "no sender (S) line")

    def text(name: str) -> str | None:
        value = f.get(name)
        return value if isinstance(value, str) else None

    def number(name: str) -> int:
        value = f.get(name, 0)
        return value if isinstance(value, int) else 0

    return QueueFile(
        ctime=number("ctime"),
        sender=text("sender") or "",
        recipients=tuple(state.recipients),
        headers=tuple(state.headers),
        version=state.version,
        last_attempt=number("last_attempt"),
        attempts=number("attempts"),
        priority=number("priority"),
        df_dir=text("df_dir"),
        inode=text("inode"),
        body_type=text("body_type"),
        quarantine=text("quarantine"),
        status=text("status"),
        flags=text("flags") or "",
        macros=tuple(state.macros),
        envid=text("envid"),
        auth=text("auth"),
        deliver_by=text("deliver_by"),
    )
