"""makemap and the map lookups: access, virtusertable, genericstable, mailertable."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.aliases import (
    AccessKind,
    AccessMap,
    CompiledMap,
    GenericsTable,
    Mailertable,
    Virtusertable,
    compiled_path,
    load_domain_list,
    makemap_main,
)
from postroom.core.aliases.maps import ip_walk, parse_error_target

from tests.aliases.helpers import safe_dir
from tests.aliases.peer_tools import run_tool
from tests.peers.sendmail import SendmailInstall

SOURCE = b"""# access
Connect:192.168.1 REJECT
From:Spam@Example.com ERROR:5.7.1:550 go away
To:friend@example.org OK
example.net RELAY
"""
BROKEN = b"Connect:10 REJECT\n\nbad\n  lead x\ndup a\ndup b\n# c\n"


@pytest.fixture
def folder() -> Iterator[Path]:
    with safe_dir() as path:
        yield path


def makemap(args: list[str], data: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = makemap_main(args, stdin=io.BytesIO(data), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_makemap_builds_folds_and_dumps(folder: Path) -> None:
    name = folder / "access"
    code, out, err = makemap(["-v", "hash", str(name)], SOURCE)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "key=`connect:192.168.1', val=`REJECT'",
        "key=`from:spam@example.com', val=`ERROR:5.7.1:550 go away'",
        "key=`to:friend@example.org', val=`OK'",
        "key=`example.net', val=`RELAY'",
    ]
    assert compiled_path(name).exists()
    code, out, _ = makemap(["-u", "hash", str(name)])
    assert code == 0
    assert out.splitlines()[1] == "from:spam@example.com\tERROR:5.7.1:550 go away"
    code, out, _ = makemap(["-u", "-t:", "hash", str(name)])
    assert out.splitlines()[0] == "connect:192.168.1:REJECT"


def test_makemap_errors_keep_the_old_map(folder: Path) -> None:
    name = folder / "access"
    assert makemap(["hash", str(name)], SOURCE)[0] == 0
    before = compiled_path(name).read_bytes()
    code, out, err = makemap(["hash", str(name)], BROKEN)
    assert code == 65 and out == ""
    assert err.splitlines() == [
        f"makemap: {name}: line 3: no RHS for LHS bad",
        f"makemap: {name}: line 4: syntax error (leading space)",
        f"makemap: {name}: line 6: key dup: duplicate key",
        f"makemap: {name}: not written, the old map stays in force",
    ]
    assert compiled_path(name).read_bytes() == before


def test_makemap_same_messages_as_sendmail(folder: Path, sendmail_install: SendmailInstall) -> None:
    cf = folder / "empty.cf"
    cf.write_text("")
    real_map, our_map = folder / "real", folder / "ours"
    real = run_tool(
        sendmail_install, "makemap", ["-C", str(cf), "-v", "hash", str(real_map)], SOURCE
    )
    ours = makemap(["-v", "hash", str(our_map)], SOURCE)
    assert real.returncode == ours[0] == 0
    assert real.stdout.decode() == ours[1]
    real_dump = run_tool(sendmail_install, "makemap", ["-C", str(cf), "-u", "hash", str(real_map)])
    assert sorted(real_dump.stdout.decode().splitlines()) == sorted(
        makemap(["-u", "hash", str(our_map)])[1].splitlines()
    )
    real = run_tool(
        sendmail_install, "makemap", ["-C", str(cf), "-v", "hash", str(real_map)], BROKEN
    )
    ours = makemap(["-v", "hash", str(real_map)], BROKEN)
    assert real.returncode == ours[0] == 65
    assert real.stdout.decode() == ours[1]
    assert real.stderr.decode().splitlines() == ours[2].splitlines()[:-1]


def test_makemap_flags(folder: Path) -> None:
    name = folder / "map"
    assert makemap(["-f", "-e", "hash", str(name)], b"Key\nOther value\n")[0] == 0
    compiled = CompiledMap.load(name)
    assert compiled.get("Key") == "" and compiled.get("key") is None
    assert makemap(["-r", "hash", str(name)], b"a 1\na 2\n")[0] == 0
    assert CompiledMap.load(name).get("A") == "2"
    assert makemap(["-o", "hash", str(name)], b"b 3\n")[0] == 0
    assert (CompiledMap.load(name).get("a"), CompiledMap.load(name).get("b")) == ("2", "3")
    assert makemap(["-t:", "hash", str(name)], b"k:v w\n")[0] == 0
    assert CompiledMap.load(name).get("k") == "v w"
    assert makemap(["-d", "hash", str(name)], b"k 1\nk 2\n")[0] == 0
    assert CompiledMap.load(name).get("k") == "1"


def test_makemap_usage_and_types(folder: Path) -> None:
    code, _, err = makemap(["hash"])
    assert code == 64 and "Usage: makemap" in err
    code, _, err = makemap(["nosuch", str(folder / "m")], b"a b\n")
    assert code == 73
    assert err == f"makemap: error opening type nosuch map {folder}/m: Unknown database type\n"
    assert makemap(["-l"])[1].split() == ["hash", "btree", "dbm", "cdb", "implicit"]
    assert makemap(["hash", str(folder / "m")], b"a b\r\n")[0] == 65
    assert makemap(["hash", str(folder / "m")], b"a " + b"b" * 1030 + b"\n")[0] == 65


def test_access_lookups(folder: Path) -> None:
    name = folder / "access"
    text = (
        b'Connect:192.168.1 REJECT\nConnect:bad.example.com ERROR:"421 4.3.2 try later"\n'
        b"10.0.0.5 OK\nConnect:example.com SKIP\n10 REJECT\n"
        b"From:spam@example.com ERROR:5.7.1:550 go away\nFrom:example.net DISCARD\n"
        b"From:<> REJECT\nTo:friend@example.org OK\nTo:example.org RELAY\n"
        b"To:postmaster@ 550 Use the web form\nConnect:IPv6:2001:db8 REJECT\n"
        b"From:junk.example QUARANTINE:spam\n"
    )
    assert makemap(["hash", str(name)], text)[0] == 0
    access = AccessMap.load(name)
    hit = access.check_connect("192.168.1.20")
    assert hit is not None and hit.kind is AccessKind.REJECT and hit.key == "Connect:192.168.1"
    assert hit.reply() == "550 5.7.1 Access denied"
    later = access.check_connect("203.0.113.9", "mx.bad.example.com")
    assert later is not None and later.reply() == "421 4.3.2 try later"
    assert access.check_connect("10.0.0.5").kind is AccessKind.OK  # type: ignore[union-attr]
    assert access.check_connect("10.9.9.9").kind is AccessKind.REJECT  # type: ignore[union-attr]
    # SKIP ends the host-name walk without a decision; the IP walk still runs
    assert access.check_connect("10.1.1.1", "www.example.com").kind is AccessKind.REJECT  # type: ignore[union-attr]
    assert access.check_connect("192.0.2.1") is None
    assert access.check_connect("2001:db8::1").kind is AccessKind.REJECT  # type: ignore[union-attr]
    mail = access.check_mail("<Spam@Example.com>")
    assert mail is not None and mail.reply("<spam@example.com>") == "550 5.7.1 go away"
    assert access.check_mail("anyone@sub.example.net").kind is AccessKind.DISCARD  # type: ignore[union-attr]
    assert access.check_mail("<>").kind is AccessKind.REJECT  # type: ignore[union-attr]
    assert access.check_mail("x@junk.example").kind is AccessKind.OTHER  # type: ignore[union-attr]
    assert access.check_rcpt("friend@example.org").kind is AccessKind.OK  # type: ignore[union-attr]
    assert access.check_rcpt("else@example.org").kind is AccessKind.RELAY  # type: ignore[union-attr]
    rcpt = access.check_rcpt("postmaster@anywhere.example")
    assert rcpt is not None and rcpt.reply() == "550 5.0.0 Use the web form"
    reject = access.check_mail("a@192.168.1.1")
    assert reject is None
    assert (
        AccessMap.from_pairs([("From:a@b.example", "REJECT")])
        .check_mail("a@b.example")
        .reply("<a@b.example>")
        == "550 5.7.1 <a@b.example>... Access denied"
    )  # type: ignore[union-attr]


def test_ip_walk_forms() -> None:
    assert ip_walk("192.0.2.1") == ["192.0.2.1", "192.0.2", "192.0", "192"]
    v6 = ip_walk("[IPv6:2001:db8::1]")
    assert v6[0] == "IPv6:2001:db8::1" and v6[1] == "IPv6:2001:db8:0:0:0:0:0:1"
    assert v6[-1] == "IPv6:2001"
    assert ip_walk("not-an-ip") == []


def test_virtusertable(folder: Path) -> None:
    name = folder / "virtusertable"
    text = (
        b"info@example.com alice\nsales@example.com bob@remote.example\n"
        b"@example.com %1@catchall.example\ngone@example.com error:nouser User unknown\n"
        b"old@example.com error:5.1.6:550 moved to new@example.com\nlist+*@example.com lists\n"
        b"@other.example error:5.7.1:550 no mail here\n"
    )
    assert makemap(["hash", str(name)], text)[0] == 0
    table = Virtusertable.load(name)
    assert table.lookup("Info@Example.com").target == "alice"  # type: ignore[union-attr]
    assert table.lookup("<sales@example.com>").target == "bob@remote.example"  # type: ignore[union-attr]
    assert table.lookup("zed+x@example.com").target == "zed@catchall.example"  # type: ignore[union-attr]
    assert table.lookup("list+news@example.com").target == "lists"  # type: ignore[union-attr]
    gone = table.lookup("gone@example.com")
    assert gone is not None and gone.error is not None
    assert gone.error.reply == "550 5.1.1 User unknown"
    moved = table.lookup("old@example.com").error  # type: ignore[union-attr]
    assert moved is not None and moved.reply == "550 5.1.6 moved to new@example.com"
    assert table.lookup("x@other.example").error.reply == "550 5.7.1 no mail here"  # type: ignore[union-attr]
    assert table.lookup("x@unrelated.example") is None


def test_error_targets() -> None:
    assert parse_error_target("error:550 go away").reply == "550 5.0.0 go away"  # type: ignore[union-attr]
    assert parse_error_target('ERROR:"451 later"').reply == "451 4.0.0 later"  # type: ignore[union-attr]
    assert parse_error_target("error:tempfail busy").temporary  # type: ignore[union-attr]
    assert parse_error_target("alice") is None


def test_genericstable_and_domains(folder: Path) -> None:
    domains = folder / "generics-domains"
    domains.write_text("# ours\nexample.com\nMAIL.example.com.\n")
    assert load_domain_list(domains) == frozenset({"example.com", "mail.example.com"})
    name = folder / "genericstable"
    assert (
        makemap(
            ["hash", str(name)],
            b"alice alice.smith@example.com\nbob@mail.example.com robert@example.com\n",
        )[0]
        == 0
    )
    table = GenericsTable.load(name, domains)
    assert table.rewrite("alice", "mail.example.com") == "alice.smith@example.com"
    assert table.rewrite("<alice@example.com>", "mail.example.com") == "alice.smith@example.com"
    assert table.rewrite("bob@mail.example.com", "x") == "robert@example.com"
    assert table.rewrite("alice@other.example", "mail.example.com") is None
    assert table.rewrite("alice@sub.example.com", "x") is None
    entire = GenericsTable(CompiledMap.load(name), ["example.com"], entire_domain=True)
    assert entire.rewrite("alice@sub.example.com", "x") == "alice.smith@example.com"
    assert table.rewrite("<>", "x") is None


def test_mailertable(folder: Path) -> None:
    name = folder / "mailertable"
    text = (
        b"example.com esmtp:[mx.example.com]\n.example.com relay:hub.example.com\n"
        b".org smtp:org-gw.example.net:2525\nblocked.example error:5.7.1:550 no mail\n"
        b". relay:smart.example.net\nlocal.example local:postmaster\n"
    )
    assert makemap(["hash", str(name)], text)[0] == 0
    table = Mailertable.load(name)
    exact = table.route("Example.COM")
    assert exact is not None and (exact.mailer, exact.host, exact.mx_lookup) == (
        "esmtp",
        "[mx.example.com]",
        False,
    )
    sub = table.route("a.b.example.com")
    assert sub is not None and (sub.key, sub.mailer, sub.host) == (
        ".example.com",
        "relay",
        "hub.example.com",
    )
    assert table.route("x.org").host == "org-gw.example.net:2525"  # type: ignore[union-attr]
    blocked = table.route("blocked.example")
    assert blocked is not None and blocked.error is not None and blocked.error.code == "550"
    assert table.route("anything.test").key == "."  # type: ignore[union-attr]
    assert table.route("local.example").mailer == "local"  # type: ignore[union-attr]
    assert Mailertable.from_pairs([]).route("x.example") is None
