"""The listener table of the Ports screen: one editable row per DaemonPortOptions entry.

:class:`ListenerTable` lays its rows out on a grid: Name, Port, Addr, Family, one box
per modifier (``a b c f h u A C E O S``, each with its explanation as tooltip), whether
the listener is bound, and a remove button.  Under each row a message line shows what
is wrong with it (red, naming the field, which is outlined) and Sendmail's advice about
it (amber); it is hidden when there is nothing to say.  Edits go straight into the
:class:`~postroom.gui.models.ports_rows.ListenerRow` list and emit ``edited``; the screen
decides what to check.  ``set_problems`` and ``set_bound`` only paint.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from postroom.gui.models.ports_rows import FAMILIES, FIELDS, MODIFIERS, ListenerRow
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

ERROR_STYLE = "color: #b00020;"
WARNING_STYLE = "color: #9a6700;"
BAD_FIELD = "border: 1px solid #b00020;"
COLUMNS = ("Name", "Port", "Addr", "Family", *MODIFIERS, "Bound", "")
_FIRST_MODIFIER = 4
_BOUND = _FIRST_MODIFIER + len(MODIFIERS)
_NOT_CHECKED = ("–", "not checked yet", "#57606a")
BOUND = "#1a7f37"
NOT_BOUND = "#b00020"


def _html(text: str) -> str:
    """``text`` escaped for a rich-text label; a word joiner keeps ``${macro}`` whole."""
    return html.escape(text).replace("${", "$\u2060{")


def legend_html(letters: dict[str, str], keys: dict[str, str], notes: list[str]) -> str:
    """Every modifier letter and key with the server's explanation, then its notes."""
    rows = "".join(
        f"<tr><td><b>{c}</b>&nbsp;</td><td>{_html(letters.get(c, ''))}</td></tr>" for c in MODIFIERS
    )
    fields = "".join(
        f"<tr><td><b>{k}</b>&nbsp;</td><td>{_html(v)}</td></tr>"
        for k, v in keys.items()
        if k != "Modifiers"
    )
    extra = "".join(f"<p style='{WARNING_STYLE}'>{_html(n)}</p>" for n in notes)
    return f"<table>{rows}</table><p><b>Fields</b></p><table>{fields}</table>{extra}"


class _RowWidgets:
    """The editors of one listener."""

    def __init__(self, row: ListenerRow, help_for: Callable[[str], str]) -> None:
        self.name = QLineEdit(row.name)
        self.name.setPlaceholderText("Daemon<n>")
        self.port = QLineEdit(row.port)
        self.port.setPlaceholderText("25")
        self.port.setMaximumWidth(90)
        self.addr = QLineEdit(row.addr)
        self.addr.setPlaceholderText("every address")
        self.family = QComboBox()
        self.family.addItems(FAMILIES)
        self.family.setCurrentText(row.family)
        self.boxes = {letter: QCheckBox() for letter in MODIFIERS}
        for letter, box in self.boxes.items():
            box.setChecked(row.has(letter))
            box.setToolTip(f"{letter}: {help_for(letter)}")
        self.bound = QLabel("–")
        self.bound.setMinimumWidth(110)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this listener")
        self.message = QLabel("")
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.hide()

    def field_widget(self, field: str) -> QWidget | None:
        return {"name": self.name, "port": self.port, "addr": self.addr, "family": self.family}.get(
            field
        )


