"""Expansion: self-reference, loops, depth and fan-out limits, owner- lists, trust, :include:."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from postroom.core.aliases import AliasFileError, ControllingUser, Kind, verify

from tests.aliases.helpers import HOST, expander, safe_dir, table_from


def targets(expansion) -> list[tuple[str, str]]:
    return [(d.kind.value, d.address) for d in expansion.deliveries]


def failures(expansion) -> list[str]:
    return [f.reply for f in expansion.failures]


def test_self_reference_delivers_mailbox_once_plus_the_rest() -> None:
    ex = expander(table_from("alice: alice, bob, alice\n"))
    result = ex.expand("alice")
    assert targets(result) == [("local", "alice"), ("local", "bob")]
    assert result.failures == () and result.aliased


def test_two_alias_loop_is_broken() -> None:
    ex = expander(table_from("a1: a2\na2: a1, bob\n"))
    result = ex.expand("a1")
    assert targets(result) == [("local", "bob")]
    assert failures(result) == ["554 5.4.6 a1... aliasing/forwarding loop broken"]


def test_depth_limit() -> None:
    chain = "".join(f"l{i}: l{i + 1}\n" for i in range(11)) + "l11: alice\n"
    table = table_from(chain)
    # l2 .. l11 are ten nested aliases: fine (Sendmail's MaxAliasRecursion is 10)
    assert targets(expander(table).expand("l2")) == [("local", "alice")]
    result = expander(table).expand("l1")
    assert result.deliveries == ()
    assert failures(result) == [
        "554 5.4.6 alice... aliasing/forwarding loop broken (11 aliases deep; 10 max)"
    ]
    assert failures(expander(table, max_depth=3).expand("l8")) == [
        "554 5.4.6 alice... aliasing/forwarding loop broken (4 aliases deep; 3 max)"
    ]


def test_fan_out_limit_fails_the_whole_address() -> None:
    table = table_from("big: " + ", ".join(f"u{i}@remote.example" for i in range(6)) + "\n")
    assert len(expander(table, max_fanout=6).expand("big").deliveries) == 6
    result = expander(table, max_fanout=5).expand("<big@mail.example.test>")
    assert result.deliveries == ()
    assert failures(result) == [
        "554 5.5.3 <big@mail.example.test>... alias expansion too large (more than 5 addresses)"
    ]


def test_repeated_sub_lists_are_expanded_once() -> None:
    text = "".join(f"n{i}: " + ", ".join([f"n{i + 1}"] * 20) + "\n" for i in range(9))
    text += "n9: alice, bob\n"
    # 20**9 paths: without expanding each alias once this would hit the work limit
    result = expander(table_from(text)).expand("n0")
    assert targets(result) == [("local", "alice"), ("local", "bob")]
    assert result.failures == ()


def test_duplicates_suppressed_across_branches() -> None:
    result = expander(table_from("a: b, c\nb: alice, x@r.example\nc: ALICE, x@R.Example\n")).expand(
        "a"
    )
    assert targets(result) == [("local", "alice"), ("esmtp", "x@r.example")]


def test_owner_alias_rewrites_envelope_sender() -> None:
    text = (
        "biglist: alice, bob\nowner-biglist: carol\n"
        "team: dave, inner\nowner-team: team-request\nteam-request: alice, bob\n"
        "inner: x@remote.example\nowner-inner: a, b\n"
        "plain: alice\n"
    )
    ex = expander(table_from(text))
    assert {d.sender for d in ex.expand("biglist").deliveries} == {f"carol@{HOST}"}
    team = {d.address: d.sender for d in ex.expand("team").deliveries}
    assert team == {"dave": f"team-request@{HOST}", "x@remote.example": f"owner-inner@{HOST}"}
    assert {d.sender for d in ex.expand("plain").deliveries} == {None}


def test_owner_of_owner_list_is_owner_owner() -> None:
    ex = expander(table_from("owner-x: alice, bob\nowner-owner: postmaster@example.org\nx: y\n"))
    assert {d.sender for d in ex.expand("owner-x").deliveries} == {"postmaster@example.org"}


def test_programs_and_files_carry_the_controlling_user() -> None:
    ex = expander(table_from('pipe: "|/usr/bin/prog a"\nlog: /var/log/list\n'))
    (prog,) = ex.expand("pipe").deliveries
    assert (prog.kind, prog.address, prog.shown) == (
        Kind.PROGRAM,
        "|/usr/bin/prog a",
        '"|/usr/bin/prog a"',
    )
    assert prog.owner == ControllingUser("nobody", 65534, 65534, "pipe")
    assert prog.controlling_user == "nobody:65534:65534:pipe"
    (log,) = ex.expand("log").deliveries
    assert (log.kind, log.controlling_user) == (Kind.FILE, "nobody:65534:65534:log")
    assert ex.expand("alice").deliveries[0].controlling_user is None


def test_untrusted_table_refuses_programs_files_and_includes() -> None:
    text = 'evil: "|/bin/sh -c x", /etc/passwd, :include:/etc/x, alice\n'
    result = expander(table_from(text, trusted=False)).expand("evil")
    assert targets(result) == [("local", "alice")]
    assert failures(result) == [
        '550 5.7.1 "|/bin/sh -c x"... Address evil is unsafe for mailing to programs',
        "550 5.7.1 /etc/passwd... Address evil is unsafe for mailing to files",
        "550 5.7.1 :include:/etc/x... Address evil is unsafe for mailing to :include:s",
    ]


@pytest.mark.parametrize(
    ("address", "text"),
    [
        ("|/bin/true", "Cannot mail directly to programs"),
        ("/tmp/x", "Cannot mail directly to files"),
        (":include:/tmp/x", "Cannot mail directly to :include:s"),
    ],
)
def test_direct_programs_files_includes_refused(address: str, text: str) -> None:
    result = expander(table_from("a: b\n")).expand(address)
    assert failures(result) == [f"550 5.7.1 {address}... {text}"]


def test_local_remote_and_unknown() -> None:
    ex = expander(table_from("a: b\n"))
    primary = ex.expand("<bob@example.test>")
    assert primary.unchanged and targets(primary) == [("local", "bob@example.test")]
    assert targets(ex.expand("<x@remote.example>")) == [("esmtp", "x@remote.example")]
    unknown = ex.expand("<nobody-here@mail.example.test>")
    assert failures(unknown) == ["550 5.1.1 nobody-here@mail.example.test... User unknown"]
    assert ex.expand("POSTMASTER").deliveries[0].address == "POSTMASTER"


def test_backslash_skips_aliases() -> None:
    ex = expander(table_from('tom: \\tom, "|/usr/bin/vacation tom"\n'), local=("tom",))
    result = ex.expand("tom")
    assert targets(result) == [("local", "tom"), ("prog", "|/usr/bin/vacation tom")]
    assert result.deliveries[0].quoted


def test_transcript_note_for_lists() -> None:
    ex = expander(table_from("staff: alice, bob\n"))
    assert ex.expand("staff").transcript_lines() == ["staff... expanded to multiple addresses"]
    assert ex.expand("alice").transcript_lines() == []


def test_verify_order_and_status_like_sendmail() -> None:
    ex = expander(table_from("nest: staff, root\nstaff: ann, ben\n"), local=("root",))
    result = verify(ex, ["nest"])
    assert result.lines == (
        "ben... User unknown",
        "ann... User unknown",
        "root... deliverable: mailer local, user root",
    )
    assert result.status == 67
    assert verify(ex, ["root", "\\root"]).lines == ("root... deliverable: mailer local, user root",)
    assert verify(ex, ["\\root"]).lines == ("\\root... deliverable: mailer local, user \\root",)
    remote = verify(ex, ["y@remote.example"])
    assert remote.lines == (
        "y@remote.example... deliverable: mailer esmtp, host remote.example, user y@remote.example",
    )
    assert remote.status == 0
    assert verify(ex, ["|/bin/true"]).status == 64
    relayed = verify(ex, ["y@remote.example"], smart_host="[smart.example]")
    assert relayed.lines[0].endswith("mailer relay, host [smart.example], user y@remote.example")


class TestInclude:
    def setup_method(self) -> None:
        self._ctx = safe_dir()
        self.dir = self._ctx.__enter__()

    def teardown_method(self) -> None:
        self._ctx.__exit__(None, None, None)

    def list_file(self, text: str, name: str = "team.list", mode: int = 0o644) -> Path:
        path = self.dir / name
        path.write_text(text)
        os.chmod(path, mode)
        return path

    def run(self, path: Path, **kw: object):
        table = table_from(f"team: :include:{path}, dave\n", source=self.dir / "aliases")
        return expander(table, **kw).expand("team")  # type: ignore[arg-type]

    def test_include_in_allowed_folder(self) -> None:
        path = self.list_file("# members\nalice, bob\n\ncarol@example.test\nx@remote.example\n")
        result = self.run(path)
        assert targets(result) == [
            ("local", "alice"), ("local", "bob"), ("local", "carol"),
            ("esmtp", "x@remote.example"), ("local", "dave"),
        ]  # fmt: skip
        assert result.failures == ()

    def test_outside_allowed_folder(self) -> None:
        with safe_dir() as elsewhere:
            path = elsewhere / "list"
            path.write_text("alice\n")
            result = self.run(path)
        assert targets(result) == [("local", "dave")]
        assert failures(result) == [
            f"550 5.2.4 :include:{path}... Cannot open {path}: "
            "outside the folders allowed for :include: files"
        ]

    def test_symlink_refused(self) -> None:
        real = self.list_file("alice\n")
        link = self.dir / "link.list"
        link.symlink_to(real)
        assert failures(self.run(link)) == [
            f"550 5.2.4 :include:{link}... Cannot open {link}: Symbolic links not allowed"
        ]

    def test_group_writable_refused(self) -> None:
        path = self.list_file("alice\n", mode=0o664)
        assert failures(self.run(path))[0].endswith("Group writable file")

    def test_commands_in_include_refused_by_default(self) -> None:
        path = self.list_file('alice\n"|/usr/bin/prog x"\n/var/log/file\n')
        result = self.run(path)
        assert targets(result) == [("local", "alice"), ("local", "dave")]
        assert failures(result) == [
            f'550 5.7.1 "|/usr/bin/prog x"... Address :include:{path} is unsafe for mailing'
            " to programs",
            f"550 5.7.1 /var/log/file... Address :include:{path} is unsafe for mailing to files",
        ]
        allowed = self.run(path, allow_include_programs=True)
        assert ("prog", "|/usr/bin/prog x") in targets(allowed)

    def test_missing_include(self) -> None:
        path = self.dir / "absent.list"
        assert failures(self.run(path)) == [
            f"550 5.2.4 :include:{path}... Cannot open {path}: No such file or directory"
        ]

    def test_bad_line_bounces_with_its_number(self) -> None:
        path = self.list_file('alice\n"open\n')
        assert failures(self.run(path)) == [
            f"553 5.3.5 {path}: line 2... \"open... Unbalanced '\"'"
        ]

    def test_restricted_reader_cannot_read(self) -> None:
        path = self.list_file("alice\n", mode=0o600)
        result = self.run(path, reader=(4242, (4242,)))
        assert failures(result) == [
            f"550 5.2.4 :include:{path}... Cannot open {path}: Permission denied"
        ]
        assert targets(self.run(path)) == [("local", "alice"), ("local", "dave")]


NAMES = st.sampled_from(["a", "b", "c", "alice", "\\alice", "x@remote.example", "b@example.test"])
TARGETS = st.one_of(
    NAMES, st.sampled_from(['"|/bin/true"', "/tmp/f", ":include:/nonexistent", '"'])
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.lists(TARGETS, min_size=1, max_size=4))
    ),
    NAMES,
    st.booleans(),
)
def test_expansion_never_crashes(entries, address: str, trusted: bool) -> None:
    text = "".join(f"{key}: {', '.join(values)}\n" for key, values in entries)
    try:
        table = table_from(text, trusted=trusted)
    except AliasFileError:
        return
    result = expander(table, max_fanout=5).expand(address)
    assert all(f.reply[:3] in ("550", "553", "554", "451") for f in result.failures)
    assert len(result.deliveries) <= 5
