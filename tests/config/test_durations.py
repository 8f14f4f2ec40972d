"""Sendmail-style durations: parsing, default units, formatting, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.config.durations import format_duration, parse_duration
from postroom.core.config.errors import BadValue


@pytest.mark.parametrize(
    ("text", "unit", "seconds"),
    [
        ("30m", "m", 1800),
        ("5d", "m", 432000),
        ("4h", "d", 14400),
        ("1h30m", "m", 5400),
        ("1w", "m", 604800),
        ("45s", "m", 45),
        ("90", "m", 5400),
        ("3", "d", 259200),
        ("2", "h", 7200),
        (" 10S ", "m", 10),
        (15, "m", 900),
        ("0", "m", 0),
    ],
)
def test_parse(text: str | int, unit: str, seconds: float) -> None:
    assert parse_duration(text, unit) == seconds


@pytest.mark.parametrize("bad", ["", "m", "5x", "5 m", "1.5h", "-5", "5m-", True, 1.5, None, [1]])
def test_refused(bad: object) -> None:
    with pytest.raises(BadValue):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (300, "5m"), (5400, "1h30m"), (432000, "5d"), (90061, "1d1h1m1s")],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(0, 10**8))
def test_format_then_parse(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_bad_value(text: str) -> None:
    try:
        assert parse_duration(text) >= 0
    except BadValue:
        pass
