"""mailq output, byte for byte: the listings of sendmail-transcripts.md section 7 and the
formatting rules of Sendmail's print_single_queue."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.queue import (
    QueueSelection,
    QueueSelectionError,
    QueueStore,
    format_queue_listing,
    parse_selection,
    quarantine,
)
from postroom.core.queue.mailq import fgets_lines, prtstr
from postroom.core.queue.selection import Match

from .helpers import message_qf

DATA = Path(__file__).parent / "data"
HEAD = "-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n"
HEAD_V = "-----Q-ID----- --Size-- -Priority- ---Q-Time--- --------Sender/Recipient--------\n"

DEFAULT = (
    "\t\t<testdir>/mqueue (3 requests)\n" + HEAD + "6APIVAMH016263        5 Wed Nov 25 18:31 "
    "forged@example.net\n\t\t\t\t\t <testdir>/alice.mbox\n6APIV0O1016169        6 Wed Nov 25 "
    "18:31 <spoof@example.org>\n\t\t\t\t\t <alice>\n6APIU3sA015510        5 Wed Nov 25 18:30 "
    "alice\n                 (Deferred: Connection refused by [127.0.0.1])\n\t\t\t\t\t "
    "bob@[127.0.0.1]\n\t\t\t\t\t carol@runsc\n\t\tTotal requests: 3\n"
)
VERBOSE = (
    "\t\t<testdir>/mqueue (3 requests)\n" + HEAD_V + "6APIVAMH016263        5      30023 Nov 25 "
    "18:31 forged@example.net\n\t\t\t\t\t\t(---alice:1:0:alice---)\n\t\t\t\t\t\t<testdir>/alice"
    ".mbox\n6APIV0O1016169        6      30048 Nov 25 18:31 <spoof@example.org>\n\t\t\t\t\t\t"
    "<alice>\n6APIU3sA015510        5     150024 Nov 25 18:30 alice\n                 "
    "(Deferred: Connection refused by [127.0.0.1])\n\t\t\t\t\t\tbob@[127.0.0.1]\n\t\t\t\t\t\t"
    "carol@runsc\n\t\tTotal requests: 3\n"
)
QUARANTINED = (
    "\t\t<testdir>/mqueue (1 request)\n" + HEAD + "6APIU3sA015510        5 Wed Nov 25 18:30 "
    "alice\n     QUARANTINE: held by admin for review\n                 (Deferred: Connection "
    "refused by [127.0.0.1])\n\t\t\t\t\t bob@[127.0.0.1]\n\t\t\t\t\t carol@runsc\n"
    "\t\tTotal requests: 1\n"
)
LOST = (
    "\t\t<testdir>/mqueue (1 request)\n" + HEAD + "6APIU3An015515?    2536 Wed Nov 25 18:30 "
    "MAILER-DAEMON\n\t\t\t\t\t <a@example.org>\n\t\tTotal requests: 1\n"
)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def mqueue(tmp_path: Path, utc: None) -> Path:
    """The transcript's queue: three jobs with their df sizes, plus one lost job."""
    q = tmp_path / "mqueue"
    q.mkdir()
    for name, qid, size in [
        ("cmdline", "6APIVAMH016263", 5),
        ("nohelo", "6APIV0O1016169", 6),
        ("deferred", "6APIU3sA015510", 5),
    ]:
        shutil.copyfile(DATA / f"{name}-{qid}.qf", q / ("qf" + qid))
        (q / ("df" + qid)).write_bytes(b"x" * size)
    shutil.copyfile(DATA / "lost-6APIU3An015515.qf", q / "Qf6APIU3An015515")
    (q / "df6APIU3An015515").write_bytes(b"y" * 2536)
    return q


def listing(q: Path, *flags: str, verbose: bool = False) -> str:
    text = format_queue_listing(q, verbose=verbose, selection=parse_selection(flags))
    return text.replace(str(q), "<testdir>/mqueue")


def test_transcript_default_listing(mqueue: Path) -> None:
    assert listing(mqueue) == DEFAULT


