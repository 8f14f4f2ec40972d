"""The editor for one alias: its name and typed targets, each with the server's verdict beside it.

:class:`AliasEditor` shows the name field and one :class:`TargetRow` per target: a
type (address, ``:include:`` file, ``|program``, ``/file``, ``error:code text``), the
value, a remove button and, under it, what ``aliases.check`` said about that target
(red for errors, amber for warnings).  ``edited`` fires on every change the user
makes; the screen turns the fields into the entry's lines
(:func:`~postroom.gui.models.alias_document.render_entry`) and asks the server.  The
verdicts come back through :meth:`AliasEditor.show_check`; "Expands to" lists what
the entry delivers to, in ``-bv``'s words.
"""

from __future__ import annotations

from collections.abc import Sequence

from postroom.gui.models.alias_document import KIND_HINTS, KIND_LABELS, KINDS, compose_target
from postroom.gui.models.alias_model import ERROR_COLOR, WARNING_COLOR, Problem
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

ERROR_STYLE = f"color: {ERROR_COLOR.name()};"
WARNING_STYLE = f"color: {WARNING_COLOR.name()};"


def problem_html(problems: Sequence[Problem]) -> str:
    """Problems as coloured lines, errors first."""
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    lines = []
    for p in ordered:
        color = ERROR_COLOR if p.severity == "error" else WARNING_COLOR
        word = "Error" if p.severity == "error" else "Warning"
        text = p.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f"<span style='color:{color.name()}'><b>{word}:</b> {text}</span>")
    return "<br>".join(lines)


class ProblemLabel(QLabel):
    """A word-wrapped label that shows problems and hides when there are none."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.problems: list[Problem] = []
        self.hide()

    def plain_text(self) -> str:
        """The problems as plain lines (``Error: ...`` / ``Warning: ...``)."""
        return "\n".join(f"{p.severity.capitalize()}: {p.text}" for p in self.problems)

    def set_problems(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        self.setText(problem_html(self.problems))
        self.setVisible(bool(self.problems))


class TargetRow(QWidget):
    """One target: type, value, remove, and the server's verdict under it."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, kind: str = "address", value: str = "") -> None:
        super().__init__()
        self.kind = QComboBox()
        for name in KINDS:
            self.kind.addItem(KIND_LABELS[name], name)
        self.kind.setCurrentIndex(KINDS.index(kind) if kind in KINDS else 0)
        self.value = QLineEdit(value)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this target")
        self.problem = ProblemLabel()
        self._hint()
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(2)
        layout.addWidget(self.kind, 0, 0)
        layout.addWidget(self.value, 0, 1)
        layout.addWidget(self.remove, 0, 2)
        layout.addWidget(self.problem, 1, 0, 1, 3)
        layout.setColumnStretch(1, 1)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.value.textEdited.connect(lambda _t: self.changed.emit())
        self.remove.clicked.connect(lambda: self.removeRequested.emit(self))

    def _hint(self) -> None:
        self.value.setPlaceholderText(KIND_HINTS.get(self.kind_name(), ""))

    def _on_kind(self, _index: int) -> None:
        self._hint()
        self.changed.emit()

    def kind_name(self) -> str:
        return str(self.kind.currentData())

    def target_text(self) -> str:
        return compose_target(self.kind_name(), self.value.text())


class AliasEditor(QWidget):
    """Name + targets of the alias being edited."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("<b>No alias selected</b>")
        self.name = QLineEdit()
        self.name.setObjectName("aliasName")
        self.name.setPlaceholderText("name (e.g. staff, owner-staff, postmaster)")
        self.name_problem = ProblemLabel()
        self.rows: list[TargetRow] = []
        self.rows_box = QVBoxLayout()
        self.rows_box.setContentsMargins(0, 0, 0, 0)
        self.rows_box.setSpacing(4)
        self.add_target = QPushButton("Add target")
        self.add_target.clicked.connect(self._on_add_target)
        self.entry_problem = ProblemLabel()
        self.expands = QLabel("")
        self.expands.setWordWrap(True)
        self.expands.setStyleSheet("color: #57606a;")
        targets = QWidget()
        column = QVBoxLayout(targets)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self.rows_box)
        column.addWidget(self.add_target)
        column.addWidget(self.entry_problem)
        column.addSpacing(8)
        column.addWidget(QLabel("Expands to"))
        column.addWidget(self.expands)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(targets)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("", self.name_problem)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(QLabel("Targets"))
        layout.addWidget(scroll, 1)
        self.name.textEdited.connect(lambda _t: self.edited.emit())
        self.setEnabled(False)

    # -- filling -----------------------------------------------------------------------

    def load(self, title: str, name: str, targets: Sequence[tuple[str, str]]) -> None:
        """Show an alias: ``targets`` are (kind, editable value) pairs."""
        self.title.setText(f"<b>{title}</b>")
        self.name.setText(name)
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        for kind, value in targets:
            self._add_row(kind, value)
        self.name_problem.set_problems([])
        self.entry_problem.set_problems([])
        self.expands.setText("")
        self.setEnabled(True)

    def clear(self) -> None:
        self.load("No alias selected", "", [])
        self.setEnabled(False)

    def _add_row(self, kind: str, value: str) -> TargetRow:
        row = TargetRow(kind, value)
        row.changed.connect(self.edited.emit)
        row.removeRequested.connect(self._on_remove)
        self.rows.append(row)
        self.rows_box.addWidget(row)
        return row

    def _on_add_target(self) -> None:
        row = self._add_row("address", "")
        row.value.setFocus()
        self.edited.emit()

    def _on_remove(self, row: TargetRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
            self.edited.emit()

    # -- reading -----------------------------------------------------------------------

    def name_text(self) -> str:
        return self.name.text().strip()

    def targets(self) -> list[str]:
        """Each target as written in the file (rows left empty are skipped)."""
        return [row.target_text() for row in self.rows if row.value.text().strip()]

    def filled_rows(self) -> list[TargetRow]:
        return [row for row in self.rows if row.value.text().strip()]

    # -- verdicts ----------------------------------------------------------------------

    def show_check(
        self,
        name_problems: Sequence[Problem],
        target_problems: Sequence[Sequence[Problem]],
        entry_problems: Sequence[Problem],
        expands_to: Sequence[str],
    ) -> None:
        """Put each verdict next to its field (``target_problems``: one list per filled row)."""
        self.name_problem.set_problems(name_problems)
        filled = self.filled_rows()
        for row in self.rows:
            row.problem.set_problems([])
        for row, problems in zip(filled, target_problems, strict=False):
            row.problem.set_problems(problems)
        if not filled:
            entry_problems = [*entry_problems, Problem("error", "an alias needs a target")]
        self.entry_problem.set_problems(entry_problems)
        self.expands.setText("\n".join(expands_to) if expands_to else "—")

    def has_errors(self) -> bool:
        labels = [self.name_problem, self.entry_problem, *(r.problem for r in self.rows)]
        return any(p.severity == "error" for label in labels for p in label.problems)
