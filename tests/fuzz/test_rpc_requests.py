"""Fuzzing the ``--rpc`` request loop: any line in, only well-formed protocol lines out.

Each example runs the real :func:`serve` (in this process, on byte streams)
over a fresh copy of a small installation -- config, queue with a message,
aliases file -- and feeds it a generated session: requests for every method
but ``daemon.start`` (which would start a daemon) with generated params (the
method's own names with any JSON value, unknown names, params that are not
an object), and broken lines (not JSON, not UTF-8, not an object, ids of the
wrong type or too long, methods that do not exist or are not strings, deep
nesting).  Properties:

- every output line is one JSON object; each request line gets exactly one
  final reply (``result`` or ``error``), in order, any ``chunk`` lines of it
  before it with its id;
- a reply carries the request's id when that id was valid, else ``null``;
- every error has a known code and a message, and never ``internal`` (the
  server's word for "a handler raised something unexpected").
"""

from __future__ import annotations

import gc
import io
import json
import random
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.control.protocol import ERROR_CODES, INTERNAL, MAX_ID_LENGTH, valid_id
from postroom.core.control.registry import METHODS
from postroom.core.control.server import serve

from bench.mailgen import SmtpClient, make_message
from tests.control.support import write_config
from tests.support.mta import MtaSetup, RunningMta

from .budget import fuzz_settings

pytestmark = pytest.mark.fuzz

NAMES = sorted(name for name in METHODS if name != "daemon.start")
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "*",
            "",
            "6APNx0AA000001",
            "qf",
            "../etc",
            "\x00",
            "alice",
            "minute",
            "sender",
            "-1",
            "MTA",
            "goaway",
            "Name=X, Port=1",
        ]
    ),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
ids: st.SearchStrategy[Any] = st.one_of(
    st.integers(-(2**40), 2**40),
    st.integers(-(2**40), 2**40),
    st.text(min_size=1, max_size=MAX_ID_LENGTH),
    st.sampled_from([None, True, 1.5, "", "x" * (MAX_ID_LENGTH + 1), [], {}]),
)
QID = st.sampled_from(["QUEUED", "6APNx0AA000001", "", "*", "../x"])  # QUEUED: the real one
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "id": QID,
    "ids": st.lists(QID, max_size=3),
    "queues": st.lists(st.sampled_from(["qf", "hf", "Qf", "xx"]), max_size=3),
    "sort": st.sampled_from(["none", "age", "size", "sender", "priority", "bogus"]),
    "limit": st.integers(-1, 10**6),
    "offset": st.integers(-1, 10**6),
    "body_bytes": st.integers(-1, 2**21),
    "top": st.integers(-1, 100),
    "lines": st.integers(-1, 10**5),
    "interval": st.floats(-1, 100),
    "start": st.floats(-1, 2**41),
    "end": st.floats(-1, 2**41),
    "resolution": st.sampled_from(["auto", "minute", "hour", "day"]),
    "by": st.sampled_from(["recipient", "sender", "x"]),
    "sender": st.text(max_size=10),
    "recipient": st.text(max_size=10),
    "domain": st.text(max_size=10),
    "status": st.text(max_size=10),
    "min_age": st.integers(-1, 10**6),
    "descending": st.booleans(),
    "reason": st.text(max_size=20),
    "all": st.booleans(),
    "dry_run": st.just(True),
    "reload": st.booleans(),
    "rebuild": st.booleans(),
    "base_sha256": st.text(max_size=64),
    "text": st.sampled_from(["postmaster: root\n", "a b\n", "x: |prog\n", "\x00"]),
    "user": st.sampled_from(["alice", "root", "../etc", ""]),
    "settings": st.dictionaries(
        st.sampled_from(["enabled", "subject", "message", "days"]), json_scalar, max_size=3
    ),
    "changes": st.dictionaries(
        st.sampled_from(["LogLevel", "HostName", "MaxMessageSize", "Bogus", "Timeout.command"]),
        json_scalar,
        max_size=2,
    ),
    "flags": st.lists(st.sampled_from(["goaway", "noetrn", "authwarnings", "bogus"]), max_size=3),
    "listeners": st.lists(
        st.sampled_from(["Name=MTA, Port=2525, Addr=127.0.0.1", "Name=X", "garbage"]), max_size=2
    ),
    "events": st.lists(st.sampled_from(["queue.changed", "stats.tick", "bogus"]), max_size=2),
}


