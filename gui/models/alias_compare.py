"""The aliases file against its compiled database (praliases): which entries differ.

:func:`compare` takes the file's entries as the server parsed them (key, value and
line span) and the compiled table as ``praliases`` prints it (``key:value`` lines,
``@:@`` last) and answers :class:`Comparison`: for each file line and each database
line whether it is only there or holds a different value.  Sendmail keeps using the
compiled table until ``newaliases`` runs, so a difference means "rebuild needed"
(or a rebuild that failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ONLY_FILE = "only in the file"
ONLY_DB = "only in the database"
DIFFERENT = "different value"


@dataclass(frozen=True)
class FileEntry:
    key: str
    value: str
    first_line: int
    last_line: int

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> FileEntry:
        first = int(data.get("line") or 0)
        return cls(
            str(data.get("key", "")),
            str(data.get("value", "")),
            first,
            int(data.get("last_line") or first),
        )


@dataclass
class Comparison:
    """Marks by 1-based file line and by 0-based database line, and the differing keys."""

    file_lines: dict[int, str] = field(default_factory=dict)
    db_lines: dict[int, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not self.keys

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for why in self.keys.values():
            out[why] = out.get(why, 0) + 1
        return out

    def summary(self, entries: int) -> str:
        if self.same:
            return f"The compiled database matches the file ({entries} aliases)."
        parts = [f"{n} {why}" for why, n in sorted(self.counts().items())]
        return "Differences: " + ", ".join(parts) + ". Rebuild to compile the file."


def split_compiled(line: str) -> tuple[str, str]:
    """``key:value`` -> (key, value); the key never holds a colon."""
    key, _, value = line.partition(":")
    return key, value


def compare(entries: Sequence[FileEntry], compiled: Sequence[str]) -> Comparison:
    """Mark what differs between the parsed file and the compiled table."""
    result = Comparison()
    in_db: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(compiled):
        key, value = split_compiled(line)
        if key == "@":
            continue
        in_db.setdefault(key, (number, value))
    in_file = {e.key: e for e in entries}
    for entry in entries:
        found = in_db.get(entry.key)
        if found is None:
            why = ONLY_FILE
        elif found[1] != entry.value:
            why = DIFFERENT
            result.db_lines[found[0]] = why
        else:
            continue
        result.keys[entry.key] = why
        for line_number in range(entry.first_line, entry.last_line + 1):
            result.file_lines[line_number] = why
    for key, (number, _value) in in_db.items():
        if key not in in_file:
            result.keys[key] = ONLY_DB
            result.db_lines[number] = ONLY_DB
    return result
