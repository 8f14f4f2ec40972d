"""The aliases parser: every form, both continuation forms, errors with their lines, duplicates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from postroom.core.aliases import AliasFileError, Kind, parse_aliases
from postroom.core.aliases.elements import ElementSyntaxError, parse_element, split_list

from tests.aliases.helpers import DOMAINS, transcript_aliases

PATH = "/etc/postroom/aliases"


def parse(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return parse_aliases(data, PATH, local_domains=DOMAINS)


def problems(text: str | bytes) -> list[str]:
    with pytest.raises(AliasFileError) as info:
        parse(text)
    return list(info.value.lines)


def test_transcript_file_values_and_keys() -> None:
    source = parse(transcript_aliases())
    values = source.as_dict()
    assert list(values)[:3] == ["postmaster", "mailer-daemon", "root"]
    assert values["mailer-daemon"] == "postmaster"
    # continuation by leading white space keeps the white space
    assert values["staff"] == "alice,\tbob,  carol"
    # backslash-newline disappears entirely
    assert values["longlist"] == "alice, bob"
    assert values["team"] == ":include:/srv/testdir1/team.list"
    assert values["pipe"] == '"|cat >/dev/null"'
    assert source.warnings == ()
    assert (source.stored, source.longest, source.total) == (15, 34, 378)


def test_every_element_form() -> None:
    source = parse(
        "list: alice, \\bob, carol@example.test, dave@remote.example, Eve <eve@remote.example>,"
        ' /var/log/list, "|/usr/bin/prog a b", |/bin/true, :include:/etc/postroom/x,'
        ' "/path with space", frank (a comment)\n'
    )
    kinds = [(e.kind, e.value, e.quoted) for e in source.entries[0].elements]
    assert kinds == [
        (Kind.LOCAL, "alice", False),
        (Kind.LOCAL, "bob", True),
        (Kind.LOCAL, "carol", False),
        (Kind.REMOTE, "dave@remote.example", False),
        (Kind.REMOTE, "eve@remote.example", False),
        (Kind.FILE, "/var/log/list", False),
        (Kind.PROGRAM, "|/usr/bin/prog a b", False),
        (Kind.PROGRAM, "|/bin/true", False),
        (Kind.INCLUDE, "/etc/postroom/x", False),
        (Kind.FILE, "/path with space", False),
        (Kind.LOCAL, "frank", False),
    ]
    assert [e.shown for e in source.entries[0].elements][6] == '"|/usr/bin/prog a b"'


def test_program_with_quoted_command_after_bar() -> None:
    element = parse_element("|\"sh -c 'exit 0'\"")
    assert (element.kind, element.value) == (Kind.PROGRAM, "|sh -c 'exit 0'")


def test_keys_lower_cased_and_local_domain_left_sides() -> None:
    source = parse("Root: a\nPostMaster: b\nSales@Example.Test: c\n")
    assert [e.key for e in source.entries] == ["root", "postmaster", "sales"]


def test_comments_blank_lines_and_commented_continuations() -> None:
    source = parse("# comment\n\n# another\n  still the comment\nname: value\n")
    assert source.as_dict() == {"name": "value"}


def test_backslash_continuation_takes_any_next_line() -> None:
    source = parse("a: b,\\\nc\nd: e\n")
    assert source.as_dict() == {"a": "b,c", "d": "e"}


def test_both_continuations_chain_and_report_last_line() -> None:
    source = parse("x: a,\\\n  b,\n\tc\ny: d\n")
    entry = source.entries[0]
    assert entry.value == "a,  b,\tc"
    assert (entry.first_line, entry.line) == (1, 3)
    assert source.entries[1].line == 4


def test_duplicate_keeps_first_with_sendmail_warning() -> None:
    source = parse("root: alice\nok: x\nROOT: bob\n")
    assert source.as_dict()["root"] == "alice"
    assert source.warnings == (f"{PATH}: line 3: ROOT... Warning: duplicate alias name root",)
    assert source.stored == 3  # Sendmail counts the duplicate too


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok: a\nnocolon here\n", f"{PATH}: line 2: missing colon"),
        ("  lead: x\n", f"{PATH}: line 1: Non-continuation line starts with space"),
        ("ok: a\n\n  lead: x\n", f"{PATH}: line 3: Non-continuation line starts with space"),
        ("empty:\n", f"{PATH}: line 1: empty:... missing value for alias"),
        ("a: b\nempty2:   \n", f"{PATH}: line 2: empty2:   ... missing value for alias"),
        (
            "foo@remote.example: root\n",
            f"{PATH}: line 1: foo@remote.example... cannot alias non-local names",
        ),
        ("|prog: root\n", f"{PATH}: line 1: |prog... cannot alias non-local names"),
        ("/file: root\n", f"{PATH}: line 1: /file... cannot alias non-local names"),
        ("a b: c\n", f"{PATH}: line 1: a b: c... illegal alias name"),
        ('"quoted name": c\n', f'{PATH}: line 1: "quoted name": c... illegal alias name'),
        (": c\n", f"{PATH}: line 1: : c... illegal alias name"),
        ('q: "unbalanced\n', f"{PATH}: line 1: \"unbalanced... Unbalanced '\"'"),
        ("q: <a@b\n", f"{PATH}: line 1: <a@b... Unbalanced '<'"),
        ("q: a@b>\n", f"{PATH}: line 1: a@b>... Unbalanced '>'"),
        ("q: (x\n", f"{PATH}: line 1: (x... Unbalanced '('"),
    ],
)
def test_errors_name_file_and_line(text: str, expected: str) -> None:
    assert problems(text) == [expected]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"ok: a\r\nb: c\n", "carriage return"),
        (b"ok: a\nb: c\x00d\n", "NUL byte"),
        (b"ok: a\nb: \xff\xfe\n", "invalid UTF-8"),
        (b"ok: a\nb: c\x1bd\n", "control character 0x1b"),
    ],
)
def test_refused_bytes_reject_the_whole_file(data: bytes, why: str) -> None:
    lines = problems(data)
    assert len(lines) == 1
    line = 1 if data.startswith(b"ok: a\r") else 2
    assert lines[0].startswith(f"{PATH}: line {line}: ")
    assert why in lines[0]


def test_all_problems_reported_in_line_order() -> None:
    lines = problems('a: b\nbad\nc:\nd: "x\n')
    assert [line.split(": ")[1] for line in lines] == ["line 2", "line 3", "line 4"]


def test_line_too_long() -> None:
    assert problems("a: " + "b," * 5000 + "\n") == [f"{PATH}: line 1: alias line too long"]


def test_utf8_keys_and_values_count_bytes() -> None:
    source = parse("jörg: jürgen\n")
    assert source.as_dict() == {"jörg": "jürgen"}
    assert (source.longest, source.total) == (7, 12)


def test_split_list_keeps_quoted_commas() -> None:
    assert split_list('"|prog a,b", c ,, d') == ['"|prog a,b"', "c", "d"]
    with pytest.raises(ElementSyntaxError):
        split_list('"open')


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_raise_alias_file_error(data: bytes) -> None:
    try:
        source = parse_aliases(data, PATH, local_domains=DOMAINS)
    except AliasFileError as exc:
        assert exc.problems
        assert all(p.render(PATH).startswith(f"{PATH}: ") for p in exc.problems)
    else:
        assert all(e.key == e.key.strip() and e.key for e in source.entries)


ALIAS_ALPHABET = st.sampled_from([*'ab:, \t\n\\"<>()|/@#.x-', ":include:", "\r", "é"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALIAS_ALPHABET, max_size=80).map("".join))
def test_alias_like_text_parses_or_raises(text: str) -> None:
    try:
        parse(text)
    except AliasFileError as exc:
        assert exc.problems
