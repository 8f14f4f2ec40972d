"""SMTP command-line parsing: verbs, MAIL/RCPT paths and their ESMTP parameters.

Everything here is pure: bytes in, a parsed value or a ``SyntaxReply`` out. A
``SyntaxReply`` carries the exact reply line the session sends, so the rules
for what is malformed (RFC 5321 §4.5.3.1 limits, NUL and control characters,
8-bit without SMTPUTF8, xtext in ENVID/ORCPT) live in one place and can be
property-tested without a socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_LOCAL_PART = 64
MAX_DOMAIN = 255
MAX_PATH = 256
MAX_ENVID = 100
MAX_ORCPT = 500


class SyntaxReply(Exception):
    """A command is malformed; ``reply`` is the full SMTP reply line to send."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Command:
    """One command line: upper-cased verb and the raw argument text (may be empty)."""

    verb: str
    arg: str


@dataclass(frozen=True)
class Path:
    """A MAIL or RCPT path: the address (no angle brackets) and its parameters."""

    address: str
    params: dict[str, str | None] = field(default_factory=dict)


def parse_command(line: bytes) -> Command:
    """Split a command line into verb and argument.

    The line is decoded as UTF-8 with surrogate escapes so that 8-bit octets
    survive to the address checks, which decide what they mean.
    """
    text = line.decode("utf-8", "surrogateescape")
    verb, _, arg = text.strip(" ").partition(" ")
    return Command(verb.upper(), arg.strip(" "))


_PARAM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _has_8bit(text: str) -> bool:
    return any(ord(c) > 127 for c in text)


def parse_path(arg: str, keyword: str, *, smtputf8_allowed: bool) -> Path:
    """Parse ``FROM:<addr> PARAMS`` or ``TO:<addr> PARAMS``.

    ``keyword`` is ``"FROM"`` or ``"TO"``. The address keeps any quoting as
    written; a source route before ``:`` is kept too (relay policy decides).
    Raises ``SyntaxReply`` for anything malformed.
    """
    head, sep, rest = arg.partition(":")
    if not sep or head.strip().upper() != keyword:
        raise SyntaxReply(f'501 5.5.2 Syntax error in parameters scanning "{keyword}"')
    rest = rest.lstrip(" ")
    if rest.startswith("<"):
        end = _closing_bracket(rest)
        if end < 0:
            raise SyntaxReply("501 5.5.2 Unbalanced '<'")
        address = rest[1:end]
        tail = rest[end + 1 :]
        if tail and not tail.startswith(" "):
            raise SyntaxReply("501 5.5.2 Syntax error after address")
    else:
        address, _, tail = rest.partition(" ")
        if not address:
            raise SyntaxReply('501 5.5.2 Syntax error in parameters scanning "' + keyword + '"')
    params = _parse_params(tail)
    smtputf8 = "SMTPUTF8" in params and smtputf8_allowed
    check_address(address, smtputf8=smtputf8 or (keyword == "TO" and smtputf8_allowed))
    return Path(address, params)


