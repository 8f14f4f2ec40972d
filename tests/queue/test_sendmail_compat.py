"""Acceptance test against a real Sendmail 8.17 (see tests/peers/sendmail.py).

(a) A queue written by Postroom is listed by ``sendmail -bp`` exactly as Postroom's
    ``format_queue_listing`` lists it (normal, ``-v``, ``-qQ``, ``-qL``, filters, a locked
    job).
(b) Messages accepted by Sendmail over ``-bs`` are listed identically by both, and every
    qf Sendmail wrote parses and re-serialises byte for byte; Sendmail's own quarantine
    (``-Q``) is read and released by Postroom and listed alike.

Both sides print ctime in local time: Sendmail unsets TZ and uses the system zone, so the
test unsets TZ for this process too.  Nothing is compared "modulo" anything.
"""

from __future__ import annotations

import dataclasses
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.queue import (
    Header,
    QueueRecipient,
    QueueStore,
    format_qf,
    iter_queue_listing,
    parse_qf,
    parse_selection,
    sweep,
)

from tests.peers.sendmail import SendmailPeer

from .helpers import T, message_qf

SELECTIONS: list[list[str]] = [
    [],
    ["-qQ"],
    ["-qL"],
    ["-qRexample.org"],
    ["-q!Rexample.org"],
    ["-qSALICE"],
    ["-qRcarol", "-qRbob"],
    ["-qQheld"],
    ["-q!Qheld"],
]


@pytest.fixture(autouse=True)
def system_timezone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def ours(queue_dir: Path, flags: list[str]) -> bytes:
    verbose = "-v" in flags
    selection = parse_selection([f for f in flags if f != "-v"])
    return b"".join(iter_queue_listing(queue_dir, verbose=verbose, selection=selection))


def assert_same_listings(peer: SendmailPeer, selections: list[list[str]]) -> None:
    for flags in selections:
        for extra in ([], ["-v"]):
            args = [*flags, *extra]
            theirs = peer.mailq(*args)
            assert ours(peer.queue_dir, args) == theirs, f"mailq {' '.join(args)} differs"


def write(store: QueueStore, body: bytes, **fields: object) -> str:
    writer = store.new_message()
    writer.write(body)
    recipients = fields.pop("recipients", ("<bob@example.org>",))
    qf = message_qf(writer.qid, len(body) + 120, recipients, **fields)  # type: ignore[arg-type]
    writer.commit(qf)
    return writer.qid


