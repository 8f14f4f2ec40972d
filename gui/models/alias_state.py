"""What the Aliases screen knows: the file as read, the proposed text, and the server's verdicts.

:class:`AliasState` holds the ``aliases.get`` answer the edits started from
(``loaded``: its text and SHA-256 are the base of the diff and of the write) and the
latest one (``disk``: what the database view compares), the proposed file
as an :class:`~.alias_document.AliasDocument` (or, while the Text page holds text that
does not parse, that ``raw_text``), each entry's last ``aliases.check`` verdict by
block id (``info``) and the last check answer with the text it judged.  From these it
derives the table rows, the verdicts for the editor's fields, and whether Apply may
go ahead (:meth:`apply_problem`).  It does no I/O: the screen sends the requests and
feeds the answers in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .alias_document import AliasDocument, Block, editable_value
from .alias_model import AliasRow, Problem, problems_from

Spans = list[tuple[str, int, int]]
DUPLICATE_NOTE = " — Sendmail keeps the first entry, so this one is ignored"


def spans_of(entries: Any) -> Spans:
    """``(key, first_line, last_line)`` of the entries in a get/check answer."""
    out: Spans = []
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict):
            first = int(e.get("line") or 0)
            out.append((str(e.get("key", "")), first, int(e.get("last_line") or first)))
    return out


@dataclass
class Verdicts:
    """What the editor shows next to each field."""

    name: list[Problem] = field(default_factory=list)
    targets: list[list[Problem]] = field(default_factory=list)
    entry: list[Problem] = field(default_factory=list)
    expands_to: list[str] = field(default_factory=list)


class AliasState:
    """The screen's data; see the module docstring."""

    def __init__(self) -> None:
        self.loaded: dict[str, Any] | None = None
        self.disk: dict[str, Any] | None = None
        self.doc = AliasDocument("")
        self.original: dict[int, tuple[str, ...]] = {}
        self.info: dict[int, dict[str, Any]] = {}
        self.raw_text: str | None = None
        self.check: dict[str, Any] = {}
        self.check_text = ""

    # -- the text ------------------------------------------------------------------------

    def load(self, result: dict[str, Any]) -> None:
        """Start over from an ``aliases.get`` answer."""
        self.loaded = self.disk = result
        self.doc = AliasDocument(str(result.get("text", "")), spans_of(result.get("entries")))
        self.original = {b.id: tuple(b.lines) for b in self.doc.entries()}
        self.info = {}
        self.raw_text = None
        self.check = {}
        self.check_text = ""

    def pending_text(self) -> str:
        return self.raw_text if self.raw_text is not None else self.doc.text()

    @property
    def dirty(self) -> bool:
        return self.loaded is not None and self.pending_text() != str(self.loaded.get("text", ""))

    def state_of(self, block: Block) -> str:
        original = self.original.get(block.id)
        if original is None:
            return "new"
        return "changed" if original != tuple(block.lines) else ""

    # -- verdicts ------------------------------------------------------------------------

    def take_check(self, text: str, result: dict[str, Any]) -> bool:
        """Record a check answer; False when it judged a text that is no longer proposed."""
        if text != self.pending_text():
            return False
        self.check, self.check_text = result, text
        if not result.get("ok"):
            return True
        if self.raw_text is not None:
            self.doc.resync(spans_of(result.get("entries")), self.raw_text)
            self.raw_text = None
        by_id = {b.id: b for b in self.doc.blocks}
        starting = {first: by_id[i] for i, (first, _last) in self.doc.spans().items()}
        for entry in result.get("entries") or []:
            if isinstance(entry, dict) and entry.get("checked"):
                block = starting.get(int(entry.get("line") or 0))
                if block is not None and block.key is not None:
                    self.info[block.id] = entry
        return True

    @property
    def current_check(self) -> bool:
        return self.raw_text is None and self.check_text == self.pending_text()

    def file_problems(self) -> list[tuple[int, Problem]]:
        """(line, problem) for the last check's parse errors and duplicate warnings."""
        found: list[tuple[int, Problem]] = []
        for kind, severity in (("errors", "error"), ("warnings", "warning")):
            for item in self.check.get(kind) or []:
                line = int(item.get("line") or 0)
                found.append((line, Problem(severity, str(item.get("text")))))
        return found

    def _problem_lines(self) -> dict[int, list[Problem]]:
        """The last check's file problems by line, when it judged the text proposed now."""
        by_line: dict[int, list[Problem]] = {}
        if self.current_check:
            for line, problem in self.file_problems():
                by_line.setdefault(line, []).append(problem)
        return by_line

    def block_file_problems(
        self,
        block: Block,
        span: tuple[int, int] | None = None,
        by_line: dict[int, list[Problem]] | None = None,
    ) -> list[Problem]:
        lines = self._problem_lines() if by_line is None else by_line
        if not lines:
            return []
        first, last = span or self.doc.span(block.id)
        return [p for n in range(first, last + 1) for p in lines.get(n, ())]

    def block_problems(
        self,
        block: Block,
        span: tuple[int, int] | None = None,
        by_line: dict[int, list[Problem]] | None = None,
    ) -> list[Problem]:
        problems = self.block_file_problems(block, span, by_line)
        entry = self.info.get(block.id)
        if entry is not None:
            problems += problems_from(entry.get("problems"))
            for target in entry.get("targets") or []:
                problems += problems_from(target.get("problems"))
        return problems

    def _row(
        self, block: Block, span: tuple[int, int], by_line: dict[int, list[Problem]]
    ) -> AliasRow:
        entry = self.info.get(block.id)
        if entry is not None:
            targets = " ".join(str(entry.get("value")).split())
        else:
            joined = " ".join(" ".join(block.lines).split())
            targets = joined.partition(":")[2].strip()
        problems = self.block_problems(block, span, by_line)
        return AliasRow(
            block.id,
            block.key or "",
            targets,
            span[0],
            self.state_of(block),
            tuple(problems),
            checked=entry is not None or bool(problems),
        )

    def rows(self) -> list[AliasRow]:
        spans, by_line = self.doc.spans(), self._problem_lines()
        return [self._row(b, spans[b.id], by_line) for b in self.doc.entries()]

    def row_for(self, block_id: int) -> AliasRow | None:
        """One alias's row (after an edit that did not move any other line)."""
        block = self.doc.block(block_id)
        if block is None or block.key is None:
            return None
        return self._row(block, self.doc.span(block_id), self._problem_lines())

    def editor_targets(self, block_id: int) -> list[tuple[str, str]] | None:
        """(kind, editable value) of each target, or None before the server has judged it."""
        entry = self.info.get(block_id)
        if entry is None or self.raw_text is not None:
            return None
        out = []
        for t in entry.get("targets") or []:
            kind = str(t.get("kind"))
            out.append((kind, editable_value(kind, str(t.get("shown")), str(t.get("value")))))
        return out

    def verdicts(self, block_id: int, filled: int, name: str) -> Verdicts:
        """The verdicts for the editor showing ``block_id`` with ``filled`` target rows."""
        block = self.doc.block(block_id)
        found = Verdicts()
        if block is None:
            return found
        entry = self.info.get(block_id) or {}
        edited = self.current_check and self.check.get("target_checks") is not None
        checks = (self.check.get("target_checks") or []) if edited else []
        parsed = entry.get("targets") or []
        for i in range(filled):
            mine = problems_from(checks[i].get("problems")) if i < len(checks) else []
            if len(parsed) == filled:
                seen = {p.text for p in mine}
                mine += [p for p in problems_from(parsed[i].get("problems")) if p.text not in seen]
            found.targets.append(mine)
        found.name = problems_from(self.check.get("name_problems")) if edited else []
        if not name:
            found.name = [Problem("error", "enter the alias name")]
        shown = [*found.name, *(p for target in found.targets for p in target)]
        explained = any(p.severity == "error" for p in shown)
        found.entry = problems_from(entry.get("problems"))
        for p in self.block_file_problems(block):
            if "duplicate alias name" in p.text:
                found.name.append(Problem(p.severity, p.text + DUPLICATE_NOTE))
            elif not explained:
                found.entry.append(p)
        found.expands_to = [str(x) for x in entry.get("expands_to") or []]
        if entry.get("more"):
            found.expands_to.append(f"… and {entry['more']} more")
        return found

    # -- applying ------------------------------------------------------------------------

    def changed_blocks(self) -> list[Block]:
        return [b for b in self.doc.entries() if self.original.get(b.id) != tuple(b.lines)]

    def apply_problem(self, checking: bool) -> str | None:
        """Why Apply is refused now (``checking``: a check is on its way), or None."""
        if self.loaded is None:
            return "the file was not read yet"
        if not self.dirty:
            return "nothing changed"
        if checking or self.check_text != self.pending_text():
            return "the server is still checking the change"
        if self.check.get("errors") or not self.check.get("ok"):
            return "the proposed file does not parse"
        spans, by_line = self.doc.spans(), self._problem_lines()
        for block in self.changed_blocks():
            name = block.key or "the new alias"
            if block.id not in self.info:
                return f"{name} was not checked yet"
            problems = self.block_problems(block, spans[block.id], by_line)
            if any(p.severity == "error" for p in problems):
                return f"{name} has errors"
        return None

    def apply_warnings(self) -> list[str]:
        spans, by_line = self.doc.spans(), self._problem_lines()
        return [
            f"{block.key}: {p.text}"
            for block in self.changed_blocks()
            for p in self.block_problems(block, spans[block.id], by_line)
            if p.severity == "warning"
        ]

    def error_lines(self) -> Sequence[int]:
        return [int(e.get("line") or 0) for e in self.check.get("errors") or []]
