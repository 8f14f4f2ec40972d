"""The qf reader refuses malformed files (naming file, line, reason); the writer refuses
fields that would inject lines."""

from __future__ import annotations

import pytest
from postroom.core.queue.errors import QueueFileError
from postroom.core.queue.qf import Header, QueueFile, QueueRecipient, format_qf, parse_qf

GOOD = b"V8\nT1\nK0\nN0\nP1\nS<a@b>\nRPFD:<c@d>\nH??Subject: x\n.\n"


def _error(data: bytes) -> QueueFileError:
    with pytest.raises(QueueFileError) as info:
        parse_qf(data, "/q/qfABC")
    return info.value


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"V9\nT1\nSx\n.\n", 1, "unsupported queue file version"),
        (b"T1\nV8\nSx\n.\n", 2, "V line is not the first line"),
        (b"V8\nT1\nX what\nSx\n.\n", 3, "unrecognized line"),
        (b"V8\nT1\nSx\n", 3, "incomplete queue file"),
        (b"V8\nT1\nSx\n.\nRPFD:<evil@x>\n", 5, "extra data after the final"),
        (b"V8\nT1\nFrom evil\nSx\n.\n", 3, "From "),
        (b"V8\nT1x\nSx\n.\n", 2, "bad number"),
        (b"V8\nT1\nT2\nSx\n.\n", 3, "duplicate"),
        (b"V8\nT1\nSx\nRPFD<no colon>\n.\n", 4, "without ':'"),
        (b"V8\nT1\nSx\nQrfc822;a@b\nH??X: y\n.\n", 4, "Q line not followed by an R"),
        (b"V8\nT1\nSx\nH??NoColon\n.\n", 4, "header syntax error"),
        (b"V8\nT1\nSx\nBBINARY\n.\n", 4, "invalid body type"),
        (b"V8\nT1\nSx\nAa=b\n.\n", 4, "xtext"),
        (b"V8\nT1\nSx\n$\n.\n", 4, "bad macro"),
        (b"V8\nT1\nMstatus\n\tcontinued\nSx\n.\n", 4, "continuation line after a non-header"),
        (b"V8\nT1\n\nSx\n.\n", 3, "unrecognized line"),
        (b"V8\nT1\n.\n", 3, "no sender"),
        (b"V8\nT1\x00\nSx\n.\n", 2, "NUL"),
        (b"", 0, "empty"),
    ],
)
def test_bad_files_are_refused_with_file_line_and_reason(
    data: bytes, line: int, reason: str
) -> None:
    err = _error(data)
    assert err.line == line
    assert reason in err.reason
    assert str(err).startswith(f"/q/qfABC: line {line}: ")


def test_good_file_parses() -> None:
    assert format_qf(parse_qf(GOOD)) == GOOD


BASE = QueueFile(ctime=1, sender="<a@b>", recipients=(QueueRecipient("<c@d>"),))


@pytest.mark.parametrize(
    "bad",
    [
        QueueFile(ctime=1, sender="<a@b>\nRPFD:<evil@x>"),
        QueueFile(ctime=1, sender="x", status="line\rbreak"),
        QueueFile(ctime=1, sender="x", envid="a\0b"),
        QueueFile(ctime=1, sender="x", recipients=(QueueRecipient("<c@d>\nH??X: y"),)),
        QueueFile(ctime=1, sender="x", recipients=(QueueRecipient("<c@d>", flags="P:F"),)),
        QueueFile(ctime=1, sender="x", recipients=(QueueRecipient("a", controlling_user=""),)),
        QueueFile(ctime=1, sender="x", headers=(Header("Subject", "a\nRPFD:<evil@x>"),)),
        QueueFile(ctime=1, sender="x", headers=(Header("Subject", "a\r\n\tb"),)),
        QueueFile(ctime=1, sender="x", headers=(Header("Subject", "trailing\n"),)),
        QueueFile(ctime=1, sender="x", headers=(Header("Bad Name", "v"),)),
        QueueFile(ctime=1, sender="x", headers=(Header("X", "v", condition="a?b"),)),
        QueueFile(ctime=1, sender="x", macros=(("{unterminated", "v"),)),
        QueueFile(ctime=1, sender="x", body_type="BINARYMIME"),
        QueueFile(ctime=1, sender="x", auth="a=b"),
        QueueFile(ctime=1, sender="x", flags="rom evil"),
        QueueFile(ctime=1, sender="x", version=9),
        QueueFile(ctime=1, sender="\ud800"),
    ],
)
def test_writer_refuses_injection_and_unreadable_fields(bad: QueueFile) -> None:
    with pytest.raises(ValueError):
        format_qf(bad)


def test_folded_header_is_the_only_newline_allowed() -> None:
    qf = QueueFile(ctime=1, sender="x", headers=(Header("Received", "a\n\tb\n c"),))
    assert b"H??Received: a\n\tb\n c\n" in format_qf(qf)
