"""PrivacyOptions: bit values, goaway, case-insensitive accumulation, display, help texts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.policy.errors import PolicyError
from postroom.core.policy.privacy import (
    GOAWAY,
    PRIVACY_VALUES,
    Privacy,
    effective_noverb,
    parse_privacy_options,
    privacy_names,
)
from postroom.core.policy.privacy_help import PRIVACY_HELP

SENDMAIL_BITS = {
    "public": 0,
    "needmailhelo": 0x1,
    "needexpnhelo": 0x2,
    "needvrfyhelo": 0x4,
    "noexpn": 0x8,
    "novrfy": 0x10,
    "authwarnings": 0x20,
    "noverb": 0x40,
    "restrictmailq": 0x10000,
    "restrictqrun": 0x20000,
    "restrictexpand": 0x40000,
    "noetrn": 0x80000,
    "nobodyreturn": 0x100000,
    "noreceipts": 0x200000,
    "noactualrecipient": 0x400000,
    "noreflection": 0x800000,
}


@pytest.mark.parametrize(("name", "bit"), SENDMAIL_BITS.items())
def test_bit_values_are_sendmails(name: str, bit: int) -> None:
    assert int(Privacy[name]) == bit
    assert int(parse_privacy_options([name])) == bit


def test_goaway_is_low_16_plus_noreflection() -> None:
    assert int(GOAWAY) == 0xFFFF | 0x800000
    p = parse_privacy_options(["goaway"])
    for flag in ("needmailhelo", "needexpnhelo", "needvrfyhelo", "noexpn", "novrfy"):
        assert p & Privacy[flag]
    assert p & Privacy.authwarnings and p & Privacy.noverb and p & Privacy.noreflection
    for flag in ("noreceipts", "restrictmailq", "restrictqrun", "restrictexpand", "noetrn",
                 "nobodyreturn", "noactualrecipient"):  # fmt: skip
        assert not p & Privacy[flag], flag


def test_names_are_case_insensitive_and_accumulate() -> None:
    p = parse_privacy_options(["GoAway", "NOETRN", "noReceipts,restrictqrun"])
    assert p == GOAWAY | Privacy.noetrn | Privacy.noreceipts | Privacy.restrictqrun


def test_public_contributes_nothing() -> None:
    assert parse_privacy_options(["public"]) == Privacy.public
    assert parse_privacy_options(["public", "noetrn"]) == Privacy.noetrn
    assert parse_privacy_options([]) == Privacy.public


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(PolicyError) as info:
        parse_privacy_options(["noexpn", "novrfyy"])
    text = str(info.value)
    assert '"novrfyy"' in text
    for name in ("goaway", "noexpn", "novrfy", "restrictmailq", "noreflection"):
        assert name in text


def test_names_for_display() -> None:
    assert privacy_names(Privacy.public) == ["public"]
    assert privacy_names(Privacy.noexpn | Privacy.novrfy) == ["noexpn", "novrfy"]
    assert privacy_names(GOAWAY | Privacy.noetrn) == ["goaway", "noetrn"]


@given(st.lists(st.sampled_from(sorted(PRIVACY_VALUES)), max_size=8))
def test_names_round_trip(names: list[str]) -> None:
    p = parse_privacy_options(names)
    assert parse_privacy_options(privacy_names(p)) == p


def test_noexpn_implies_noverb() -> None:
    assert effective_noverb(Privacy.noexpn)
    assert effective_noverb(Privacy.noverb)
    assert not effective_noverb(Privacy.novrfy | Privacy.noetrn)


def test_every_flag_has_help() -> None:
    assert set(PRIVACY_HELP) == set(PRIVACY_VALUES)
    for help_ in PRIVACY_HELP.values():
        assert help_.summary and len(help_.detail) > len(help_.summary)
