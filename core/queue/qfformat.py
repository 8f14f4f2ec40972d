"""Writing a :class:`QueueFile` as bytes, in Sendmail 8.17's ``queueup`` order.

Order: ``V T K N P``, optional ``d I B q M F``, the ``$`` macro lines,
``S``, optional ``Z A !``; per recipient optional ``M``, a ``C`` line when the
controlling user changes (a bare ``C`` when it ends), optional ``Q r``, then
``R``; all ``H`` lines; the final ``.``.

The writer refuses (``ValueError``) anything that would put CR, LF or NUL
into a generated line -- the only newline it ever writes inside a field is
the folded-header form ``"\\n"`` followed by a space or tab in a header
value -- and anything Sendmail's reader would reject (a ``B`` other than
7BIT/8BITMIME, an ``A`` that is not xtext, a ``F`` line starting ``rom ``,
an unusable macro or header name).
"""

from __future__ import annotations

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


def format_qf(qf: QueueFile) -> bytes:
    """Serialise ``qf``; ``parse_qf(format_qf(q)) == q`` for every valid ``q``."""
    if not 0 <= qf.version <= QF_VERSION:
        raise ValueError(f"cannot write queue file version {qf.version}")
    lines: list[str] = []
    if qf.version > 0:
        lines.append(f"V{qf.version}")
    lines += [f"T{qf.ctime:d}", f"K{qf.last_attempt:d}", f"N{qf.attempts:d}"]
    lines.append(f"P{qf.priority:d}")
    _optional(lines, "d", qf.df_dir, "df_dir")
    _optional(lines, "I", qf.inode, "inode")
    if qf.body_type is not None and not valid_body_type(qf.body_type):
        raise ValueError(f"body type must be 7BIT or 8BITMIME, not {qf.body_type!r}")
    _optional(lines, "B", qf.body_type, "body_type")
    _optional(lines, "q", qf.quarantine, "quarantine")
    _optional(lines, "M", qf.status, "status")
    if qf.flags:
        if qf.flags.startswith("rom "):
            raise ValueError("flags must not start with 'rom ' (an 'F' line 'From ')")
        lines.append("F" + _field(qf.flags, "flags"))
    for name, value in qf.macros:
        if not valid_macro_name(name):
            raise ValueError(f"invalid macro name {name!r}")
        lines.append("$" + name + _field(value, f"macro {name}"))
    lines.append("S" + _field(qf.sender, "sender"))
    _optional(lines, "Z", qf.envid, "envid")
    if qf.auth is not None and not valid_xtext(qf.auth):
        raise ValueError(f"auth must be xtext: {qf.auth!r}")
    _optional(lines, "A", qf.auth, "auth")
    _optional(lines, "!", qf.deliver_by, "deliver_by")
    _recipients(lines, qf.recipients, qf.version)
    for header in qf.headers:
        lines.append(_header_line(header))
    lines.append(".")
    text = "\n".join(lines) + "\n"
    try:
        return text.encode(ENCODING, ERRORS)
    except UnicodeEncodeError as exc:
        raise ValueError(f"queue file text cannot be encoded: {exc}") from exc


def _field(value: str, what: str) -> str:
    for bad, name in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        if bad in value:
            raise ValueError(f"{what} contains {name}: {value!r}")
    return value


def _optional(lines: list[str], code: str, value: str | None, what: str) -> None:
    if value is not None:
        lines.append(code + _field(value, what))


def _recipients(lines: list[str], recipients: tuple[QueueRecipient, ...], version: int) -> None:
    current: str | None = None
    for rcpt in recipients:
        _optional(lines, "M", rcpt.status, "recipient status")
        cu = rcpt.controlling_user
        if cu != current:
            if cu is None:
                lines.append("C")
            elif cu == "":
                raise ValueError("controlling_user must not be empty (use None)")
            else:
                lines.append("C" + _field(cu, "controlling_user"))
            current = cu
        _optional(lines, "Q", rcpt.orcpt, "orcpt")
        _optional(lines, "r", rcpt.final_recipient, "final_recipient")
        address = _field(rcpt.address, "recipient address")
        if version == 0:
            if rcpt.flags:
                raise ValueError("version 0 queue files have no recipient flags")
            lines.append("R" + address)
        else:
            if not rcpt.flags.isascii() or not (rcpt.flags == "" or rcpt.flags.isalpha()):
                raise ValueError(f"recipient flags must be letters: {rcpt.flags!r}")
            lines.append("R" + rcpt.flags + ":" + address)


def _header_line(header: Header) -> str:
    name = header.name
    if not name or any(not ("!" <= c <= "~") or c == ":" for c in name):
        raise ValueError(f"invalid header name {name!r}")
    cond = _field(header.condition, "header condition")
    if "?" in cond:
        raise ValueError(f"header condition must not contain '?': {cond!r}")
    value = header.value
    for bad, what in (("\r", "CR"), ("\0", "NUL")):
        if bad in value:
            raise ValueError(f"header {name} contains {what}")
    for i, c in enumerate(value):
        if c == "\n" and value[i + 1 : i + 2] not in (" ", "\t"):
            raise ValueError(f"header {name} has a newline not followed by space or tab")
    return "H?" + cond + "?" + name + ":" + (" " if header.space else "") + value
