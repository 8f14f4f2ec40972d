"""Property tests of the command parser: any input gives a value or a reply, never a crash."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from postroom.core.receive.commands import (
    SyntaxReply,
    check_address,
    decode_xtext,
    parse_command,
    parse_path,
    valid_helo_name,
)

REPLY = re.compile(r"^[45]\d\d [45]\.\d{1,3}\.\d{1,3} \S")


@given(st.binary(max_size=600))
def test_parse_command_total(line: bytes) -> None:
    cmd = parse_command(line)
    assert cmd.verb == cmd.verb.upper()
    assert " " not in cmd.verb


@given(st.text(max_size=400), st.sampled_from(["FROM", "TO"]), st.booleans())
def test_parse_path_gives_path_or_reply(arg: str, keyword: str, utf8: bool) -> None:
    try:
        path = parse_path(arg, keyword, smtputf8_allowed=utf8)
    except SyntaxReply as exc:
        assert REPLY.match(exc.reply), exc.reply
        assert "\r" not in exc.reply and "\n" not in exc.reply
    else:
        assert "\x00" not in path.address
        assert len(path.address.encode("utf-8", "surrogateescape")) <= 256
        assert all(k == k.upper() for k in path.params)


_atom = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_+", min_size=1, max_size=30)


@given(_atom, _atom, st.dictionaries(st.sampled_from(["SIZE", "BODY", "RET"]), _atom, max_size=3))
def test_well_formed_paths_round_trip(local: str, domain: str, params: dict[str, str]) -> None:
    text = f"FROM:<{local}@{domain}>" + "".join(f" {k}={v}" for k, v in params.items())
    path = parse_path(text, "FROM", smtputf8_allowed=False)
    assert path.address == f"{local}@{domain}"
    assert path.params == params


@given(st.text(max_size=120))
def test_xtext_total(value: str) -> None:
    try:
        decoded = decode_xtext(value, "ENVID", 100)
    except SyntaxReply as exc:
        assert exc.reply.startswith("501 5.5.4 ")
    else:
        assert not any(ord(c) < 32 for c in decoded)


@given(st.text(max_size=300))
def test_helo_names_never_carry_control_characters(name: str) -> None:
    if valid_helo_name(name):
        assert name.isprintable() and " " not in name and ";" not in name


@given(st.text(max_size=300), st.booleans())
def test_check_address_total(address: str, utf8: bool) -> None:
    try:
        check_address(address, smtputf8=utf8)
    except SyntaxReply as exc:
        assert REPLY.match(exc.reply)
