"""mailstats output, byte for byte: sendmail-transcripts.md section 9 and the command's rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from postroom.core.stats import (
    MAILERS,
    Statistics,
    StatusFile,
    format_mailstats,
    mailstats_main,
)

from .test_statusfile import counters

Z = (0,) * 25


def at(index: int, value: int) -> tuple[int, ...]:
    return (*Z[:index], value, *Z[index + 1 :])


def plus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


# The statistics behind section 9 of the transcripts.
TRANSCRIPT = Statistics(
    1795631359,
    cf=8,
    ct=0,
    cr=1,
    nf=plus(at(3, 7), at(5, 4)),
    bf=plus(at(3, 11), at(5, 4)),
    nt=at(1, 10),
    bt=at(1, 14),
    nr=at(5, 1),
)
NORMAL = """\
Statistics from Wed Nov 25 18:29:19 2026
 M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis msgsqur  Mailer
 1        0          0K       10         14K        0       0       0  *file*
 3        7         11K        0          0K        0       0       0  local
 5        4          4K        0          0K        1       0       0  esmtp
=====================================================================
 T       11         15K       10         14K        1       0       0
 C        8                    0                    1
"""
PROGRAM = """\
1795631359 1795631479
 1        0          0       10         14        0       0       0  *file*
 3        7         11        0          0        0       0       0  local
 5        4          4        0          0        1       0       0  esmtp
 T       11         15       10         14        1       0       0
 C        8        0      1
"""
AFTER_RESET = """\
Statistics from Wed Nov 25 18:31:20 2026
 M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis msgsqur  Mailer
=====================================================================
 T        0          0K        0          0K        0       0       0
 C        0                    0                    0
"""


@pytest.mark.usefixtures("utc")
def test_transcript_outputs() -> None:
    assert format_mailstats(TRANSCRIPT) == NORMAL
    omitted = format_mailstats(TRANSCRIPT, omit_names=True).splitlines(keepends=True)
    assert omitted[:3] == [
        "Statistics from Wed Nov 25 18:29:19 2026\n",
        " M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis msgsqur\n",
        " 1        0          0K       10         14K        0       0       0\n",
    ]
    assert format_mailstats(TRANSCRIPT, program=True, now=1795631479) == PROGRAM
    assert format_mailstats(Statistics(1795631480)) == AFTER_RESET


@pytest.mark.usefixtures("utc")
def test_main_print_then_truncate(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.write_bytes(TRANSCRIPT.pack())
    out, err = io.StringIO(), io.StringIO()
    assert mailstats_main(["-p"], path, stdout=out, stderr=err, now=1795631479) == 0
    assert (out.getvalue(), err.getvalue()) == (PROGRAM, "")
    assert path.read_bytes() == b""
    out = io.StringIO()
    assert mailstats_main([], path, stdout=out, now=1795631480.5) == 0
    assert out.getvalue() == AFTER_RESET


@pytest.mark.usefixtures("utc")
def test_main_modes(tmp_path: Path) -> None:
    path = tmp_path / "statistics"
    path.write_bytes(TRANSCRIPT.pack())

    def run(*argv: str) -> str:
        out = io.StringIO()
        assert mailstats_main(argv, None, stdout=out, now=1795631479) == 0
        return out.getvalue()

    assert run("-f", str(path)) == NORMAL
    assert run("-P", "-f", str(path)) == PROGRAM
    assert run("-f", str(path), "-o") == format_mailstats(TRANSCRIPT, omit_names=True)
    assert path.read_bytes() == TRANSCRIPT.pack()  # -P does not truncate
    assert run("-c", "-f", str(path)) == NORMAL


def test_rows_need_a_message_count() -> None:
    only_bytes = Statistics(0, bf=at(2, 5), bt=at(7, 9))
    assert format_mailstats(only_bytes, program=True, now=0).splitlines()[1:] == [
        " T        0          0        0          0        0       0       0",
        " C        0        0      0",
    ]
    quarantined = Statistics(0, nq=at(8, 2), bf=at(8, 3))
    assert format_mailstats(quarantined, program=True, now=0).splitlines()[1:3] == [
        " 8        0          3        0          0        0       0       2  relay",
        " T        0          3        0          0        0       0       2",
    ]
    unnamed = Statistics(0, nd=at(20, 1))
    assert format_mailstats(unnamed, program=True, now=0).splitlines()[1] == (
        "20        0          0        0          0        0       1       0  "
    )
    assert MAILERS[8] == "relay"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["-x"], 64, "mailstats: invalid option -- 'x'\n{usage}"),
        (["-f"], 64, "mailstats: option requires an argument -- 'f'\n{usage}"),
        (["extra"], 64, "{usage}"),
        ([], 72, "mailstats: no statistics file located\n"),
        (["-f", "{d}/none"], 66, "mailstats: {d}/none: No such file or directory\n"),
        (["-C", "{d}/none.cf"], 66, "mailstats: {d}/none.cf: No such file or directory\n"),
        (["-f", "{d}/bad"], 71, "mailstats: incorrect magic number in {d}/bad\n"),
    ],
)
def test_main_errors(tmp_path: Path, argv: list[str], code: int, message: str) -> None:
    (tmp_path / "bad").write_bytes(b"\0" * 1448)
    usage = "usage: mailstats [-C cffile] [-c] [-P] [-f stfile] [-o] [-p]\n"
    out, err = io.StringIO(), io.StringIO()
    args = [a.format(d=tmp_path) for a in argv]
    assert mailstats_main(args, None, stdout=out, stderr=err) == code
    assert err.getvalue() == message.format(d=tmp_path, usage=usage)
    assert out.getvalue() == ""


def test_cf_gives_names_and_file(tmp_path: Path) -> None:
    stats = tmp_path / "st"
    StatusFile(stats).path.touch()
    cf = tmp_path / "sendmail.cf"
    cf.write_text(
        "# comment\n"
        "O StatusFile=/elsewhere\n"
        f"O StatusFile = {stats}   # trailing comment\n"
        "Mlocal,\t\tP=/usr/lib/sm.bin/mail.local\n"
        "Msmtp,\t\tP=[IPC]\n"
        "Mlocal,\t\tP=again\n"
        "Mabcdefghijklmnopqrstuvwxyz, P=x\n"
    )
    StatusFile(stats).merge(counters(), now=0)
    out = io.StringIO()
    assert mailstats_main(["-P", "-C", str(cf)], None, stdout=out, now=5) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "0 5"
    # 0 prog, 1 *file*, 2 *include*, 3 local, 4 smtp, 5 the long one (cut to 20); 8 unnamed
    names = [(line[:2], line[69:]) for line in lines[1:5]]
    assert names == [(" 1", "*file*"), (" 3", "local"), (" 5", "abcdefghijklmnopqrst"), (" 8", "")]


def test_too_many_mailers(tmp_path: Path) -> None:
    cf = tmp_path / "sendmail.cf"
    cf.write_text("".join(f"Mm{i}, P=x\n" for i in range(23)))
    err = io.StringIO()
    assert mailstats_main(["-C", str(cf), "-f", "x"], None, stderr=err) == 70
    assert err.getvalue() == "Too many mailers defined, 25 max.\n"
