"""Parsing the filter bar and splitting it between the server and the browser."""

from __future__ import annotations

import time

import pytest
from postroom.gui.models.queue_filter import FilterError, Range, parse_filter
from postroom.gui.models.queue_rows import QueueRow, fmt_age, row_from_wire


def test_positive_terms_go_to_the_server() -> None:
    f = parse_filter({"sender": "alice", "domain": "example.org", "age": ">2h"})
    assert f.server_params() == {"sender": "alice", "domain": "example.org", "min_age": 7200}
    assert f.local_test(time.time()) is None


def test_negations_and_upper_bounds_are_tested_locally() -> None:
    now = 1_000_000.0
    f = parse_filter({"domain": "!example.org", "age": "<30m", "size": ">1k <1M"})
    assert f.server_params() == {}
    test = f.local_test(now)
    assert test is not None
    young = QueueRow("a", arrival=int(now - 60), size=5000, recipients=("x@corp.example",))
    old = QueueRow("b", arrival=int(now - 3600), size=5000, recipients=("x@corp.example",))
    excluded = QueueRow("c", arrival=int(now - 60), size=5000, recipients=("y@example.org",))
    small = QueueRow("d", arrival=int(now - 60), size=10, recipients=("x@corp.example",))
    assert [test(r) for r in (young, old, excluded, small)] == [True, False, False, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">1h", Range(3600, None)),
        ("<10m", Range(None, 600)),
        ("90", Range(90, None)),
        ("!>1d", Range(86400, None, True)),
        (">5m <10m", Range(300, 600)),
    ],
)
def test_age_ranges(text: str, expected: Range) -> None:
    assert parse_filter({"age": text}).age == expected


@pytest.mark.parametrize("text", [">soon", "<5 parsecs", "1h2"])
def test_unreadable_ranges_name_the_field(text: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter({"age": text})
    assert caught.value.field == "age"


def test_wire_rows_become_compact_rows() -> None:
    row = row_from_wire(
        {
            "queue_id": "X1",
            "queue_name": "hold",
            "arrival_time": 5,
            "message_size": 9,
            "sender": "",
            "recipients": [{"address": "a@b", "delay_reason": "Deferred: x"}],
            "attempts": 2,
            "quarantine": "spam",
            "locked": True,
        }
    )
    assert (row.qid, row.held, row.hold, row.status, row.mark(0)) == (
        "X1",
        True,
        "spam",
        "Deferred: x",
        "*",
    )
    assert fmt_age(59) == "59s" and fmt_age(3 * 3600 + 5 * 60) == "3h05m"
    assert fmt_age(2 * 86400 + 4 * 3600) == "2d04h"
