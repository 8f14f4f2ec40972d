"""The diff-before-apply dialog: a change shown as a coloured unified diff, then Apply or Cancel.

:class:`DiffDialog` is shared by every screen that edits a file through the RPC
(Privacy, Ports, Aliases, Vacation).  It shows a title, an optional note (what Apply
will do after writing, e.g. "then the daemon reloads"), the server's warnings about the
proposed text, and the unified diff with added lines green, removed lines red, hunk
headers blue and file headers bold.  An empty diff says "No change" and disables Apply.

Use it without blocking: ``dialog.open()`` and connect ``accepted``/``rejected`` (or
``exec()`` where a modal loop is wanted).  ``summary(diff)`` counts the lines added and
removed for a status line.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

ADDED = QColor(218, 251, 225)
REMOVED = QColor(255, 235, 233)
HUNK = QColor(9, 105, 218)
HEADER = QColor(87, 96, 106)
WARNING_STYLE = "color: #9a6700;"


def summary(diff: str) -> str:
    """``"2 lines added, 1 removed"`` for a unified diff (file headers not counted)."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    if not added and not removed:
        return "no change"
    return f"{added} line{'s' if added != 1 else ''} added, {removed} removed"


class DiffHighlighter(QSyntaxHighlighter):
    """Colours a unified diff line by line."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.added = QTextCharFormat()
        self.added.setBackground(ADDED)
        self.removed = QTextCharFormat()
        self.removed.setBackground(REMOVED)
        self.hunk = QTextCharFormat()
        self.hunk.setForeground(HUNK)
        self.header = QTextCharFormat()
        self.header.setForeground(HEADER)
        self.header.setFontWeight(QFont.Weight.Bold)

    def highlightBlock(self, text: str) -> None:
        if text.startswith(("+++", "---")):
            fmt = self.header
        elif text.startswith("+"):
            fmt = self.added
        elif text.startswith("-"):
            fmt = self.removed
        elif text.startswith("@@"):
            fmt = self.hunk
        else:
            return
        self.setFormat(0, len(text), fmt)


class DiffDialog(QDialog):
    """Shows ``diff`` under ``title``; Apply accepts, Cancel rejects."""

    def __init__(
        self,
        title: str,
        diff: str,
        parent: QWidget | None = None,
        *,
        note: str = "",
        warnings: Sequence[str] = (),
        apply_text: str = "Apply",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("diffDialog")
        self.diff = diff
        heading = QLabel(f"<b>{_escape(title)}</b> — {summary(diff)}")
        heading.setObjectName("diffHeading")
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.note.setVisible(bool(note))
        self.warnings = QLabel("\n".join(f"Warning: {w}" for w in warnings))
        self.warnings.setObjectName("diffWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.warnings.setVisible(bool(warnings))
        self.text = QPlainTextEdit()
        self.text.setObjectName("diffText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = DiffHighlighter(self.text.document())
        self.text.setPlainText(diff if diff else "No change: the file already says this.")
        self.buttons = QDialogButtonBox()
        self.apply_button: QPushButton = self.buttons.addButton(
            apply_text, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setObjectName("diffApply")
        self.apply_button.setDefault(True)
        self.apply_button.setEnabled(bool(diff))
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.note)
        layout.addWidget(self.warnings)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 460)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