class ListenerTable(QWidget):
    """Rows of listener editors over a list of ``ListenerRow``."""

    edited = Signal()

    def __init__(self, help_for: Callable[[str], str]) -> None:
        super().__init__()
        self.help_for = help_for
        self.rows: list[ListenerRow] = []
        self.widgets: list[_RowWidgets] = []
        self.bound: list[tuple[str, str, str]] = []  # per row: text, tooltip, colour
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)

    def set_rows(self, rows: list[ListenerRow]) -> None:
        self.rows = rows
        self.bound = [_NOT_CHECKED] * len(rows)
        self._rebuild()

    def add_row(self, row: ListenerRow) -> None:
        self.rows.append(row)
        self.bound.append(_NOT_CHECKED)
        self._rebuild()
        self.edited.emit()

    def remove_row(self, index: int) -> None:
        del self.rows[index]
        del self.bound[index]
        self._rebuild()
        self.edited.emit()

    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.widgets = []

    def _rebuild(self) -> None:
        self._clear()
        for column, title in enumerate(COLUMNS):
            label = QLabel(f"<b>{title}</b>")
            if _FIRST_MODIFIER <= column < _BOUND:
                label.setToolTip(f"{title}: {self.help_for(title)}")
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(label, 0, column)
        for index, row in enumerate(self.rows):
            widgets = _RowWidgets(row, self.help_for)
            self._wire(index, widgets)
            line = 1 + 2 * index
            self.grid.addWidget(widgets.name, line, 0)
            self.grid.addWidget(widgets.port, line, 1)
            self.grid.addWidget(widgets.addr, line, 2)
            self.grid.addWidget(widgets.family, line, 3)
            for offset, letter in enumerate(MODIFIERS):
                box = widgets.boxes[letter]
                self.grid.addWidget(
                    box, line, _FIRST_MODIFIER + offset, Qt.AlignmentFlag.AlignCenter
                )
            self.grid.addWidget(widgets.bound, line, _BOUND)
            self.grid.addWidget(widgets.remove, line, _BOUND + 1)
            self.grid.addWidget(widgets.message, line + 1, 0, 1, len(COLUMNS))
            self.widgets.append(widgets)
            self._paint_bound(index)
        self.grid.setColumnStretch(0, 2)
        self.grid.setColumnStretch(2, 3)
        self.grid.setRowStretch(1 + 2 * len(self.rows), 1)

    def _wire(self, index: int, widgets: _RowWidgets) -> None:
        def text_setter(field: str) -> Callable[[str], None]:
            def set_text(text: str) -> None:
                setattr(self.rows[index], field, text)
                self.edited.emit()

            return set_text

        widgets.name.textEdited.connect(text_setter("name"))
        widgets.port.textEdited.connect(text_setter("port"))
        widgets.addr.textEdited.connect(text_setter("addr"))
        widgets.family.currentTextChanged.connect(text_setter("family"))
        for letter, box in widgets.boxes.items():
            box.toggled.connect(lambda on, letter=letter: self._toggle(index, letter, on))
        widgets.remove.clicked.connect(lambda: self.remove_row(index))

    def _toggle(self, index: int, letter: str, on: bool) -> None:
        self.rows[index] = self.rows[index].with_modifier(letter, on)
        self.edited.emit()

    def set_problems(
        self, problems: dict[tuple[int, str], str], warnings: dict[int, list[str]]
    ) -> None:
        """Paint each row's errors (red, field outlined) and warnings (amber)."""
        for index, widgets in enumerate(self.widgets):
            errors = [(f, problems[(index, f)]) for f in (*FIELDS, "") if (index, f) in problems]
            for field in FIELDS:
                target = widgets.field_widget(field)
                if target is not None:
                    bad = (index, field) in problems
                    target.setStyleSheet(BAD_FIELD if bad else "")
                    target.setToolTip(problems.get((index, field), ""))
            notes = [f"<span style='{ERROR_STYLE}'>{html.escape(t)}</span>" for _f, t in errors]
            notes += [
                f"<span style='{WARNING_STYLE}'>{html.escape(t)}</span>"
                for t in warnings.get(index, [])
            ]
            widgets.message.setText("<br>".join(notes))
            widgets.message.setVisible(bool(notes))

    def set_bound(self, index: int, text: str, tooltip: str, colour: str) -> None:
        """Whether row ``index`` is bound; kept when the rows are laid out again."""
        if 0 <= index < len(self.bound):
            self.bound[index] = (text, tooltip, colour)
            self._paint_bound(index)

    def show_status(self, index: int, entry: dict[str, Any] | None) -> None:
        """Paint one ``ports.status`` entry: bound, taken by another program, or not."""
        detail = str(entry.get("detail", "")) if entry is not None else ""
        if entry is None:
            self.set_bound(index, *_NOT_CHECKED)
        elif entry.get("bound") and entry.get("ours"):
            self.set_bound(index, "● bound", detail, BOUND)
        elif entry.get("bound"):
            self.set_bound(index, "● taken", detail, NOT_BOUND)
        else:
            optional = " (optional)" if entry.get("optional") else ""
            self.set_bound(index, f"○ not bound{optional}", detail, NOT_BOUND)

    def _paint_bound(self, index: int) -> None:
        if index < len(self.widgets):
            text, tooltip, colour = self.bound[index]
            label = self.widgets[index].bound
            label.setText(text)
            label.setToolTip(tooltip)
            label.setStyleSheet(f"color: {colour};")
