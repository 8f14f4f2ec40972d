"""The PrivacyOptions being edited: flags, their bits, and the checklist's rules.

:class:`PrivacyFlags` is built from a ``privacy.get`` answer (each flag's name, bits,
one-line summary and longer detail, in Sendmail's table order) and holds the value being
edited as a bit set.  The checklist rules live here, not in the widgets:

- ``goaway`` stands for several bits: its state is ``ON`` when all are set, ``PARTIAL``
  when some are, ``OFF`` when none; turning it on or off sets or clears exactly those;
- ``public`` is ``ON`` when no bit is set; turning it on clears every other flag;
- every other flag is its own bit.

``effective()`` lists the single flags in force (what the daemon acts on) and
``names()`` the shortest list to write (``goaway`` plus extras, or ``["public"]``), the
same form the server's ``privacy_names`` produces; names already in force keep their
place and new ones follow, so the diff shows only what changed.  ``ISSUE_FLAGS`` are the fifteen of
Sendmail's documentation; names the server knows beyond them (noactualrecipient,
noreflection) are shown after them, since goaway includes noreflection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

ISSUE_FLAGS = (
    "public", "needmailhelo", "needexpnhelo", "noexpn", "needvrfyhelo", "novrfy", "noetrn",
    "noverb", "restrictmailq", "restrictqrun", "restrictexpand", "noreceipts", "nobodyreturn",
    "goaway", "authwarnings",
)  # fmt: skip


class FlagState(Enum):
    OFF = "off"
    PARTIAL = "partial"
    ON = "on"


@dataclass(frozen=True)
class Flag:
    name: str
    bits: int
    summary: str
    detail: str

    @property
    def single(self) -> bool:
        """A flag that is exactly one bit (not public, not goaway)."""
        return self.bits > 0 and self.bits & (self.bits - 1) == 0

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Flag:
        return cls(
            name=str(data.get("name", "")),
            bits=int(data.get("bits") or 0),
            summary=str(data.get("summary") or ""),
            detail=str(data.get("detail") or ""),
        )


class PrivacyFlags:
    """The flags of one ``privacy.get`` answer and the value being edited."""

    def __init__(self, answer: dict[str, Any]) -> None:
        flags = [Flag.from_wire(f) for f in answer.get("flags") or [] if isinstance(f, dict)]
        order = {name: i for i, name in enumerate(ISSUE_FLAGS)}
        self.flags: list[Flag] = sorted(flags, key=lambda f: order.get(f.name, len(order)))
        self.by_name = {f.name: f for f in self.flags}
        self.in_force = int(answer.get("value") or 0)
        self.written = [str(n) for n in answer.get("written") or answer.get("names") or []]
        self.value = self.in_force
        self.sha256 = str(answer.get("sha256") or "")
        self.path = str(answer.get("path") or "")

    @property
    def known_bits(self) -> int:
        total = 0
        for flag in self.flags:
            if flag.single:
                total |= flag.bits
        return total

    @property
    def changed(self) -> bool:
        return self.value != self.in_force

    def state(self, name: str) -> FlagState:
        flag = self.by_name[name]
        if name == "public":
            return FlagState.ON if self.value & self.known_bits == 0 else FlagState.OFF
        if self.value & flag.bits == flag.bits:
            return FlagState.ON
        if not flag.single and self.value & flag.bits & self.known_bits:
            return FlagState.PARTIAL
        return FlagState.OFF

    def set(self, name: str, on: bool) -> None:
        """Tick or untick ``name`` with the checklist's rules."""
        flag = self.by_name[name]
        if name == "public":
            if on:
                self.value = 0
            return
        self.value = self.value | flag.bits if on else self.value & ~flag.bits

    def toggle(self, name: str) -> None:
        """What a click does: a partial or unticked flag becomes ticked, a ticked one not."""
        self.set(name, self.state(name) is not FlagState.ON)

    def revert(self) -> None:
        self.value = self.in_force

    def effective(self, value: int | None = None) -> list[str]:
        """The single flags in force for ``value`` (default: the edited value)."""
        bits = self.value if value is None else value
        return [f.name for f in self.flags if f.single and bits & f.bits]

    def names(self, value: int | None = None) -> list[str]:
        """The PrivacyOptions list to write: ``goaway`` when complete, else single flags."""
        bits = self.value if value is None else value
        if bits & self.known_bits == 0:
            return ["public"]
        names: list[str] = []
        goaway = self.by_name.get("goaway")
        if goaway is not None and bits & goaway.bits == goaway.bits:
            names.append("goaway")
            bits &= ~goaway.bits
        names += [f.name for f in self.flags if f.single and bits & f.bits]
        kept = [n for n in self.written if n in names]
        return kept + [n for n in names if n not in kept]