def test_sendmail_lists_a_postroom_queue(sendmail_peer: SendmailPeer) -> None:
    q = sendmail_peer.queue_dir
    store = QueueStore(q)
    write(store, b"plain\n")
    write(
        store,
        b"to three\n",
        recipients=("<bob@example.org>", "<carol@example.net>", "<dave@example.com>"),
        envid="abc123",
        body_type="8BITMIME",
        flags="dns",
        auth="alice+40example.org",
    )
    write(
        store,
        b"deferred\n",
        sender="alice",
        status="Deferred: Connection refused by [127.0.0.1]",
        attempts=2,
        last_attempt=T + 600,
        flags="ws",
        priority=240100,
    )
    held = write(store, b"held\n", sender="<alice@example.org>")
    store.quarantine(held, "held by admin for review")
    writer = store.new_message()
    writer.write(b"controlled\n")
    base = message_qf(writer.qid, 200)
    recipients = (
        QueueRecipient("/var/mail/alice", "PFDA", controlling_user="alice:1:0:alice"),
        QueueRecipient(
            "|/usr/bin/vacation alice",
            "PFDA",
            status="Deferred: program exited 75",
            controlling_user="alice:1:0:alice",
        ),
        QueueRecipient("<postmaster@example.org>", "PFD"),
        QueueRecipient(":include:/etc/list", "PFDA", controlling_user=":list"),
    )
    writer.commit(dataclasses.replace(base, recipients=recipients))
    write(
        store,
        b"long\n",
        sender="<" + "s" * 45 + "\\back\u00e9slash@example.org>",
        recipients=("<" + "r" * 90 + "@example.org>", "<tab\there@example.org>"),
        status="Deferred: " + "x" * 150,
    )
    for _ in range(3):
        write(store, b"tie\n", ctime=T + 5)
    lost = write(store, b"lost\n", ctime=T + 9)
    qf_path = q / ("qf" + lost)
    qf_path.write_bytes(qf_path.read_bytes().replace(b"\nS", b"\nXbroken\nS", 1))
    report = sweep(q, lambda _line: None)
    assert report.lost == ("qf" + lost,)
    locked = write(store, b"being delivered\n", ctime=T + 20)

    with open(q / ("qf" + locked), "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        listing = sendmail_peer.mailq()
        assert b"*" in listing
        assert ours(q, []) == listing
        assert ours(q, ["-v"]) == sendmail_peer.mailq("-v")
    assert_same_listings(sendmail_peer, [*SELECTIONS, ["-qI" + held[4:9]], ["-q!I" + held[:8]]])


def submit_messages(peer: SendmailPeer) -> list[str]:
    ids = [
        peer.submit("a@example.org", ["<bob@example.org>"], b"Subject: one\n\nhello\n"),
        peer.submit(
            "alice@example.org",
            [
                "<staff> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;staff@mail.example.test",
                "<root>",
                "<carol@example.net> NOTIFY=NEVER",
            ],
            b"Subject: multi\nFrom: alice@example.org\n\nbody\nwith lines\n",
            mail_params=" RET=HDRS ENVID=env-42 BODY=8BITMIME SIZE=100",
        ),
        peer.submit(
            "b@example.org",
            ["<dave@example.com>"],
            b"Subject:nospace\nX-Empty:\nX-Fold: a\n\tb\n  c\nX-Utf8: caf\xc3\xa9\n"
            b"From: b@example.org\n\n\xe2\x82\xac 8-bit body\n",
            helo="other.example.org",
        ),
        peer.submit("a@example.org", ["<bob@example.org>"], b"Subject: one\n\nhello\n"),
    ]
    return ids


def test_postroom_reads_and_lists_a_sendmail_queue(sendmail_peer: SendmailPeer) -> None:
    q = sendmail_peer.queue_dir
    ids = submit_messages(sendmail_peer)
    written = sorted(p.name for p in q.iterdir())
    assert written == sorted(f"{kind}{qid}" for qid in ids for kind in ("df", "qf"))
    for qid in ids:
        data = (q / ("qf" + qid)).read_bytes()
        parsed = parse_qf(data, str(q / ("qf" + qid)))
        assert format_qf(parsed) == data, f"qf{qid} does not round-trip"
    multi = parse_qf((q / ("qf" + ids[1])).read_bytes())
    assert multi.envid == "env-42" and multi.body_type is not None
    assert [r.flags for r in multi.recipients] == ["PNSF", "PFD", "PN"]
    assert multi.recipients[0].orcpt == "rfc822;staff@mail.example.test"
    headers = {h.name: h for h in parse_qf((q / ("qf" + ids[2])).read_bytes()).headers}
    assert headers["Subject"].value == "nospace" and not headers["Subject"].space
    assert headers["X-Fold"].value == "a\n\tb\n  c"
    assert headers["X-Utf8"].value == "café"
    assert sweep(q, lambda _line: None).removed == ()
    assert_same_listings(sendmail_peer, [[], ["-qRexample"], ["-qSb@"], ["-qI" + ids[1][:9]]])


def test_sendmail_quarantine_is_read_and_released_by_postroom(
    sendmail_peer: SendmailPeer,
) -> None:
    q = sendmail_peer.queue_dir
    ids = submit_messages(sendmail_peer)
    result = sendmail_peer.run("-Qheld for review", "-qI" + ids[1])
    assert result.returncode == 0, result.stderr
    assert (q / ("hf" + ids[1])).exists() and not (q / ("qf" + ids[1])).exists()
    held = parse_qf((q / ("hf" + ids[1])).read_bytes())
    assert held.quarantine == "held for review"
    assert_same_listings(sendmail_peer, [[], ["-qQ"], ["-qQreview"]])
    QueueStore(q).release(ids[1])
    released = parse_qf((q / ("qf" + ids[1])).read_bytes())
    assert released.quarantine is None and released.recipients == held.recipients
    assert_same_listings(sendmail_peer, [[], ["-qQ"]])


def test_overlong_lines_split_like_sendmails_fgets(sendmail_peer: SendmailPeer) -> None:
    """A 2047-byte header chunk makes Sendmail read the rest as a line of its own."""
    store = QueueStore(sendmail_peer.queue_dir)
    writer = store.new_message()
    writer.write(b"x\n")
    qf = message_qf(writer.qid, 100)
    trap = Header("X-Long", "y" * (2047 - len("H??X-Long: ")) + "RPFD:<not-a-recipient@x>")
    writer.commit(
        dataclasses.replace(
            qf, headers=(*qf.headers, trap), status="M" * 3000, sender="<" + "s" * 2100 + ">"
        )
    )
    listing = sendmail_peer.mailq()
    assert b"<not-a-recipient@x>" in listing
    assert_same_listings(sendmail_peer, [[]])
