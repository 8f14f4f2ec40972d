"""The aliases file as text blocks, so edits change only the lines they touch.

:class:`AliasDocument` splits the file's text into blocks: one per alias entry
(its physical lines, continuation lines included, as the server's parser
reported them) and the text between entries (comments, blank lines, ignored
duplicates) kept verbatim.  Editing an alias replaces only its block, adding
one appends a block at the end, deleting one removes its block; every other
byte of the file -- comments, order, continuation style -- stays as it was.
Blocks keep a stable ``id`` across edits, so a table row can follow its alias.

The helpers compose a target from its type and value the way the aliases
format writes it (``:include:path``, ``"|command"``, ``/file``,
``error:text``), render an entry (one line, or continuation lines starting
with a tab when long), and produce the unified diff shown before Apply.
Whether a text is *valid* is never decided here: the server's real parser
(``aliases.check``) does that.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

KINDS = ("address", "include", "program", "file", "error")
KIND_LABELS = {
    "address": "Address",
    "include": ":include: file",
    "program": "|program",
    "file": "/file",
    "error": "error:code text",
}
KIND_HINTS = {
    "address": "alice, \\alice (no further aliasing), bob@example.org",
    "include": "/etc/postroom/lists/staff (one address per line)",
    "program": "/usr/bin/procmail -m /etc/procmailrc",
    "file": "/var/mail/archive/staff (appended to)",
    "error": "5.1.1:550 This address has gone",
}
MAX_LINE = 76
_NEEDS_QUOTES = frozenset(' \t,"()<>:;@[]\\')
_ids = itertools.count(1)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def alias_key(name: str) -> str:
    """The key the parser stores for a name: ASCII letters lower-cased (Sendmail's makelower)."""
    return name.strip().translate(_ASCII_LOWER)


@dataclass
class Block:
    """Physical lines (without newlines); ``key`` is set for an alias entry."""

    lines: list[str]
    key: str | None = None
    id: int = field(default_factory=lambda: next(_ids))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compose_target(kind: str, value: str) -> str:
    """The target as written in the file, from the editor's type and value."""
    text = value.strip()
    if kind == "include":
        return f":include:{_quoted(text) if any(c in text for c in ' ,') else text}"
    if kind == "program":
        command = text[1:].lstrip() if text.startswith("|") else text
        plain = command and not any(c in _NEEDS_QUOTES for c in command)
        return f"|{command}" if plain else _quoted(f"|{command}")
    if kind == "file":
        return _quoted(text) if any(c in _NEEDS_QUOTES for c in text) else text
    if kind == "error":
        return f"error:{text[6:] if text.lower().startswith('error:') else text}"
    return text


def editable_value(kind: str, shown: str, value: str) -> str:
    """What the editor shows in the value field of a parsed target (the server's kind/value)."""
    if kind == "program":
        return value[1:] if value.startswith("|") else value
    if kind in ("include", "file"):
        return value
    if kind == "error":
        return shown[len("error:") :] if shown.lower().startswith("error:") else shown
    return shown


def render_entry(name: str, targets: Sequence[str]) -> list[str]:
    """``name: a, b`` on one line, or continuation lines (tab-indented) when it is long."""
    one = f"{name}: {', '.join(targets)}"
    if len(one) <= MAX_LINE or len(targets) < 2:
        return [one]
    lines = [f"{name}: {targets[0]},"]
    lines += [f"\t{t}," for t in targets[1:-1]]
    lines.append(f"\t{targets[-1]}")
    return lines


def unified_diff(old: str, new: str, name: str) -> str:
    """The change as a unified diff (``a/<name>`` -> ``b/<name>``)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    )


class AliasDocument:
    """The file's text as blocks; ``spans`` are ``(key, first_line, last_line)``, 1-based."""

    def __init__(self, text: str, spans: Sequence[tuple[str, int, int]] = ()) -> None:
        lines = text.split("\n")
        self.final_newline = text.endswith("\n") or not text
        if text.endswith("\n"):
            lines.pop()
        if not text:
            lines = []
        self.blocks: list[Block] = []
        at = 0  # index of the next unassigned line
        for key, first, last in sorted(spans, key=lambda s: s[1]):
            if first - 1 < at or last > len(lines) or last < first:
                continue  # not consistent with this text: leave those lines as text
            if first - 1 > at:
                self.blocks.append(Block(lines[at : first - 1]))
            self.blocks.append(Block(lines[first - 1 : last], key))
            at = last
        if at < len(lines):
            self.blocks.append(Block(lines[at:]))

    def text(self) -> str:
        lines = [line for block in self.blocks for line in block.lines]
        if not lines:
            return ""
        return "\n".join(lines) + ("\n" if self.final_newline else "")

    def entries(self) -> list[Block]:
        return [b for b in self.blocks if b.key is not None]

    def block(self, block_id: int) -> Block | None:
        return next((b for b in self.blocks if b.id == block_id), None)

    def find(self, key: str) -> Block | None:
        wanted = alias_key(key)
        return next((b for b in self.blocks if b.key is not None and b.key == wanted), None)

    def spans(self) -> dict[int, tuple[int, int]]:
        """Every block's first and last line (1-based), by block id, in one pass."""
        out: dict[int, tuple[int, int]] = {}
        line = 1
        for block in self.blocks:
            out[block.id] = (line, line + max(len(block.lines), 1) - 1)
            line += len(block.lines)
        return out

    def span(self, block_id: int) -> tuple[int, int]:
        """The block's first and last line (1-based) in the current text."""
        line = 1
        for block in self.blocks:
            if block.id == block_id:
                return line, line + max(len(block.lines), 1) - 1
            line += len(block.lines)
        raise KeyError(block_id)

    def at_line(self, line: int) -> Block | None:
        """The block holding physical line ``line``."""
        start = 1
        for block in self.blocks:
            if start <= line < start + len(block.lines):
                return block
            start += len(block.lines)
        return None

    def replace(self, block_id: int, name: str, lines: list[str]) -> None:
        block = self.block(block_id)
        if block is None:
            raise KeyError(block_id)
        block.lines = list(lines)
        block.key = alias_key(name)

    def remove(self, block_id: int) -> None:
        self.blocks = [b for b in self.blocks if b.id != block_id]

    def append(self, name: str, lines: list[str]) -> Block:
        """A new entry at the end of the file."""
        self.final_newline = True
        block = Block(list(lines), alias_key(name))
        self.blocks.append(block)
        return block

    def resync(self, spans: Sequence[tuple[str, int, int]], text: str | None = None) -> None:
        """Re-split ``text`` (default: the current text) by the server's spans.

        Entries whose name and lines did not change keep their ids.
        """
        old = {(b.key, tuple(b.lines)): b.id for b in self.blocks if b.key is not None}
        fresh = AliasDocument(self.text() if text is None else text, spans)
        self.final_newline = fresh.final_newline
        for block in fresh.blocks:
            if block.key is not None:
                block.id = old.get((block.key, tuple(block.lines)), block.id)
        self.blocks = fresh.blocks