def _unquoted(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(index, char)`` for characters outside quoted strings and escapes.

    A final item ``(-1, '"')`` is yielded when a quoted string is left open.
    """
    quoted = escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted:
            yield i, ch
    if quoted:
        yield -1, '"'


def _plain(text: str) -> bool:
    """No quoted string and no escape: character positions can be searched directly."""
    return '"' not in text and "\\" not in text


def _closing_bracket(text: str) -> int:
    """Index of the ``>`` closing the path, skipping quoted strings."""
    if _plain(text):
        return text.find(">", 1)
    return next((i for i, ch in _unquoted(text[1:]) if ch == ">" and i >= 0), -2) + 1


def _parse_params(text: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        if not _PARAM_KEY.match(key):
            raise SyntaxReply(f'501 5.5.4 Syntax error in parameter "{_echo(word)}"')
        upper = key.upper()
        if upper in params:
            raise SyntaxReply(f"501 5.5.4 Duplicate {upper} parameter")
        params[upper] = value if eq else None
    return params


def check_address(address: str, *, smtputf8: bool) -> None:
    """Apply the RFC 5321 size limits and character rules to a path's address."""
    if address.isascii():  # the usual case, checked without a loop over the characters
        if not address.isprintable():
            raise SyntaxReply("501 5.1.7 Invalid character in address")
        if len(address) > MAX_PATH:
            raise SyntaxReply("501 5.1.3 Path too long")
    else:
        if "\x00" in address or _has_control(address):
            raise SyntaxReply("501 5.1.7 Invalid character in address")
        if len(address.encode("utf-8", "surrogateescape")) > MAX_PATH:
            raise SyntaxReply("501 5.1.3 Path too long")
        if _has_8bit(address) and not smtputf8:
            raise SyntaxReply("553 5.6.7 Non-ASCII address requires SMTPUTF8")
        if any(0xDC80 <= ord(c) <= 0xDCFF for c in address):
            raise SyntaxReply("553 5.6.7 Address is not valid UTF-8")
    if not address:
        return
    if _unbalanced_quotes(address):
        raise SyntaxReply("501 5.1.3 Unbalanced '\"'")
    local, domain = split_address(address)
    if local.startswith("@") and ":" in local:  # source route: @a,@b:user
        local = local[local.rfind(":") + 1 :]
    if len(local.encode("utf-8")) > MAX_LOCAL_PART:
        raise SyntaxReply("501 5.1.3 Local part too long")
    if len((domain or "").encode("utf-8")) > MAX_DOMAIN:
        raise SyntaxReply("501 5.1.3 Domain name too long")


def _unbalanced_quotes(address: str) -> bool:
    if '"' not in address:
        return False
    return any(i < 0 for i, _ in _unquoted(address))


def split_address(address: str) -> tuple[str, str | None]:
    """Local part and domain, split at the last ``@`` outside a quoted string."""
    if _plain(address):
        at = address.rfind("@")
    else:
        at = max((i for i, ch in _unquoted(address) if ch == "@"), default=-1)
    if at < 0:
        return address, None
    return address[:at], address[at + 1 :]


_XTEXT = re.compile(r"^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$")


def decode_xtext(value: str, what: str, limit: int) -> str:
    """Decode an RFC 3461 xtext value; a bad one is ``501 5.5.4``."""
    if len(value) > limit or not _XTEXT.match(value):
        raise SyntaxReply(f"501 5.5.4 Syntax error in {what} parameter value")
    decoded = re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), value)
    if _has_control(decoded):
        raise SyntaxReply(f"501 5.5.4 Syntax error in {what} parameter value")
    return decoded


def parse_notify(value: str | None) -> frozenset[str]:
    """NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY."""
    if not value:
        raise SyntaxReply("501 5.5.4 Syntax error in NOTIFY parameter value")
    items = [v.upper() for v in value.split(",")]
    allowed = {"NEVER", "SUCCESS", "FAILURE", "DELAY"}
    if any(i not in allowed for i in items) or len(set(items)) != len(items):
        raise SyntaxReply("501 5.5.4 Syntax error in NOTIFY parameter value")
    if "NEVER" in items and len(items) > 1:
        raise SyntaxReply("501 5.5.4 Syntax error in NOTIFY parameter value")
    return frozenset(items)


def parse_orcpt(value: str | None) -> str:
    """ORCPT=addr-type;xtext. Returns ``type;decoded-address``."""
    if not value or ";" not in value:
        raise SyntaxReply("501 5.5.4 Syntax error in ORCPT parameter value")
    kind, _, addr = value.partition(";")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]*$", kind) or not addr:
        raise SyntaxReply("501 5.5.4 Syntax error in ORCPT parameter value")
    decode_xtext(addr, "ORCPT", MAX_ORCPT)
    return f"{kind};{addr}"


def _echo(text: str) -> str:
    """Command text safe to put back into a reply: printable ASCII, at most 40 chars."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return clean[:40]


def echo(text: str) -> str:
    """Public form of :func:`_echo` for the session's error replies."""
    return _echo(text)


_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_ADDRESS_LITERAL = re.compile(r"^\[(?:IPv6:[0-9A-Fa-f:.]+|[0-9.]+)\]$")


def valid_helo_name(name: str) -> bool:
    """A HELO/EHLO argument that may go into our Received header unchanged."""
    if not name or len(name) > MAX_DOMAIN:
        return False
    if _ADDRESS_LITERAL.match(name):
        return True
    labels = name.rstrip(".").split(".")
    return all(_DOMAIN_LABEL.match(label) or label.replace("_", "a").isalnum() for label in labels)
