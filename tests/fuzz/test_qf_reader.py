"""Fuzzing the qf reader with damaged control files, alone and through sweep, reader and mailq.

Inputs are the real Sendmail 8.17 control files of tests/queue/data damaged
by a list of mutations -- bytes inserted, deleted, replaced, lines
duplicated, dropped, swapped or invented, the file cut short -- or plain
random bytes.  Properties:

- :func:`parse_qf` returns a :class:`QueueFile` or raises
  :class:`QueueFileError` naming the file and a line of it, nothing else;
- what it accepts it can write back: ``format_qf`` works and reading that
  gives the same value (a later rewrite by the queue runner loses nothing);
- in a queue folder, the start-up :func:`sweep`, the queue reader
  (:func:`iter_jobs`) and the ``mailq`` listing never raise; after the sweep
  the file is either still a ``qf`` that parses or set aside as ``Qf``.

(tests/queue/test_qf_roundtrip.py checks ``parse(format(q)) == q`` on valid
files; this target covers the damaged ones.)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.queue.errors import QueueFileError
from postroom.core.queue.jobs import iter_jobs
from postroom.core.queue.mailq import format_queue_listing
from postroom.core.queue.qf import QueueFile, format_qf, parse_qf
from postroom.core.queue.sweep import sweep

from .budget import fuzz_settings

pytestmark = pytest.mark.fuzz

QID = "6APNx0AA000001"
PATH = f"/queue/qf{QID}"
LETTERS = b"VTKNPIdBqFSZA!RQrMCH$.EDLXx \t"


KINDS = ("insert", "delete", "replace", "dup", "drop", "swap", "invent", "cut")
mutation = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 2**16),  # a byte position (taken modulo the length)
    st.integers(0, 2**16),  # a line number (likewise)
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from(LETTERS),
)


def mutate(data: bytes, kind: str, at: int, row: int, blob: bytes, letter: int) -> bytes:
    """One damage to a control file; positions wrap around its length."""
    buf = bytearray(data)
    lines = data.split(b"\n")
    at, row = at % (len(buf) + 1), row % len(lines)
    if kind == "insert":
        buf[at:at] = blob or b"\x00"
    elif kind == "delete":
        del buf[at : at + 1 + len(blob)]
    elif kind == "replace" and at < len(buf):
        buf[at] = (buf[at] + 1 + letter) % 256
    elif kind == "dup":
        return b"\n".join([*lines[: row + 1], *lines[row:]])
    elif kind == "drop":
        return b"\n".join(lines[:row] + lines[row + 1 :])
    elif kind == "swap":
        other = (row + 1 + len(blob)) % len(lines)
        lines[row], lines[other] = lines[other], lines[row]
        return b"\n".join(lines)
    elif kind == "invent":
        lines.insert(row, bytes([letter]) + blob)
        return b"\n".join(lines)
    elif kind == "cut":
        del buf[at:]
    return bytes(buf)


SEEDS = sorted(p.read_bytes() for p in (Path(__file__).parent.parent / "queue" / "data").iterdir())


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEEDS))
    for change in draw(st.lists(mutation, min_size=1, max_size=4)):
        data = mutate(data, *change)
    return data


control_files = mutated() | st.binary(max_size=300)


def _check_parse(data: bytes) -> QueueFile | None:
    try:
        qf = parse_qf(data, PATH)
    except QueueFileError as exc:
        assert str(exc).startswith(f"{PATH}: line "), str(exc)
        assert 0 <= exc.line <= data.count(b"\n") + 1, (exc.line, str(exc))
        return None
    again = parse_qf(format_qf(qf), PATH)
    assert again == qf
    return qf


@fuzz_settings(1200)
@given(data=control_files)
def test_damaged_control_files_parse_or_raise_queue_file_error(data: bytes) -> None:
    _check_parse(data)


@fuzz_settings(400)
@given(data=control_files, body=st.binary(max_size=50))
def test_sweep_reader_and_mailq_survive_damaged_files(data: bytes, body: bytes) -> None:
    accepted = _check_parse(data)
    folder = Path(tempfile.mkdtemp(prefix="fuzz-qf-"))
    try:
        (folder / f"qf{QID}").write_bytes(data)
        (folder / f"df{QID}").write_bytes(body)
        notes: list[str] = []
        sweep(folder, notes.append)
        names = {p.name for p in folder.iterdir()}
        if accepted is not None or data == b"":
            assert f"qf{QID}" in names, (names, notes)
        else:
            assert names >= {f"Qf{QID}", f"df{QID}"} and f"qf{QID}" not in names, (names, notes)
            assert any(n.startswith(f"Losing qf{QID}: ") for n in notes), notes
        jobs = list(iter_jobs(folder)) + list(iter_jobs(folder, lost=True))
        assert len(jobs) == 1
        for index in (False, True):
            listing = format_queue_listing(folder, index=index)
            assert listing.endswith("\n")
    finally:
        shutil.rmtree(folder)


GOAWAY = (Path(__file__).parent.parent / "queue" / "data" / "goaway-6APITkJh015270.qf").read_bytes()


def _rewrite_or_refuse(data: bytes) -> None:
    """Either the reader refuses the file, or the writer can write what it read."""
    try:
        qf = parse_qf(data, PATH)
    except QueueFileError:
        return
    assert parse_qf(format_qf(qf), PATH) == qf


def test_a_cr_in_a_header_is_refused_or_rewritable() -> None:
    """Found by this fuzzer.  It was read but could not be written back: every queue run
    re-delivered the job's delivered recipients, queued a new DSN and logged
    ``delivery failed: ValueError(...)``.  Now the reader refuses it, naming the line."""
    data = GOAWAY.replace(b"H??Subject: test", b"H??Subject: bare\rCR test")
    _rewrite_or_refuse(data)
    line = data[: data.index(b"\r")].count(b"\n") + 1
    with pytest.raises(QueueFileError, match=f"line {line}: CR inside a line"):
        parse_qf(data, PATH)


def test_recipient_flags_that_are_not_letters_are_refused_or_rewritable() -> None:
    """Found by this fuzzer (``R\x01PFD:<root>``, ``RPFD\x96/:<alice>``)."""
    data = GOAWAY.replace(b"\nRPFD:", b"\nRP-D:", 1)
    _rewrite_or_refuse(data)
    line = data[: data.index(b"\nRP-D:")].count(b"\n") + 2
    with pytest.raises(QueueFileError, match=f"line {line}: recipient flags must be letters"):
        parse_qf(data, PATH)
