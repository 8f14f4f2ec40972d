"""The aliases file as plain text, for edits the table cannot express, with the parser's verdicts.

:class:`AliasTextPage` is an editor over the proposed file.  ``edited(text)`` fires
when the user changes it (not when the screen fills it with :meth:`set_text`); the
screen sends the text to ``aliases.check`` and hands back the problems by line
(:meth:`show_problems`), which are listed under the editor and marked in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from postroom.gui.models.alias_model import ERROR_COLOR, WARNING_COLOR, Problem
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

MAX_LISTED = 20


class AliasTextPage(QWidget):
    """The proposed aliases file, editable, with problems by line."""

    edited = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("aliasText")
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.problems = QLabel("")
        self.problems.setObjectName("aliasTextProblems")
        self.problems.setWordWrap(True)
        hint = QLabel(
            "Sendmail's aliases(5) format: <tt>name: target, target</tt>; a line starting "
            "with a space or tab continues the one before; <tt>#</tt> starts a comment."
        )
        hint.setStyleSheet("color: #57606a;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(hint)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problems)
        self._filling = False
        self.editor.textChanged.connect(self._on_changed)

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        if text == self.text():
            return
        self._filling = True
        self.editor.setPlainText(text)
        self._filling = False

    def _on_changed(self) -> None:
        if not self._filling:
            self.edited.emit(self.text())

    def show_problems(self, problems: Sequence[tuple[int, Problem]]) -> None:
        """List ``(line, problem)`` pairs and mark those lines."""
        lines = []
        selections = []
        document = self.editor.document()
        for line, problem in sorted(problems, key=lambda x: x[0])[:MAX_LISTED]:
            color = ERROR_COLOR if problem.severity == "error" else WARNING_COLOR
            text = problem.text.replace("&", "&amp;").replace("<", "&lt;")
            where = f"line {line}: " if line > 0 else ""
            lines.append(f"<span style='color:{color.name()}'>{where}{text}</span>")
            block = document.findBlockByNumber(line - 1)
            if line > 0 and block.isValid():
                selection = QTextEdit.ExtraSelection()
                fmt = QTextCharFormat()
                fmt.setBackground(color.lighter(190))
                fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
                selection.format = fmt
                selection.cursor = QTextCursor(block)
                selections.append(selection)
        if len(problems) > MAX_LISTED:
            lines.append(f"… {len(problems) - MAX_LISTED} more")
        self.problems.setText("<br>".join(lines) if lines else "The text parses.")
        self.editor.setExtraSelections(selections)
