"""The aliases file beside its compiled database (praliases), differences marked.

:class:`AliasCompareView` shows the file as read (with line numbers) on the left and
the compiled table as ``praliases`` prints it on the right.  Lines of aliases that
are only in one of them, or that hold different values, get a coloured background
and a note; the summary line above says whether the database matches the file.
"Rebuild" (newaliases) sits next to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from postroom.gui.models.alias_compare import (
    DIFFERENT,
    ONLY_DB,
    ONLY_FILE,
    Comparison,
    FileEntry,
    compare,
)
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

COLORS = {
    ONLY_FILE: QColor(218, 251, 225),
    ONLY_DB: QColor(255, 235, 233),
    DIFFERENT: QColor(255, 244, 206),
}


def _pane() -> QPlainTextEdit:
    pane = QPlainTextEdit()
    pane.setReadOnly(True)
    pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    pane.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return pane


def _mark(pane: QPlainTextEdit, marks: dict[int, str]) -> None:
    """Colour the blocks (0-based) in ``marks``."""
    selections = []
    document = pane.document()
    for number, why in sorted(marks.items()):
        block = document.findBlockByNumber(number)
        if not block.isValid():
            continue
        selection = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(COLORS[why])
        fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
        fmt.setToolTip(why)
        selection.format = fmt
        selection.cursor = QTextCursor(block)
        selections.append(selection)
    pane.setExtraSelections(selections)


class AliasCompareView(QWidget):
    """File | compiled database, with the differences marked."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel("Not read yet.")
        self.summary.setWordWrap(True)
        self.rebuild_button = QPushButton("Rebuild (newaliases)")
        self.file_title = QLabel("<b>File</b>")
        self.db_title = QLabel("<b>Compiled database</b> (praliases)")
        self.file_text = _pane()
        self.file_text.setObjectName("aliasFileText")
        self.db_text = _pane()
        self.db_text.setObjectName("aliasDbText")
        legend = QLabel(
            " ".join(
                f"<span style='background:{c.name()}'>&nbsp;{why}&nbsp;</span>"
                for why, c in COLORS.items()
            )
        )
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(legend)
        top.addWidget(self.rebuild_button)
        left = QVBoxLayout()
        left.addWidget(self.file_title)
        left.addWidget(self.file_text, 1)
        right = QVBoxLayout()
        right.addWidget(self.db_title)
        right.addWidget(self.db_text, 1)
        panes = QHBoxLayout()
        panes.addLayout(left, 1)
        panes.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addLayout(panes, 1)
        self.comparison = Comparison()

    def show_tables(
        self,
        path: str,
        text: str,
        entries: Sequence[FileEntry],
        compiled_path: str,
        compiled: Sequence[str] | None,
    ) -> Comparison:
        """Fill both panes; ``compiled`` None: there is no compiled database yet."""
        self.file_title.setText(f"<b>File</b> {path}")
        self.db_title.setText(f"<b>Compiled database</b> {compiled_path} (praliases)")
        width = len(str(max(1, text.count("\n") + 1)))
        numbered = [f"{n:>{width}}  {line}" for n, line in enumerate(text.splitlines(), 1)]
        self.file_text.setPlainText("\n".join(numbered))
        self.db_text.setPlainText("\n".join(compiled or []))
        self.comparison = compare(entries, compiled or [])
        _mark(self.file_text, {line - 1: why for line, why in self.comparison.file_lines.items()})
        _mark(self.db_text, self.comparison.db_lines)
        if compiled is None:
            self.summary.setText("There is no compiled database yet: Rebuild creates it.")
        else:
            self.summary.setText(self.comparison.summary(len(entries)))
        return self.comparison
