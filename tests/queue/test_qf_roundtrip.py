"""Property test: parse_qf(format_qf(q)) == q for generated QueueFile values."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from postroom.core.queue.qf import MACRO_REF, Header, QueueFile, QueueRecipient, format_qf, parse_qf

# Printable ASCII, a little non-ASCII, TAB and the raw 0x81 byte (alone it never forms
# valid UTF-8, so surrogateescape decoding gives it back unchanged).
ALPHABET = st.sampled_from(
    [chr(c) for c in range(0x20, 0x7F)] + ["\t", "é", "ß", "→", "日", MACRO_REF]
)
text = st.text(ALPHABET, max_size=30)
opt_text = st.none() | text
number = st.integers(min_value=-(2**40), max_value=2**40)
letters = st.text(st.sampled_from("PNSFDBAY"), max_size=6)
name_chars = st.sampled_from([chr(c) for c in range(0x21, 0x7F) if chr(c) != ":"])
header_name = st.text(name_chars, min_size=1, max_size=20)
condition = st.sampled_from(["", "P", "D", "F", "M", "x", "DFM", "${daemon_flags}", "$j"])
header_value = st.lists(text, min_size=1, max_size=4).flatmap(
    lambda parts: st.lists(
        st.sampled_from(["\n\t", "\n ", "\n  "]), min_size=len(parts) - 1, max_size=len(parts) - 1
    ).map(lambda seps: parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True)))
)
headers = st.builds(Header, header_name, header_value, condition, st.booleans())
macro_name = st.sampled_from(["r", "s", "_", "j", "{daemon_flags}", "{if_addr}", "{auth_type}"])
controlling = st.none() | st.sampled_from(["alice:1:0:alice", ":list", "bob:1000:1000:bob"])
recipients = st.builds(
    QueueRecipient,
    address=text,
    flags=letters,
    orcpt=opt_text,
    final_recipient=opt_text,
    status=opt_text,
    controlling_user=controlling,
)
xtext = st.text(st.sampled_from([c for c in map(chr, range(0x21, 0x7F)) if c not in "+="]))


@st.composite
def queue_files(draw: st.DrawFn) -> QueueFile:
    flags = draw(st.text(st.sampled_from("wr8bdnse"), max_size=5))
    return QueueFile(
        ctime=draw(number),
        sender=draw(text),
        recipients=tuple(draw(st.lists(recipients, max_size=5))),
        headers=tuple(draw(st.lists(headers, max_size=6))),
        version=8,
        last_attempt=draw(number),
        attempts=draw(number),
        priority=draw(number),
        df_dir=draw(opt_text),
        inode=draw(st.none() | st.just("254/0/16039983")),
        body_type=draw(st.none() | st.sampled_from(["7BIT", "8BITMIME", "8bitmime"])),
        quarantine=draw(opt_text),
        status=draw(opt_text),
        flags=flags,
        macros=tuple(draw(st.lists(st.tuples(macro_name, text), max_size=5))),
        envid=draw(opt_text),
        auth=draw(st.none() | xtext),
        deliver_by=draw(st.none() | st.just("N 3600")),
    )


@settings(max_examples=300)
@given(queue_files())
def test_parse_inverts_format(qf: QueueFile) -> None:
    data = format_qf(qf)
    assert parse_qf(data) == qf
    assert format_qf(parse_qf(data)) == data
