"""The queue browser's filter bar: one field per criterion, ``!`` negates.

Fields: queue id, sender, recipient, domain, status text (substrings, case-insensitive)
and age and size (``>1h``, ``<30m``, ``>10k <1M``).  A filter is applied when the user
presses Enter or stops typing for a moment; a field that cannot be read turns red with
the reason as its tooltip and the last good filter stays in force.
"""

from __future__ import annotations

from postroom.gui.models.queue_filter import FilterError, QueueFilter, parse_filter
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

FIELDS = (
    ("queue_id", "Queue ID", "Part of the queue id"),
    ("sender", "Sender", "Part of the envelope sender"),
    ("recipient", "Recipient", "Part of any recipient address"),
    ("domain", "Domain", "Part of any recipient's domain"),
    ("status", "Status text", "Part of the status, delay reason or hold reason"),
    ("age", "Age  >1h  <30m", "Age since arrival: >1h older than, <30m younger than, both"),
    ("size", "Size  >10k", "Message size: >10k larger than, <1M smaller than, both"),
)
_WIDTHS = {"queue_id": 110, "age": 120, "size": 95}
_BAD = "QLineEdit { border: 1px solid #cf222e; background: #ffebe9; }"
DEBOUNCE_MS = 400


class QueueFilterBar(QWidget):
    """Emits ``filterChanged`` with a new :class:`QueueFilter`."""

    filterChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edits: dict[str, QLineEdit] = {}
        self.current = QueueFilter()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.apply)
        for name, placeholder, tip in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"filter_{name}")
            edit.setPlaceholderText(placeholder)
            edit.setToolTip(f"{tip}.\nStart with ! to negate (e.g. !example.org).")
            edit.setClearButtonEnabled(True)
            if name in _WIDTHS:
                edit.setFixedWidth(_WIDTHS[name])
            edit.textEdited.connect(lambda _text: self._timer.start())
            edit.returnPressed.connect(self.apply)
            self.edits[name] = edit
            layout.addWidget(edit, 0 if name in _WIDTHS else 1)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every filter")
        self.clear_button.clicked.connect(self.clear)
        layout.addWidget(self.clear_button)

    def fields(self) -> dict[str, str]:
        return {name: edit.text() for name, edit in self.edits.items()}

    def set_fields(self, values: dict[str, str]) -> None:
        """Replace every field (missing ones are emptied) and apply at once."""
        for name, edit in self.edits.items():
            edit.setText(values.get(name, ""))
        self.apply()

    def clear(self) -> None:
        self.set_fields({})

    def apply(self) -> None:
        self._timer.stop()
        for (_name, _placeholder, tip), edit in zip(FIELDS, self.edits.values(), strict=True):
            edit.setStyleSheet("")
            edit.setToolTip(f"{tip}.\nStart with ! to negate (e.g. !example.org).")
        try:
            new = parse_filter(self.fields())
        except FilterError as exc:
            bad = self.edits[exc.field]
            bad.setStyleSheet(_BAD)
            bad.setToolTip(str(exc))
            return
        if new != self.current:
            self.current = new
            self.filterChanged.emit(new)
