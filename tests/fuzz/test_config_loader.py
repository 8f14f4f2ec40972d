"""Fuzzing the config loader with well-formed TOML of every shape, and with ``-O`` overrides.

tests/config/test_loader.py already feeds it broken TOML lines; this target
writes *valid* TOML (through tomlkit, so every string is properly escaped)
whose keys are mostly real option names -- top level, dotted ``Timeout.x``
or inside a ``[Timeout]`` table -- and whose values are any TOML value: big
and negative integers, floats (``inf``, ``nan``), booleans, dates, strings
with control characters, arrays (mixed, nested), tables.  Properties:

- :func:`load_config` returns a ``Config`` or raises ``ConfigError`` and
  nothing else;
- every problem names the file; one that names an option that is in the
  file names a line, and that line of the file mentions the option (or is
  inside the array or table that holds it);
- ``-O`` overrides on top give a ``Config`` or a ``ConfigError`` in the
  ``-O Option: reason`` form.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.config.loader import ConfigError, load_config
from postroom.core.config.options import option_names

from tests.config.helpers import write_config

from .budget import fuzz_settings

pytestmark = pytest.mark.fuzz

NAMES = option_names()
TIMEOUTS = sorted(n.partition(".")[2] for n in NAMES if n.startswith("Timeout."))
PLAIN = [n for n in NAMES if not n.startswith("Timeout.")]

scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 25, 587, 65536, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "5m",
            "30s",
            "7d",
            "0",
            "Name=MTA, Port=25",
            "Name=X, Port=x",
            "mbox",
            "maildir",
            "[relay.example]:587",
            "10.0.0.0/8",
            "::/0",
            "goaway,noetrn",
            "/var/spool/x",
            "relative/path",
            "",
            " ",
            "\x00",
            "\u202e",
        ]
    ),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "Name", "Port", "x y"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in draw(
        st.lists(st.sampled_from(PLAIN) | st.text(min_size=1, max_size=12), max_size=8, unique=True)
    ):
        doc[name] = draw(values)
    timeouts = draw(
        st.dictionaries(st.sampled_from(TIMEOUTS) | st.text(max_size=8), values, max_size=3)
    )
    if timeouts:
        if draw(st.booleans()):
            doc["Timeout"] = timeouts
        else:
            doc.update({f"Timeout.{k}": v for k, v in timeouts.items()})
    return doc


overrides = st.lists(
    st.builds(
        lambda name, sep, value: f"{name}{sep}{value}",
        st.sampled_from(NAMES) | st.text(max_size=10),
        st.sampled_from(["=", "=", ""]),
        st.text(max_size=20) | st.sampled_from(["1", "5m", "true", "Name=A, Port=1"]),
    ),
    max_size=3,
)


def _mentions(text: str, line: int, option: str) -> bool:
    """Whether ``line`` names ``option``: its key, or the table or array that holds its value.

    For ``Timeout.x`` the ``[Timeout]`` table's own line counts too (the loader
    points there when the value is a sub-table further down).
    """
    lines = text.split("\n")  # as TOML counts lines (not str.splitlines: U+0085...)
    keys = [option]
    if option.startswith("Timeout."):
        keys += [option.partition(".")[2], "[Timeout]"]
    for number in range(line, 0, -1):
        here = lines[number - 1]
        if any(key in here for key in keys):
            return True
        if number < line and (" = " in here or here.startswith("[")):
            return False
    return False


@fuzz_settings(250)
@given(doc=documents(), extra=overrides)
def test_valid_toml_of_any_shape_loads_or_names_its_problem(
    doc: dict[str, Any], extra: list[str]
) -> None:
    text = tomlkit.dumps(doc)
    with tempfile.TemporaryDirectory() as folder:
        path = write_config(Path(folder), text)
        try:
            load_config(path)
        except ConfigError as exc:
            for problem in exc.problems:
                assert str(problem).startswith(str(path)), str(problem)
                assert 0 <= problem.line <= text.count("\n") + 1, str(problem)
                if problem.line and problem.option in NAMES and problem.option in text:
                    assert _mentions(text, problem.line, problem.option), (str(problem), text)
        try:
            load_config(path, extra)
        except ConfigError as exc:
            for problem in exc.problems:
                assert str(problem).startswith((str(path), "-O ")), str(problem)


def test_a_line_separator_inside_a_string_does_not_shift_line_numbers(tmp_path: Path) -> None:
    """Regression (found by this fuzzer): U+0085 in a value moved every later error's line."""
    path = write_config(tmp_path, 'QueueDirectory = "a\x85b\u2028c"\nLogLevel = "high"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = {p.option: p.line for p in caught.value.problems}
    assert lines == {"QueueDirectory": 1, "LogLevel": 2}, [str(p) for p in caught.value.problems]
