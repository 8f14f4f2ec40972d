"""The listing index: mailq served from it is byte for byte the listing made by reading
every control file, whatever happened to the queue (or to the index) in between."""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.queue import (
    QueueStore,
    format_qf,
    iter_queue_listing,
    listing_parallel,
    listing_refresh,
    parse_selection,
    quarantine,
    release,
)
from postroom.core.queue.listing_refresh import open_listing
from postroom.core.queue.listing_store import IndexFile, index_dir, index_path, stamp_path

from tests.peers.sendmail import SendmailPeer

from .helpers import T, message_qf

SELECTIONS: list[list[str]] = [
    [],
    ["-qQ"],
    ["-qL"],
    ["-qRexample.org"],
    ["-q!Rexample.org"],
    ["-qSbob"],
    ["-qIAA"],
    ["-qQheld"],
]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a folder count as settled as soon as a scan found it unchanged (no 2 s wait)."""
    monkeypatch.setattr(listing_refresh, "SETTLED", 0)


def listing(q: Path, *flags: str, verbose: bool = False, index: bool = True, **kw: int) -> bytes:
    selection = parse_selection(flags)
    return b"".join(
        iter_queue_listing(q, verbose=verbose, selection=selection, index=index, **kw)  # type: ignore[arg-type]
    )


def assert_same(q: Path, selections: list[list[str]] = SELECTIONS) -> None:
    """Every selection, plain and -v, lists the same with the index as without it."""
    for flags in selections:
        for verbose in (False, True):
            theirs = listing(q, *flags, verbose=verbose, index=False)
            assert listing(q, *flags, verbose=verbose) == theirs, f"{flags} -v={verbose}"


def origin(q: Path) -> tuple[str, int]:
    found = open_listing(q)
    try:
        return found.origin, found.reread
    finally:
        found.close()


def add(store: QueueStore, size: int = 100, **fields: object) -> str:
    writer = store.new_message()
    writer.write(b"x" * size)
    writer.commit(message_qf(writer.qid, size, **fields))  # type: ignore[arg-type]
    return writer.qid


def rewrite(q: Path, qid: str, **fields: object) -> None:
    """Rewrite a job's qf the way every writer does: a tf renamed over it."""
    qf = message_qf(qid, 100, **fields)  # type: ignore[arg-type]
    (q / ("tf" + qid)).write_bytes(format_qf(qf))
    os.rename(q / ("tf" + qid), q / ("qf" + qid))


@pytest.fixture
def queue(tmp_path: Path) -> tuple[Path, QueueStore, list[str]]:
    q = tmp_path / "mqueue"
    q.mkdir()
    store = QueueStore(q, fsync=False)
    ids = [add(store, 50 + i * 10, sender=f"<s{i % 3}@example.org>") for i in range(6)]
    ids += [add(store, 100) for _ in range(3)]  # equal priorities: directory order decides
    ids.append(add(store, 70, recipients=("<bob@example.net>", "<carol@example.org>")))
    ids.append(add(store, 80, sender="<bob@example.com>", status="Deferred: try later"))
    held = add(store, 90)
    quarantine(q, held, "held for review")
    lost = add(store, 30)
    os.rename(q / ("qf" + lost), q / ("Qf" + lost))
    return q, store, ids


def test_index_and_file_listings_are_identical(
    queue: tuple[Path, QueueStore, list[str]], settle_at_once: None
) -> None:
    q, _, _ = queue
    assert not (index_path(q, "mailq")).exists()
    assert_same(q)  # built cold, then checked by scanning
    assert (index_path(q, "mailq")).exists()
    assert origin(q) == ("stamp", 0)  # settled: the folder's stat stands for it
    assert_same(q)


def test_each_change_rereads_only_the_files_that_changed(
    queue: tuple[Path, QueueStore, list[str]],
) -> None:
    q, store, ids = queue
    assert_same(q)
    assert origin(q) == ("scan", 0)
    new = add(store, 10)
    assert origin(q) == ("refresh", 1)
    assert_same(q)
    rewrite(q, ids[0], status="Deferred: rewritten", attempts=3)
    assert origin(q) == ("refresh", 1)
    assert_same(q)
    assert b"(Deferred: rewritten)" in listing(q)
    for name in ("qf" + ids[1], "df" + ids[1]):
        os.unlink(q / name)
    assert origin(q) == ("refresh", 0)
    assert ids[1].encode() not in listing(q)
    assert_same(q)
    quarantine(q, new, "held by admin")
    assert_same(q)
    release(q, new)
    assert_same(q)
    (q / ("df" + ids[2])).unlink()  # a data file going away changes the size column
    assert origin(q) == ("refresh", 1)
    assert_same(q)
    assert origin(q) == ("scan", 0)


