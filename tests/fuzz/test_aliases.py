"""Fuzzing the aliases parser with files built from the element grammar, through the compiler.

tests/aliases/test_parser.py feeds :func:`parse_aliases` random bytes and a
random mix of alias characters; this target builds files that look like real
ones -- keys of every case (and some that are illegal), right sides made of
local users, remote addresses, ``\\user``, ``|programs`` (quoted, with
commas), ``/files``, ``:include:`` lists, angle and comment forms, continued
on the next line -- with comments, blank lines and duplicates.  Properties:

- ``parse_aliases`` returns an ``AliasSource`` or raises ``AliasFileError``
  whose every problem is ``<file>: line <n>: ...`` with ``n`` a line of the file;
- an accepted file: keys are unique and lower case, the first of two
  duplicates is kept and the second warned about, every entry's elements are
  what ``parse_list`` makes of its value, and :class:`AliasTable` finds each
  entry under any capitalisation of its key;
- ``newaliases`` compiles it and ``praliases`` prints the same key/value pairs;
- :func:`parse_list_file` (``:include:`` files) never raises on any bytes,
  numbers its lines within the file and never gives a line both elements and
  an error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from postroom.core.aliases import AliasFileError, AliasTable, parse_aliases
from postroom.core.aliases.compile import newaliases, praliases
from postroom.core.aliases.elements import parse_list
from postroom.core.aliases.listfile import parse_list_file

from tests.aliases.helpers import DOMAINS

from .budget import fuzz_settings

pytestmark = pytest.mark.fuzz

KEYS = ["postmaster", "Root", "MAILER-DAEMON", "info", "sales.team", "a_b", "x-y", "ÄÖ",
        "bob@example.test", "bob@remote.example", "a b", "\"q\"", "|prog", "/file", ""]  # fmt: skip
ELEMENTS = ["alice", "bob", "Alice", "\\alice", "carol@remote.example", "<dave@example.test>",
            "Dave <dave@example.test>", "(comment) erin", "frank (comment)", "|/bin/cat",
            "\"|/usr/bin/prog -a, -b\"", "/var/mail/archive", ":include:/etc/postroom/list",
            "\":include: /x y\"", "\"quoted local\"@example.test", "error:5.1.1:550 gone",
            "\"unbalanced", "a@", "@b", "<>", "alice,,bob"]  # fmt: skip

rhs = st.lists(st.sampled_from(ELEMENTS), min_size=1, max_size=4).flatmap(
    lambda items: st.lists(st.sampled_from([", ", ",", " , ", ",\n\t", ",\n "]),
                           min_size=len(items) - 1, max_size=len(items) - 1).map(
        lambda seps: items[0] + "".join(s + i for s, i in zip(seps, items[1:], strict=True))
    )
)  # fmt: skip
entry = st.builds(
    lambda key, colon, value: f"{key}{colon}{value}",
    st.sampled_from(KEYS),
    st.sampled_from([": ", ":", " : ", ":\t"]),
    rhs,
)
line = st.one_of(entry, entry, entry, st.sampled_from(["", "# comment", "  # indented", " x"]))
files = st.lists(line, max_size=10).map(lambda lines: "\n".join(lines) + "\n")


def _case_variants(key: str) -> list[str]:
    return [key, key.upper(), key.capitalize()]


@fuzz_settings(300)
@given(text=files)
def test_grammar_built_aliases_files(text: str) -> None:
    path = "/etc/postroom/aliases"
    data = text.encode()
    lines = text.count("\n")
    try:
        source = parse_aliases(data, path, local_domains=DOMAINS)
    except AliasFileError as exc:
        for problem in exc.problems:
            assert 1 <= problem.line <= lines + 1, problem
            assert problem.render(path).startswith(f"{path}: line {problem.line}: ")
        return
    keys = [e.key for e in source.entries]
    assert len(keys) == len(set(keys))
    assert all(k == k.lower() or not k.isascii() for k in keys)
    table = AliasTable.from_source(source)
    for e in source.entries:
        assert e.elements == tuple(parse_list(e.value, DOMAINS))
        for variant in _case_variants(e.key):
            if variant.isascii():
                assert table.lookup(variant) == e.value
    assert len(source.warnings) == source.stored - len(source.entries)
    with tempfile.TemporaryDirectory() as folder:
        alias_file = Path(folder) / "aliases"
        alias_file.write_bytes(data)
        alias_file.chmod(0o644)
        result = newaliases(alias_file, local_domains=DOMAINS)
        printed = praliases(result.db_path)
    assert printed == [f"{e.key}:{e.value}" for e in source.entries] + ["@:@"]


@fuzz_settings(600)
@given(data=st.binary(max_size=300) | files.map(str.encode))
def test_include_files_never_raise(data: bytes) -> None:
    lines = parse_list_file(data, DOMAINS)
    numbers = [ln.number for ln in lines]
    assert numbers == sorted(set(numbers))
    assert all(1 <= n <= data.count(b"\n") + 1 for n in numbers)
    for ln in lines:
        assert ln.error is None or not ln.elements
