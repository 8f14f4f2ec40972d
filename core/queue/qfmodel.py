"""The data model of a Sendmail qf/hf control file (version 8).

Text is bytes on disk.  In Python every field is a ``str`` decoded as UTF-8
with ``errors="surrogateescape"`` (:data:`ENCODING`, :data:`ERRORS`), so any
byte round-trips: Sendmail's macro-reference byte 0x81 appears as
:data:`MACRO_REF` (``"\\udc81"``) and the stored Return-Path value is
:data:`RETURN_PATH_VALUE`.

The dataclasses are frozen and carry no behaviour beyond
:func:`initial_priority`; :mod:`.qfparse` reads them and :mod:`.qfformat`
writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

ENCODING = "utf-8"
ERRORS = "surrogateescape"

QF_VERSION = 8
"""The newest qf format this code reads and the one it writes."""

MACRO_REF = "\udc81"
"""Sendmail's macro-reference byte 0x81, as decoded with surrogateescape."""

RETURN_PATH_VALUE = "<" + MACRO_REF + "g>"
"""The value Sendmail stores for ``H?P?Return-Path`` (``$g`` expanded at delivery)."""

CLASS_FACTOR = 1800
RECIPIENT_FACTOR = 30000
RETRY_FACTOR = 90000


def initial_priority(size: int, nrcpts: int, msg_class: int = 0) -> int:
    """Sendmail's initial ``P`` value: size - class*ClassFactor + nrcpts*RecipientFactor.

    ``size`` is the message as received (headers, blank line and body, with
    LF line ends); e.g. a 48-byte message to 2 recipients gives 60048.
    """
    return size - msg_class * CLASS_FACTOR + nrcpts * RECIPIENT_FACTOR


@dataclass(frozen=True)
class Header:
    """One ``H`` line: ``H?cond?Name: value``.

    ``value`` is the text after ``Name:`` less the single space that normally
    follows the colon; ``space`` records whether that space was there (Sendmail
    keeps ``Subject:x`` verbatim).  A folded header keeps its continuation text
    inside ``value`` as ``"\\n\\t..."``.  ``condition`` is the text between the
    two ``?``: ``""`` for ``??``, ``"P"`` for ``?P?``, ``"${name}"``/``"$x"``
    verbatim.
    """

    name: str
    value: str
    condition: str = ""
    space: bool = True

    @classmethod
    def from_field(cls, name: str, raw: str, condition: str = "") -> Header:
        """Build from the exact text after ``Name:`` in a message (``" hello"``, ``"x"``).

        Folded lines must already be joined with ``"\\n"`` (no CR).
        """
        if raw.startswith(" "):
            return cls(name, raw[1:], condition, True)
        return cls(name, raw, condition, False)

    def __post_init__(self) -> None:
        # ``space=False`` with a value starting with a space writes the same line
        # as ``space=True`` without it: keep the one canonical form.
        if not self.space and self.value.startswith(" "):
            object.__setattr__(self, "space", True)
            object.__setattr__(self, "value", self.value[1:])


@dataclass(frozen=True)
class QueueRecipient:
    """An ``R`` line and the lines that qualify it.

    ``flags`` are the letters between ``R`` and ``:`` (``P`` primary, ``N``
    NOTIFY given, ``S``/``F``/``D`` notify on success/failure/delay, ``B``
    internal Bcc, ``A`` alias controlling address).  ``orcpt`` is the ``Q``
    line, ``final_recipient`` the ``r`` line, ``status`` the ``M`` line just
    before this recipient, ``controlling_user`` the ``C`` line in force
    (``"alice:1:0:alice"`` or ``":alias"``), ``None`` after a bare ``C``.
    """

    address: str
    flags: str = "PFD"
    orcpt: str | None = None
    final_recipient: str | None = None
    status: str | None = None
    controlling_user: str | None = None


@dataclass(frozen=True)
class QueueFile:
    """A whole control file.

    ``ctime`` (``T``), ``last_attempt`` (``K``), ``attempts`` (``N``),
    ``priority`` (``P``), ``df_dir`` (``d``), ``inode`` (``I``, verbatim
    ``major/minor/ino``), ``body_type`` (``B``), ``quarantine`` (``q``),
    ``status`` (envelope ``M``), ``flags`` (``F`` letters), ``macros``
    (``$`` lines as ``("r", "ESMTP")`` or ``("{daemon_flags}", "c u")``),
    ``sender`` (``S``), ``envid`` (``Z``), ``auth`` (``A``, xtext),
    ``deliver_by`` (``!``, verbatim ``"<flag> <seconds>"``).  ``version`` 0
    means the file had no ``V`` line.
    """

    ctime: int
    sender: str
    recipients: tuple[QueueRecipient, ...] = ()
    headers: tuple[Header, ...] = ()
    version: int = QF_VERSION
    last_attempt: int = 0
    attempts: int = 0
    priority: int = 0
    df_dir: str | None = None
    inode: str | None = None
    body_type: str | None = None
    quarantine: str | None = None
    status: str | None = None
    flags: str = ""
    macros: tuple[tuple[str, str], ...] = ()
    envid: str | None = None
    auth: str | None = None
    deliver_by: str | None = None


def valid_body_type(value: str) -> bool:
    """Sendmail's check_bodytype: ``7BIT`` or ``8BITMIME``, any case."""
    return value.upper() in ("7BIT", "8BITMIME")


def valid_xtext(value: str) -> bool:
    """Sendmail's xtextok: printable ASCII but ``=``; ``+`` only as ``+XX`` (hex)."""
    hexdigits = "0123456789abcdefABCDEF"
    i = 0
    while i < len(value):
        c = value[i]
        if c == "+":
            pair = value[i + 1 : i + 3]
            if len(pair) != 2 or any(ch not in hexdigits for ch in pair):
                return False
            i += 3
            continue
        if not ("!" <= c <= "~") or c == "=":
            return False
        i += 1
    return True


def valid_macro_name(name: str) -> bool:
    """A single printable character (not ``{``), or ``{name}`` without ``}``/space inside."""
    if len(name) == 1:
        return "!" <= name <= "~" and name != "{"
    if len(name) < 3 or name[0] != "{" or name[-1] != "}":
        return False
    inner = name[1:-1]
    return all("!" <= c <= "~" and c not in "{}" for c in inner)
