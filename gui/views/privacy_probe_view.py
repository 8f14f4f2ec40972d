"""What a client now sees: the rows of a ``privacy.probe`` answer, as a table.

:class:`ProbeView` shows the listener probed and when, one row per command the probe
sent (what the client sent, before or after EHLO, the server's reply exactly, what the
configuration says it should be, and whether they agree), and the EHLO keywords that
PrivacyOptions governs (EXPN, VERB, DSN, ETRN) with the same check.  Rows that disagree
are red: the daemon does not (yet) enforce what the file says.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

HEADERS = ("Client sends", "When", "Server answers", "Should be (set by)", "")
AGREES = QBrush(QColor(26, 127, 55))
DIFFERS = QBrush(QColor(176, 0, 32))


def _verdict(refused: bool) -> str:
    return "refused" if refused else "answered"


class ProbeView(QWidget):
    """The last probe's result, or why there is none."""

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("<b>What a client sees</b> — not probed yet")
        self.title.setObjectName("probeTitle")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("probeTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for column, width in enumerate((160, 90, 0, 250, 28)):
            if width:
                header.resizeSection(column, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.keywords = QLabel("")
        self.keywords.setObjectName("probeKeywords")
        self.keywords.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.keywords)
        self.result: dict[str, Any] | None = None

    def replies(self) -> dict[str, str]:
        """``"<stage> <command>"`` -> the reply shown (for tests and copy)."""
        out: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            sent = self.table.item(row, 0)
            stage = self.table.item(row, 1)
            reply = self.table.item(row, 2)
            if sent is not None and stage is not None and reply is not None:
                out[f"{stage.text()} {sent.text()}"] = reply.text()
        return out

    def show_note(self, text: str) -> None:
        self.title.setText(f"<b>What a client sees</b> — {text}")

    def show_result(self, result: dict[str, Any], note: str = "") -> None:
        self.result = result
        checks = [c for c in result.get("checks") or [] if isinstance(c, dict)]
        self.table.setRowCount(len(checks))
        for row, check in enumerate(checks):
            ok = bool(check.get("agrees"))
            expected = bool(check.get("expected_refused"))
            cells = (
                str(check.get("command", "")),
                str(check.get("stage", "")),
                str(check.get("reply", "")),
                f"{_verdict(expected)} ({check.get('rule', '')})",
                "✓" if ok else "✗",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 4:
                    item.setForeground(AGREES if ok else DIFFERS)
                elif not ok:
                    item.setForeground(DIFFERS)
                self.table.setItem(row, column, item)
        words = []
        for entry in result.get("advertised") or []:
            if not isinstance(entry, dict):
                continue
            shown = "advertised" if entry.get("advertised") else "not advertised"
            mark = "✓" if entry.get("agrees") else "✗ (configuration says otherwise)"
            words.append(f"{entry.get('keyword')} {shown} {mark}")
        self.keywords.setText("EHLO: " + "; ".join(words) if words else "")
        where = (
            f"listener {result.get('listener')} ({result.get('address')} port {result.get('port')})"
        )
        verdict = (
            "the daemon enforces the configuration"
            if result.get("matches_config")
            else "<span style='color:#b00020'>the daemon does not answer as configured</span>"
        )
        extra = f" · {note}" if note else ""
        self.show_note(f"{where}, {time.strftime('%H:%M:%S')}: {verdict}{extra}")
