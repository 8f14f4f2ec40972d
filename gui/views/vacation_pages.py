"""The Vacation screen's right-hand pages: the reply preview and the reply memory.

:class:`PreviewPage` shows what ``vacation.preview`` built: the SMTP envelope, the
reply exactly as the responder submits it (headers included), the body as the
recipient's mail program shows it when it is encoded, and whether the sample sender
would be answered now and why.  The sample sender and subject are editable;
``samplesEdited`` asks for a new preview.

:class:`MemoryPage` lists the reply memory (``vacation_memory.MemoryModel``) with
"Forget selected" and "Forget all"; ``forgetRequested`` carries the senders to
forget, or None for all of them.
"""

from __future__ import annotations

import email
import email.policy
from typing import Any

from postroom.gui.models.vacation_memory import MemoryModel, MemoryRow
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

SAMPLE_SENDER = "friend@example.org"
SAMPLE_SUBJECT = "Lunch on Friday?"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def readable_body(reply: str) -> str:
    """The reply's body as the recipient's mail program shows it (decoded)."""
    message = email.message_from_string(reply, policy=email.policy.default)
    try:
        content = message.get_content()
    except (KeyError, LookupError, ValueError):
        return ""
    return content if isinstance(content, str) else ""


class PreviewPage(QWidget):
    """The exact reply, and whether the sample sender would get it now."""

    samplesEdited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.sample_sender = QLineEdit(SAMPLE_SENDER)
        self.sample_sender.setToolTip("The sender whose message is answered in the preview")
        self.sample_subject = QLineEdit(SAMPLE_SUBJECT)
        for field in (self.sample_sender, self.sample_subject):
            field.textEdited.connect(lambda _t: self.samplesEdited.emit())
        samples = QHBoxLayout()
        samples.addWidget(QLabel("Sample sender"))
        samples.addWidget(self.sample_sender, 1)
        samples.addWidget(QLabel("subject"))
        samples.addWidget(self.sample_subject, 1)
        self.verdict = QLabel("")
        self.verdict.setObjectName("vacationVerdict")
        self.verdict.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("vacationPreview")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.decoded = QLabel("")
        self.decoded.setWordWrap(True)
        self.decoded.setStyleSheet("color: #57606a;")
        box = QVBoxLayout(self)
        box.addLayout(samples)
        box.addWidget(self.verdict)
        box.addWidget(self.text, 1)
        box.addWidget(self.decoded)

    def sample(self) -> tuple[str, str]:
        return self.sample_sender.text().strip() or SAMPLE_SENDER, self.sample_subject.text()

    def show_refused(self) -> None:
        self.text.setPlainText("")
        self.decoded.setText("")
        self.verdict.setText("No preview: a value is refused (see the field).")

    def show_result(self, result: dict[str, Any]) -> None:
        envelope = result.get("envelope") or {}
        head = (
            f"MAIL FROM:{envelope.get('sender', '<>')}   "
            f"RCPT TO:<{envelope.get('recipient', '')}>\n\n"
        )
        reply = str(result.get("reply", ""))
        self.text.setPlainText(head + reply)
        body = readable_body(reply)
        encoded = body and "quoted-printable" in reply
        self.decoded.setText(f"The recipient reads: {body.strip()}" if encoded else "")
        sender = _escape(str((result.get("incoming") or {}).get("from", "")))
        reason = _escape(str(result.get("reason", "")))
        if result.get("would_reply"):
            color, words = "#1a7f37", "would get this reply now"
        else:
            color, words = "#9a6700", f"would not be answered now: {reason}"
        self.verdict.setText(f"<span style='color:{color}'>{sender} {words}.</span>")


class MemoryPage(QWidget):
    """Who was answered when, and forgetting them."""

    forgetRequested = Signal(object)  # list of senders, or None for all

    def __init__(self) -> None:
        super().__init__()
        self.model = MemoryModel()
        self.table = QTableView()
        self.table.setObjectName("vacationMemory")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().resizeSection(0, 260)
        self.table.horizontalHeader().resizeSection(1, 140)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        explain = QLabel(
            "Senders answered so far. A sender listed here is not answered again until "
            "the interval has passed (never, with interval 0); forget a sender to answer "
            "their next message."
        )
        explain.setWordWrap(True)
        explain.setStyleSheet("color: #57606a;")
        self.forget_button = QPushButton("Forget selected")
        self.forget_button.setToolTip("Their next message is answered again")
        self.forget_button.clicked.connect(self._forget_selected)
        self.forget_all_button = QPushButton("Forget all")
        self.forget_all_button.clicked.connect(lambda: self.forgetRequested.emit(None))
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.forget_button)
        row.addWidget(self.forget_all_button)
        box = QVBoxLayout(self)
        box.addWidget(explain)
        box.addWidget(self.table, 1)
        box.addLayout(row)

    def set_rows(self, rows: list[MemoryRow], fetched: str) -> None:
        self.model.set_rows(rows)
        plural = "s" if len(rows) != 1 else ""
        self.note.setText(f"{len(rows)} sender{plural} remembered · fetched {fetched}")

    def _forget_selected(self) -> None:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        senders = [self.model.row_at(r).sender for r in sorted(rows)]
        if not senders:
            self.note.setText("Select the senders to forget first.")
            return
        self.forgetRequested.emit(senders)

    def set_enabled(self, on: bool) -> None:
        has_rows = self.model.rowCount() > 0
        self.forget_button.setEnabled(on and has_rows)
        self.forget_all_button.setEnabled(on and has_rows)
