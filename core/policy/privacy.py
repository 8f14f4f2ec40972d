"""PrivacyOptions: Sendmail's privacy flags, their bit values and their parser.

Owns the ``Privacy`` flag type (bit for bit Sendmail 8's ``PRIV_*`` values), the
``goaway`` expansion, the case-insensitive name parser used by the config loader and by
``-O PrivacyOptions=...``, and the display form.  The receiver tests bits directly
(``cfg.privacy & Privacy.noexpn``); the one rule that is not a plain bit is offered as
``effective_noverb`` (noexpn implies noverb).  Explanations for the GUI live in
``privacy_help``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from .errors import PolicyError


class Privacy(enum.IntFlag):
    """Sendmail's PrivacyOptions bits (sendmail.h ``PRIV_*``), named as in Sendmail."""

    public = 0
    needmailhelo = 0x1
    needexpnhelo = 0x2
    needvrfyhelo = 0x4
    noexpn = 0x8
    novrfy = 0x10
    authwarnings = 0x20
    noverb = 0x40
    restrictmailq = 0x10000
    restrictqrun = 0x20000
    restrictexpand = 0x40000
    noetrn = 0x80000
    nobodyreturn = 0x100000
    noreceipts = 0x200000
    noactualrecipient = 0x400000
    noreflection = 0x800000


# Sendmail's goaway: every bit of the low 16 (named or not) plus noreflection.  It does
# not include noreceipts, restrictmailq, restrictqrun, restrictexpand, noetrn,
# nobodyreturn or noactualrecipient (SENDMAIL.md 4.1).
GOAWAY = Privacy(0xFFFF | Privacy.noreflection)

# Name -> bits, in Sendmail's table order (conf.c PrivacyValues); "goaway" is the one
# name that stands for several bits.
PRIVACY_VALUES: dict[str, Privacy] = {
    "public": Privacy.public,
    "needmailhelo": Privacy.needmailhelo,
    "needexpnhelo": Privacy.needexpnhelo,
    "noexpn": Privacy.noexpn,
    "needvrfyhelo": Privacy.needvrfyhelo,
    "novrfy": Privacy.novrfy,
    "noetrn": Privacy.noetrn,
    "noverb": Privacy.noverb,
    "restrictmailq": Privacy.restrictmailq,
    "restrictqrun": Privacy.restrictqrun,
    "restrictexpand": Privacy.restrictexpand,
    "noreceipts": Privacy.noreceipts,
    "nobodyreturn": Privacy.nobodyreturn,
    "goaway": GOAWAY,
    "authwarnings": Privacy.authwarnings,
    "noactualrecipient": Privacy.noactualrecipient,
    "noreflection": Privacy.noreflection,
}

# Single-bit names in bit order, for display.
_SINGLE_BITS: tuple[tuple[str, Privacy], ...] = tuple(
    sorted(
        ((name, bit) for name, bit in PRIVACY_VALUES.items() if bit.value.bit_count() == 1),
        key=lambda item: item[1].value,
    )
)


def parse_privacy_options(names: Iterable[str]) -> Privacy:
    """Accumulate PrivacyOptions names (case-insensitive) into one ``Privacy`` value.

    Each item may itself be a comma- or space-separated list, as in Sendmail's
    ``O PrivacyOptions=goaway,noetrn``.  ``public`` contributes nothing.  An unknown name
    raises ``PolicyError`` listing the valid names.
    """
    result = Privacy.public
    for item in names:
        if not isinstance(item, str):
            raise PolicyError(f"PrivacyOptions entries must be names, not {item!r}")
        for word in item.replace(",", " ").split():
            bits = PRIVACY_VALUES.get(word.lower())
            if bits is None:
                raise PolicyError(
                    f'unknown PrivacyOptions name "{word}"; valid names are: '
                    + ", ".join(PRIVACY_VALUES)
                )
            result |= bits
    return result


def privacy_names(p: Privacy) -> list[str]:
    """The names that describe ``p``: ``["public"]`` for no bits, ``goaway`` when complete.

    ``parse_privacy_options(privacy_names(p)) == p`` for every value the parser produces.
    """
    value = int(p)
    if value == 0:
        return ["public"]
    names: list[str] = []
    if value & int(GOAWAY) == int(GOAWAY):
        names.append("goaway")
        value &= ~int(GOAWAY)
    names.extend(name for name, bit in _SINGLE_BITS if value & int(bit))
    return names


def effective_noverb(p: Privacy) -> bool:
    """Whether VERB is refused: ``noverb``, or ``noexpn`` (which implies noverb)."""
    return bool(p & (Privacy.noverb | Privacy.noexpn))