QUEUED_QID = "6APNx0AA000002"  # the message the installation holds (renamed to this id)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["call", "call", "call", "call", "broken"]))
    if kind == "broken":
        return draw(
            st.sampled_from(
                [
                    b"not json",
                    b"[]",
                    b"42",
                    b'"text"',
                    b"{",
                    b"\xff\xfe{}",
                    b'{"id": 1}',
                    b'{"id": 1, "method": 7}',
                    b'{"method": "server.info"}',
                    b"[" * 5000 + b"]" * 5000,
                    b'{"id": 1, "method": "queue.lst"}',
                    b'{"id": 2, "method": "server.info", "params": []}',
                    b'{"id": 3, "method": "server.info", "params": null}',
                    b"{}",
                ]
            )
        )
    name = draw(st.sampled_from(NAMES) if draw(st.integers(0, 9)) else st.text(max_size=15))
    allowed = sorted(METHODS[name].params) if name in METHODS else []
    params: Any = {}
    for key in draw(st.lists(st.sampled_from(allowed), unique=True)) if allowed else []:
        params[key] = draw(
            PLAUSIBLE.get(key, json_value) if draw(st.integers(0, 4)) else json_value
        )
    if not draw(st.integers(0, 9)):
        params = draw(st.dictionaries(st.text(max_size=6), json_value, max_size=2) | json_value)
    message: dict[str, Any] = {"id": draw(ids), "method": name}
    if draw(st.booleans()) or params:
        message["params"] = params
    return json.dumps(message).encode().replace(b'"QUEUED"', b'"%s"' % QUEUED_QID.encode())


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config folder with one queued message and an aliases file, copied per example."""
    base = tmp_path_factory.mktemp("fuzz-rpc")
    setup = MtaSetup(base / "queuer")
    setup.write(listeners={"MTA": ""})
    with RunningMta(setup) as mta:
        client = SmtpClient(mta.port())
        client.send(make_message("rpcfuzz", random.Random(1), ["alice@example.test"], size=500))
        client.quit()
    template = base / "template"
    config = write_config(template)
    for item in setup.queue_dir.iterdir():
        if item.is_file() and item.name[:2] in ("qf", "df"):
            shutil.copy2(item, template / "mqueue" / (item.name[:2] + QUEUED_QID))
    (template / "aliases").write_text("postmaster: root\ninfo: alice, bob\n")
    config.write_text(config.read_text() + f'AliasFile = "{template / "aliases"}"\n')
    yield template


def run_session(template: Path, lines: list[bytes]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "mta"
        shutil.copytree(template, copy)
        text = (copy / "postroom.toml").read_text().replace(str(template), str(copy))
        (copy / "postroom.toml").write_text(text)
        stdin = io.BytesIO(b"".join(line + b"\n" for line in lines))
        stdout = io.BytesIO()
        assert serve(stdin, stdout, copy / "postroom.toml") == 0
    out = []
    for raw in stdout.getvalue().splitlines():
        message = json.loads(raw)
        assert isinstance(message, dict), raw
        out.append(message)
    return out


def _request_id(line: bytes) -> object:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    value = message.get("id")
    return value if valid_id(value) else None


@fuzz_settings(250)
@given(lines=st.lists(requests(), min_size=1, max_size=6))
def test_any_request_gets_one_well_formed_reply(installation: Path, lines: list[bytes]) -> None:
    replies = [m for m in run_session(installation, lines) if "event" not in m]
    finals = [m for m in replies if "result" in m or "error" in m]
    assert len(finals) == len(lines), (lines, replies)
    want_ids = iter(_request_id(line) for line in lines)
    current = next(want_ids)
    for message in replies:
        assert message["id"] == current, (message, lines)
        if "chunk" in message:
            assert isinstance(message["chunk"], list)
            continue
        if "error" in message:
            error = message["error"]
            assert error["code"] in ERROR_CODES and isinstance(error["message"], str), message
            assert error["code"] != INTERNAL, message
        current = next(want_ids, "done")


def test_queue_run_closes_the_mail_log_it_opens(installation: Path) -> None:
    """Regression (found by this fuzzer): each ``queue.run`` left its MailLog file open."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        for _ in range(2):
            line = json.dumps({"id": 1, "method": "queue.run", "params": {"id": QUEUED_QID}})
            reply = run_session(installation, [line.encode()])[-1]
            assert "result" in reply, reply
        gc.collect()