def test_a_job_written_by_sendmail_is_listed_alike(sendmail_peer: SendmailPeer) -> None:
    q = sendmail_peer.queue_dir
    store = QueueStore(q, fsync=False)
    add(store, 120)
    assert listing(q) == sendmail_peer.mailq()
    sendmail_peer.submit("a@example.org", ["<bob@example.org>"], b"Subject: one\n\nhello\n")
    assert origin(q)[0] == "refresh"
    for flags in ([], ["-v"]):
        assert listing(q, verbose=bool(flags)) == sendmail_peer.mailq(*flags)
    assert_same(q)


def damage_truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def damage_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x20  # inside the text sections
    path.write_bytes(bytes(data))


def damage_garbage(path: Path) -> None:
    path.write_bytes(random.Random(5).randbytes(5000))


def damage_empty(path: Path) -> None:
    path.write_bytes(b"")


def damage_other_format(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data.replace(b"POSTROOM-LISTING-INDEX 1", b"POSTROOM-LISTING-INDEX 9", 1))


def damage_other_python(path: Path) -> None:
    data = path.read_bytes()
    head = data.rindex(b'"python":"')
    path.write_bytes(data[:head] + b'"python":"xpython-99"' + data[data.index(b",", head) :])


def damage_header_offset(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-21] + b"99999999999999999999\n")


@pytest.mark.parametrize(
    "damage",
    [
        damage_truncate,
        damage_flip,
        damage_garbage,
        damage_empty,
        damage_other_format,
        damage_other_python,
        damage_header_offset,
    ],
)
def test_a_damaged_index_is_ignored_and_rebuilt(
    queue: tuple[Path, QueueStore, list[str]], settle_at_once: None, damage: object
) -> None:
    q, _, _ = queue
    expected = listing(q, index=False)
    assert listing(q) == expected
    assert listing(q) == expected  # settled now: served from the stamp
    assert origin(q) == ("stamp", 0)
    damage(index_path(q, "mailq"))  # type: ignore[operator]
    assert listing(q) == expected
    assert listing(q, verbose=True) == listing(q, verbose=True, index=False)
    with IndexFile(index_path(q, "mailq")) as rebuilt:  # whole again
        for name in ("names", "normal", "verbose", "heads"):
            rebuilt.section(name)
    assert origin(q)[1] == 0


def test_a_damaged_stamp_only_costs_a_scan(
    queue: tuple[Path, QueueStore, list[str]], settle_at_once: None
) -> None:
    q, _, _ = queue
    listing(q)
    listing(q)
    (stamp_path(q, "mailq")).write_bytes(b"\x00garbage{")
    assert origin(q) == ("scan", 0)
    assert origin(q) == ("stamp", 0)


def test_odd_control_files_are_listed_as_sendmail_lists_them(
    queue: tuple[Path, QueueStore, list[str]],
) -> None:
    q, _, ids = queue
    target = q / ("qf" + ids[0])
    os.rename(target, q / "elsewhere")
    os.symlink("elsewhere", target)
    (q / "qfAAAADIRECTORY").mkdir()
    os.mkfifo(q / "qfAAAAFIFO00001")
    assert_same(q)
    assert ids[0].encode() in listing(q)
    found = open_listing(q)
    try:  # the symlinked job is never served from the index: the files are read
        assert found.groups["qf"].volatile
    finally:
        found.close()


