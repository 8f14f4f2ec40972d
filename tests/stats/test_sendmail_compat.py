"""Acceptance against the real Sendmail 8.17 ``mailstats`` (tests/peers/sendmail_tools.py).

(a) A statistics file written by Postroom (several merges: receptions, deliveries,
    rejections, discards, quarantines, connections, a mailer with only bytes, an
    unnamed mailer number) is printed by the real ``mailstats -C cf -f FILE`` exactly
    as ``mailstats_main`` prints it, in every mode; ``-p`` truncates in both.
(b) Error cases give the same message on stderr and the same exit code.
(c) A file Sendmail itself updated (one message over ``-bs``) reads the same in both.

The clock: ``-P`` prints the current time, and an empty file shows it as the start
time.  The test notes the time around the real run and requires Sendmail's output to
equal Postroom's for one of those seconds -- byte for byte, nothing masked.
ctime is local time on both sides (TZ unset, as for the peer).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from postroom.core.stats import StatCounters, StatusFile, mailstats_main

from tests.peers.sendmail import SendmailInstall, SendmailPeer
from tests.peers.sendmail_tools import run_mailstats

pytestmark = pytest.mark.usefixtures("system_timezone")

MODES = [[], ["-o"], ["-P"], ["-P", "-o"]]


def ours(argv: list[str], now: int) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = mailstats_main(argv, None, stdout=out, stderr=err, now=now)
    return code, out.getvalue(), err.getvalue()


def assert_same(
    install: SendmailInstall, argv: list[str], restore: tuple[Path, bytes] | None = None
) -> tuple[int, str, str]:
    """Run both; ``restore`` puts a file's bytes back before each of our runs (``-p``)."""
    t0 = int(time.time())
    real = run_mailstats(install, *argv)
    t1 = int(time.time())
    if restore is not None:
        assert restore[0].read_bytes() == b"", "the real mailstats -p truncates"
    theirs = (real.returncode, real.stdout.decode(), real.stderr.decode())
    candidates = []
    for t in range(t0, t1 + 1):
        if restore is not None:
            restore[0].write_bytes(restore[1])
        candidates.append(ours(argv, t))
    assert theirs in candidates, f"mailstats {' '.join(argv)}:\n{theirs}\n{candidates[-1]}"
    return theirs


def write_postroom_stats(path: Path) -> None:
    path.touch()
    sf = StatusFile(path)
    for round_ in range(3):
        c = StatCounters()
        for size in (10, 999, 1000, 1001, 250_000):
            c.received(3, size)  # local
            c.delivered(1, size + round_)  # *file*
        c.received(5, 5_000_000)  # esmtp
        c.rejected(5)
        c.rejected(4)
        c.discarded(6)
        c.quarantined(8)
        c.delivered(7, 12345)
        c.connection_in()
        c.connection_in()
        c.connection_out()
        c.bf[2] += 17  # bytes only: no row
        c.nd[12] += 1  # a number the cf does not name
        sf.merge(c)


def test_postroom_file_printed_alike(sendmail_install: SendmailInstall, mailstats_cf: Path,
                                     tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "statistics"
    write_postroom_stats(path)
    for mode in MODES:
        code, out, err = assert_same(sendmail_install, ["-C", str(mailstats_cf), *mode,
                                                        "-f", str(path)])  # fmt: skip
        assert code == 0 and err == "" and out.count("\n") == 13 - 2 * ("-P" in mode)
    assert path.stat().st_size == 1448
    before = path.read_bytes()
    code, out, _ = assert_same(
        sendmail_install, ["-C", str(mailstats_cf), "-p", "-f", str(path)], (path, before)
    )
    assert code == 0 and "\n12        0 " in out
    assert path.read_bytes() == b""  # truncated by our -p as it was by theirs


def test_empty_file_alike(sendmail_install: SendmailInstall, mailstats_cf: Path,
                          tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "statistics"
    path.touch()
    for mode in (["-P"], []):  # the real one sleeps a second on an empty file
        assert_same(sendmail_install, ["-C", str(mailstats_cf), *mode, "-f", str(path)])


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\0" * 1448, 71),
        (b"\xde\xb1\x01\x00\x03\x00\x00\x00" + b"\0" * 1440, 71),
        (b"\xde\xb1\x01\x00\x04\x00\x00\x00" + b"\0" * 100, 71),
        (None, 66),
    ],
)
def test_errors_alike(
    sendmail_install: SendmailInstall,
    mailstats_cf: Path,
    tmp_path: Path,
    content: bytes | None,
    code: int,
) -> None:
    path = tmp_path / "statistics"
    if content is not None:
        path.write_bytes(content)
    theirs = assert_same(sendmail_install, ["-C", str(mailstats_cf), "-f", str(path)])
    assert theirs[0] == code and theirs[1] == ""


def test_usage_and_cf_errors_alike(sendmail_install: SendmailInstall, tmp_path: Path) -> None:
    bare = tmp_path / "bare.cf"
    bare.write_text("Mlocal, P=/bin/true\n")
    for argv in (["-C", str(bare)], ["-C", str(tmp_path / "none.cf")], ["-C", str(bare), "-x"],
                 ["-C", str(bare), "-f"], ["-C", str(bare), "extra"]):  # fmt: skip
        code, out, err = assert_same(sendmail_install, argv)
        assert code != 0 and out == "" and err


def test_file_sendmail_wrote_reads_alike(
    sendmail_install: SendmailInstall, sendmail_peer: SendmailPeer
) -> None:
    stats = sendmail_peer.workdir / "statistics"  # named by the peer's cf, pre-created empty
    sendmail_peer.submit("alice@example.org", ["<bob@example.net>"], b"Subject: x\n\nhello\n")
    assert stats.stat().st_size == 1448
    written = StatusFile(stats).read()
    assert sum(written.nf) == 1 and written.itime > 0
    for mode in MODES:
        assert_same(sendmail_install, ["-C", str(sendmail_peer.cf), *mode])
    c = StatCounters()
    c.delivered(4, 2000)
    StatusFile(stats).merge(c)  # Postroom adds to Sendmail's file
    assert StatusFile(stats).read().itime == written.itime
    _, out, _ = assert_same(sendmail_install, ["-C", str(sendmail_peer.cf), "-P"])
    assert "\n 4        0          0        1          2 " in out