def test_transcript_verbose_listing(mqueue: Path) -> None:
    assert listing(mqueue, verbose=True) == VERBOSE


def test_transcript_quarantine_listing(mqueue: Path) -> None:
    quarantine(mqueue, "6APIU3sA015510", "held by admin for review")
    assert listing(mqueue, "-qQ") == QUARANTINED
    normal = listing(mqueue)
    assert normal.startswith("\t\t<testdir>/mqueue (2 requests)\n")
    assert "6APIU3sA015510" not in normal


def test_transcript_lost_listing(mqueue: Path) -> None:
    assert listing(mqueue, "-qL") == LOST


def test_empty_queue(tmp_path: Path) -> None:
    assert format_queue_listing(tmp_path) == f"{tmp_path} is empty\n\t\tTotal requests: 0\n"
    assert format_queue_listing(tmp_path, verbose=True).endswith("\t\tTotal requests: 0\n")


def test_locked_job_is_marked_with_a_star(mqueue: Path) -> None:
    with open(mqueue / "qf6APIV0O1016169", "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        text = listing(mqueue)
    assert "\n6APIV0O1016169*       6 Wed Nov 25 18:31 <spoof@example.org>\n" in text
    assert "\n6APIV0O1016169        6 " in listing(mqueue)


def test_too_young_job_is_marked_with_a_dash(mqueue: Path) -> None:
    now = 1795631403 + 60
    text = format_queue_listing(mqueue, now=now, min_queue_age=3600)
    assert "\n6APIU3sA015510-       5 " in text  # tried once (N1, K1795631403)
    assert "\n6APIVAMH016263        5 " in text  # never tried (N0)


@pytest.mark.parametrize(
    ("flags", "ids"),
    [
        (["-qIVAMH"], ["6APIVAMH016263"]),
        (["-qIvamh"], []),  # ids are case-sensitive
        (["-qIqf6APIV"], ["6APIVAMH016263", "6APIV0O1016169"]),  # matched against "qf<id>"
        (["-q!IVAMH"], ["6APIV0O1016169", "6APIU3sA015510"]),
        (["-qRRUNSC"], ["6APIU3sA015510"]),  # recipients: case-insensitive
        (["-qRalice", "-qRbob"], ["6APIVAMH016263", "6APIV0O1016169", "6APIU3sA015510"]),
        (["-qSALICE"], ["6APIU3sA015510"]),
        (["-q!Salice"], ["6APIVAMH016263", "6APIV0O1016169"]),
        (["-qSalice", "-qRalice"], []),
        (["-qSspoof", "-qRalice"], ["6APIV0O1016169"]),
    ],
)
def test_selection_filters(mqueue: Path, flags: list[str], ids: list[str]) -> None:
    text = listing(mqueue, *flags)
    shown = [line[:14] for line in text.splitlines() if line[:4] == "6API"]
    assert shown == ids
    if ids:
        assert f"({len(ids)} request" in text


def test_quarantine_reason_filter(mqueue: Path) -> None:
    quarantine(mqueue, "6APIU3sA015510", "held by admin for review")
    assert "6APIU3sA015510" in listing(mqueue, "-qQadmin")
    assert "is empty" in listing(mqueue, "-qQADMIN")
    assert "is empty" in listing(mqueue, "-q!Qadmin")


def test_parse_selection() -> None:
    sel = parse_selection(["-qIabc", "-q!Rfoo", "-qSbar", "-qQreason", "-q30m", "-q"])
    assert sel == QueueSelection(
        mode="quarantine",
        ids=(Match("abc"),),
        recipients=(Match("foo", negate=True),),
        senders=(Match("bar"),),
        reasons=(Match("reason"),),
    )
    assert parse_selection(["-qQ", "-qL"]).mode == "lost"
    for bad in (["-v"], ["-qZ"], ["-q!Xfoo"], ["-q!30m"]):
        with pytest.raises(QueueSelectionError):
            parse_selection(bad)


def write_qf(q: Path, qid: str, body: str, df: bytes | None = b"12345") -> None:
    (q / ("qf" + qid)).write_bytes(body.encode("utf-8", "surrogateescape"))
    if df is not None:
        (q / ("df" + qid)).write_bytes(df)


def test_cut_lengths_escapes_and_status_lines(tmp_path: Path, utc: None) -> None:
    sender = "<" + "s" * 50 + "\\x\u00e9@example.org>"
    rcpt = "<" + "r" * 80 + "@example.org>"
    status = "Deferred: " + "z" * 120
    write_qf(
        tmp_path,
        "AAAAAAAA000001",
        f"V8\nT1795631386\nK0\nN2\nP99\nB8BITMIME\nM{status}\nFw\nS{sender}\n"
        f"MDeferred: rcpt status\nC:list\nRPFD:{rcpt}\nC\nRPFD:<two\tx@y>\nH??X: y\n.\n",
    )
    text = format_queue_listing(tmp_path)
    lines = text.splitlines()
    assert lines[2] == "AAAAAAAA000001        5 Wed Nov 25 18:29 " + sender[:39]
    assert lines[3] == "      8BITMIME   (" + status[:60] + ")"
    assert lines[4] == "\t\t\t\t\t " + rcpt[:38]
    assert lines[5] == "\t\t\t\t\t <two\\011x@y>"
    verbose = format_queue_listing(tmp_path, verbose=True).splitlines()
    cut = "<" + "s" * 50 + "\\\\x\\303\\251@example.org>"
    assert verbose[2] == "AAAAAAAA000001        5         99+Nov 25 18:29 " + cut
    assert verbose[3] == "      8BITMIME   (" + status[:100] + ")"
    assert verbose[4:9] == [
        "\t\t\t\t\t\t(---:list---)",
        "\t\t\t\t\t\t" + rcpt[:71],
        "\t\t (Deferred: rcpt status)",
        "\t\t\t\t\t\t(------)",
        "\t\t\t\t\t\t<two\\011x@y>",
    ]


def test_broken_jobs_are_still_listed(tmp_path: Path, utc: None) -> None:
    write_qf(tmp_path, "AAAAAAAA000002", "V8\nK0\nSnobody\nRPFD:<a@b>\nXgarbage\n", df=None)
    write_qf(tmp_path, "AAAAAAAA000003", "garbage only\n")
    text = format_queue_listing(tmp_path)
    assert (
        "\nAAAAAAAA000002       -1 Thu Jan  1 00:00 nobody\n\t\t\t\t\t <a@b> (no control file)\n"
        in text
    )
    assert "\nAAAAAAAA000003  (no control file)\n" in text
    # jobs without a P line sort last (priority 0x7fffffff)
    assert format_queue_listing(tmp_path, verbose=True).count(" 2147483647 ") == 1


def test_ties_keep_directory_order_and_priorities_sort(tmp_path: Path, utc: None) -> None:
    store = QueueStore(tmp_path)
    for _ in range(6):
        writer = store.new_message()
        writer.write(b"same size\n")
        writer.commit(message_qf(writer.qid, 100))
    order = [e.name[2:] for e in os.scandir(tmp_path) if e.name.startswith("qf")]
    shown = [line[:14] for line in format_queue_listing(tmp_path).splitlines()[2:-1]]
    shown = [s for s in shown if not s.startswith("\t")]
    assert shown == order


def test_prtstr_and_fgets_emulation() -> None:
    assert prtstr(b"abc", 2) == b"ab"
    assert prtstr(b"a\\b", 3) == b"a\\\\"
    assert prtstr(b"a\\b", 2) == b"a"
    assert prtstr(b"\x81g", 10) == b"\\201g"
    assert prtstr(b"\x81g", 4) == b""
    long = b"H??X: " + b"y" * 3000 + b"\nRPFD:<a@b>\r\n"
    chunks = list(fgets_lines(long))
    assert [len(c) for c in chunks] == [2047, 959, 10]
    assert chunks[-1] == b"RPFD:<a@b>"