def test_locked_jobs_are_starred_from_the_index(
    queue: tuple[Path, QueueStore, list[str]], settle_at_once: None
) -> None:
    q, _, ids = queue
    listing(q)
    listing(q)
    with open(q / ("qf" + ids[4]), "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        starred = listing(q)
        assert f"\n{ids[4]}*".encode() in starred
        assert starred == listing(q, index=False)
        assert listing(q, verbose=True) == listing(q, verbose=True, index=False)
    assert f"\n{ids[4]} ".encode() in listing(q)


def test_time_zone_and_queue_age_are_applied_at_listing_time(
    queue: tuple[Path, QueueStore, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    q, _, ids = queue
    rewrite(q, ids[5], attempts=1, last_attempt=T + 100)
    utc_text = listing(q)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    tokyo = listing(q)
    assert tokyo != utc_text
    assert tokyo == listing(q, index=False)
    kw = {"now": T + 200, "min_queue_age": 3600}
    young = listing(q, **kw)
    assert young == listing(q, index=False, **kw)
    assert f"\n{ids[5]}-".encode() in young


def test_the_index_belongs_to_one_folder(
    queue: tuple[Path, QueueStore, list[str]], tmp_path: Path
) -> None:
    q, _, _ = queue
    listing(q)
    copy = tmp_path / "copy"
    shutil.copytree(q, copy, symlinks=True)  # index and all: other inodes, another folder
    store = QueueStore(copy, fsync=False)
    add(store, 40)
    controls = [n for n in os.listdir(copy) if n[:2] in ("qf", "hf", "Qf")]
    assert origin(copy) == ("refresh", len(controls))
    assert_same(copy, [[]])
    assert_same(q, [[]])
    assert listing(copy) != listing(q)


def test_listing_without_writing_leaves_no_index(
    queue: tuple[Path, QueueStore, list[str]],
) -> None:
    q, _, _ = queue
    selection = parse_selection([])
    text = b"".join(iter_queue_listing(q, selection=selection, write_index=False))
    assert text == listing(q, index=False)
    assert not index_dir(q).exists()


def test_random_changes_never_show_a_stale_listing(tmp_path: Path, settle_at_once: None) -> None:
    q = tmp_path / "mqueue"
    q.mkdir()
    store = QueueStore(q, fsync=False)
    rnd = random.Random(10)
    live: list[str] = [add(store, rnd.randint(1, 300)) for _ in range(20)]
    for step in range(40):
        action = rnd.choice(["add", "rewrite", "remove", "hold", "lose", "list"])
        if action == "add" or not live:
            live.append(add(store, rnd.randint(1, 300), sender=f"<u{step}@example.org>"))
        elif action == "rewrite":
            rewrite(
                q, rnd.choice(live), status=f"Deferred: step {step}", priority=rnd.randint(0, 9)
            )
        elif action == "remove":
            qid = live.pop(rnd.randrange(len(live)))
            for prefix in ("qf", "df"):
                (q / (prefix + qid)).unlink()
        elif action == "hold":
            quarantine(q, live.pop(rnd.randrange(len(live))), f"held at {step}")
        elif action == "lose":
            qid = live.pop(rnd.randrange(len(live)))
            os.rename(q / ("qf" + qid), q / ("Qf" + qid))
        assert_same(q, [[], ["-qQ"], ["-qL"], ["-qSu1"]])


def test_listing_a_job_with_a_late_priority_line(tmp_path: Path) -> None:
    """A filter reads further than a plain listing; a second P line then counts."""
    q = tmp_path / "mqueue"
    q.mkdir()
    (q / "qfAAAAAAAA000001").write_bytes(b"V8\nT%d\nP5\nSa@b\nRPFD:<x@y>\nP900\n.\n" % T)
    (q / "qfAAAAAAAA000002").write_bytes(b"V8\nT%d\nP50\nSa@b\nRPFD:<x@y>\n.\n" % T)
    assert_same(q, [[], ["-qRx"], ["-qSa"]])


def test_entry_for_every_field_change(queue: tuple[Path, QueueStore, list[str]]) -> None:
    """Each column of the plain and -v listing follows a rewrite of that field."""
    q, _, ids = queue
    listing(q)
    changes: list[dict[str, object]] = [
        {"sender": "<zz@example.org>"},
        {"priority": 1},
        {"ctime": T + 86400},
        {"flags": "ws"},
        {"recipients": ("<one@example.org>", "<two@example.org>")},
        {"body_type": "8BITMIME"},
    ]
    for change in changes:
        rewrite(q, ids[3], **change)
        assert_same(q, [[]])


def test_the_queue_package_exports_every_name_lazily() -> None:
    import postroom.core.queue as package
    from postroom.core.queue.sweep import sweep as sweep_function

    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []
    assert package.sweep is sweep_function  # the function, not the submodule
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


def test_many_files_are_read_by_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    q = tmp_path / "mqueue"
    q.mkdir()
    store = QueueStore(q, fsync=False)
    for i in range(60):
        add(store, 10 + i % 7, sender=f"<w{i}@example.org>")
    quarantine(q, add(store, 5), "held")
    (q / "qfAAAA\nNEWLINE").write_bytes(b"V8\nT%d\nP5\nSodd@name\nRPFD:<x@y>\n.\n" % T)
    monkeypatch.setattr(listing_parallel, "worker_count", lambda files: 3)
    assert_same(q)
    found = open_listing(q)
    try:
        assert (found.origin, found.reread) in (("scan", 0), ("stamp", 0))
    finally:
        found.close()
