"""hoststat output, byte for byte: sendmail-transcripts.md section 8 and mci_print_persistent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from postroom.core.hoststat import (
    HostStatus,
    HostStatusStore,
    errstring,
    format_hoststat,
    pintvl,
    sysexits_text,
)
from postroom.core.hoststat.paths import walk

from .helpers import held_elsewhere, put

HEAD = " -------------- Hostname --------------- How long ago ---------Results---------\n"
U = 1795631403
# The rows of sendmail-transcripts.md section 8, by host (plain, then -v).
ROWS = {
    "example.org": (
        " example.org                                 00:00:02 5.1.2 Host unknown\n",
        " example.org                                 00:00:02 5.1.2 Host unknown\n",
    ),
    "runsc.example.test": (
        " runsc.example.test                          00:00:02 Deferred: Connection refu\n",
        " runsc.example.test                          00:00:02 Deferred: Connection refused\n",
    ),
    "127.0.0.1": (
        " 127.0.0.1                                   00:00:02 Deferred: Connection refu\n",
        " 127.0.0.1                                   00:00:02 Deferred: Connection refused\n",
    ),
}


def transcript_tree(root: Path) -> None:
    """The tree of section 8, written by hand exactly as the transcript shows it."""
    put(root, "test./example./runsc", f"V0\nE111\nH1\nS75\nD4.4.1\nU{U}\n.\n")
    put(root, "org./example", f"V0\nE0\nH1\nS68\nD5.1.2\nU{U}\n.\n")
    put(root, "1./0./0./127", f"V0\nE111\nH1\nS75\nD4.4.1\nU{U}\n.\n")


def row(host: str, age: str, result: str, mark: str = " ") -> str:
    """One listing row (the layout itself is checked literally against ROWS above)."""
    return mark + host.ljust(39) + " " + age.rjust(12) + " " + result + "\n"


def walk_order(root: Path) -> list[str]:
    return [host.decode() for _, host, _ in walk(os.fsencode(root))]


@pytest.mark.parametrize("verbose", [False, True])
def test_transcript_listing(tmp_path: Path, verbose: bool) -> None:
    transcript_tree(tmp_path)
    order = walk_order(tmp_path)
    assert sorted(order) == sorted(ROWS)
    expected = HEAD + "".join(ROWS[host][verbose] for host in order)
    assert format_hoststat(HostStatusStore(tmp_path), verbose=verbose, now=U + 2) == expected


def test_transcript_tree_reads_back(tmp_path: Path) -> None:
    transcript_tree(tmp_path)
    store = HostStatusStore(tmp_path)
    assert store.read("runsc.example.test") == HostStatus(
        "runsc.example.test", U, errno=111, h_errno=1, exit_status=75, dsn="4.4.1"
    )
    assert store.read("example.org") == HostStatus(
        "example.org", U, h_errno=1, exit_status=68, dsn="5.1.2"
    )
    assert {s.host: s.exit_status for s, _ in store.iter_all()} == {
        "runsc.example.test": 75,
        "example.org": 68,
        "127.0.0.1": 75,
    }


def test_written_by_us_matches_transcript_files(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("runsc.example.test", U, errno=111, h_errno=1, exit_status=75,
                           dsn="4.4.1"))  # fmt: skip
    store.write(HostStatus("example.org", U, h_errno=1, exit_status=68, dsn="5.1.2"))
    assert (tmp_path / "test./example./runsc").read_text() == "V0\nE111\nH1\nS75\nD4.4.1\n" + (
        f"U{U}\n.\n"
    )
    assert (tmp_path / "org./example").read_text() == f"V0\nE0\nH1\nS68\nD5.1.2\nU{U}\n.\n"


def test_empty_tree_prints_nothing(tmp_path: Path) -> None:
    assert format_hoststat(HostStatusStore(tmp_path)) == ""
    (tmp_path / "org.").mkdir()  # folders left by purgestat: still nothing
    assert format_hoststat(HostStatusStore(tmp_path)) == ""
    assert format_hoststat(HostStatusStore(tmp_path / "missing")) == ""


def test_locked_host_is_starred(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("mx.example.org", 100, reply="250 2.0.0 ok"))
    with held_elsewhere(tmp_path, "mx.example.org"):
        busy = format_hoststat(store, now=100)
    assert busy == HEAD + row("mx.example.org", "00:00:00", "250 2.0.0 ok", mark="*")
    assert format_hoststat(store, now=100) == HEAD + row(
        "mx.example.org", "00:00:00", "250 2.0.0 ok"
    )


@pytest.mark.parametrize(
    ("fields", "plain", "verbose"),
    [
        ({"reply": "421 4.3.2 Service not available, closing channel now"},
         "421 4.3.2 Service not ava", "421 4.3.2 Service not available, closing channel now"),
        ({"errno": 111, "exit_status": 75, "reply": "451 later"}, "451 later", "451 later"),
        ({"errno": 110, "exit_status": 75},
         "Deferred: Connection time", "Deferred: Connection timed out"),
        ({"exit_status": 75}, "4.0.0 Deferred", "4.0.0 Deferred"),
        ({"exit_status": 69, "errno": 5}, "5.0.0 Service unavailable", "5.0.0 Service unavailable"),
        ({"exit_status": 99}, "Unknown mailer error 99", "Unknown mailer error 99"),
        ({}, "OK", "OK"),
        ({"errno": 277}, "OK: Name server: host not", "OK: Name server: host not found"),
        ({"errno": 260, "exit_status": 75},
         "Deferred: Executable file", "Deferred: Executable files not allowed"),
        ({"errno": 400}, "OK: Unknown error", "OK: Unknown error"),
        ({"errno": 200}, "OK: Unknown error 200", "OK: Unknown error 200"),
    ],
)  # fmt: skip
def test_results_column(
    tmp_path: Path, fields: dict[str, object], plain: str, verbose: str
) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("h", 50, **fields))  # type: ignore[arg-type]
    assert format_hoststat(store, now=50) == HEAD + row("h", "00:00:00", plain)
    assert format_hoststat(store, now=50, verbose=True) == HEAD + row("h", "00:00:00", verbose)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00"),
        (2, "00:00:02"),
        (3599, "00:59:59"),
        (86399, "23:59:59"),
        (86400, "1+00:00:00"),
        (90061, "1+01:01:01"),
        (400 * 86400 + 5, "400+00:00:05"),
        (-5, "00:00:-5"),
        (-3661, "-1:-1:-1"),
        (-1, "too long"),
    ],
)
def test_pintvl(seconds: int, text: str) -> None:
    assert pintvl(seconds) == text


def test_age_column_is_right_justified_in_12(tmp_path: Path) -> None:
    store = HostStatusStore(tmp_path)
    store.write(HostStatus("a-rather-long-host-name.in.some.example.domain", 0))
    out = format_hoststat(store, now=12 * 86400 + 3723)
    # a name longer than 39 columns pushes the rest right; the age is "%12s"
    assert out == HEAD + " a-rather-long-host-name.in.some.example.domain  12+01:02:03 OK\n"


def test_texts() -> None:
    assert sysexits_text(68) == "5.1.2 Host unknown"
    assert sysexits_text(78) == "5.3.5 Local configuration error"
    assert sysexits_text(0) is None
    assert errstring(111) == "Connection refused"
    assert errstring(1) == "Operation not permitted"
    assert errstring(256) == "Timeout on file open"
    assert errstring(280) == "Name server: no data known"
    assert errstring(318) == "Unknown error 318"


def test_unusable_files_are_reported_like_syserr(tmp_path: Path) -> None:
    good = put(tmp_path, "example./good", "V0\nE0\nH0\nS0\nU10\n.\n")
    out = format_hoststat(HostStatusStore(tmp_path), now=10, line_number=1481)
    assert out == HEAD + row("good.example", "00:00:00", "OK")
    bad = put(tmp_path, "bad", "V1\nU10\nX\n.\n")
    out = format_hoststat(HostStatusStore(tmp_path), now=10, line_number=1481)
    # Sendmail's LineNumber: restored after a failed read, left at the line count
    # after a good one -- so the number depends on what was read before.
    before = 1481 if walk_order(tmp_path)[0] == "bad" else 6
    report = (
        f"{bad}: line 1: Unknown host status version 1: 0 max\n"
        f"{bad}: line {before}: {bad}: could not read status file\n"
    )
    good_row = row("good.example", "00:00:00", "OK")
    assert out in (HEAD + report + good_row, HEAD + good_row + report)
    assert str(good).endswith("good")
