"""The detail pane of the queue browser: one job from ``queue.show``.

Tabs: Envelope (sender, times, attempts, status, hold reason, macros), Recipients
(address, flags, status per recipient), Headers, Body (the first 64 KiB), Transcript
(the job's ``xf`` file: the session transcript a delivery attempt in progress -- or one
that crashed -- left, which becomes the "Transcript of session follows" of a bounce)
and Delivery (the answer of "Deliver now", streamed in as it comes).  A damaged control
file shows its raw text and the parser's complaint instead.
"""

from __future__ import annotations

import html
import time
from typing import Any

from postroom.gui.models.queue_rows import fmt_age, fmt_size
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QTextBrowser, QWidget


def _when(stamp: Any) -> str:
    if not isinstance(stamp, int | float) or not stamp:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) + (
        f"  ({fmt_age(time.time() - stamp)} ago)" if stamp <= time.time() else ""
    )


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='color:#57606a; padding-right:14px'>{html.escape(k)}</td>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table cellspacing='0' cellpadding='2'>{cells}</table>"


def envelope_html(job: dict[str, Any]) -> str:
    env = job.get("envelope") or {}
    rows = [
        ("Queue id", str(job.get("queue_id", ""))),
        ("Control file", str(job.get("control_file", ""))),
        ("Part of queue", str(job.get("queue_name") or "")),
        ("Sender", str(env.get("sender") or "<>")),
        ("Arrived", _when(env.get("arrival_time"))),
        ("Size", fmt_size(int(job.get("message_size") or -1))),
        ("Attempts", str(env.get("attempts", 0))),
        ("Last attempt", _when(env.get("last_attempt"))),
        ("Next try", _when(job.get("next_try"))),
        ("Priority", str(env.get("priority", ""))),
        ("Status", str(env.get("status") or "–")),
        ("Hold reason", str(env.get("quarantine") or "–")),
        ("Being delivered", "yes (locked)" if job.get("locked") else "no"),
        ("Body type", str(env.get("body_type") or "–")),
        ("Flags", str(env.get("flags") or "–")),
    ]
    if env.get("auth"):
        rows.append(("AUTH", str(env["auth"])))
    for macro in env.get("macros") or []:
        rows.append((f"Macro ${macro.get('name')}", str(macro.get("value") or "")))
    return _table(rows)


def recipients_html(job: dict[str, Any]) -> str:
    head = "".join(
        f"<th align='left' style='padding-right:14px'>{h}</th>"
        for h in ("Address", "Flags", "Status")
    )
    body = "".join(
        "<tr>"
        f"<td style='padding-right:14px'>{html.escape(str(r.get('address', '')))}</td>"
        f"<td style='padding-right:14px'>{html.escape(str(r.get('flags') or ''))}</td>"
        f"<td>{html.escape(str(r.get('status') or 'waiting'))}</td>"
        "</tr>"
        for r in job.get("recipients") or []
    )
    return f"<table cellspacing='0' cellpadding='2'><tr>{head}</tr>{body}</table>"


def headers_text(job: dict[str, Any]) -> str:
    lines = []
    for h in job.get("headers") or []:
        condition = f"?{h['condition']}?" if h.get("condition") else ""
        lines.append(f"{condition}{h.get('name')}: {h.get('value')}")
    return "\n".join(lines)


def transcript_text(job: dict[str, Any]) -> str:
    """The xf file's text, or a note saying why there is none."""
    text = job.get("transcript")
    if job.get("transcript_error"):
        return f"(the transcript cannot be read: {job['transcript_error']})"
    if not isinstance(text, str) or not text:
        return (
            "(no transcript: the xf file exists only while a delivery attempt is running, "
            "or after one that was interrupted)"
        )
    more = "\n[… truncated: only the first 64 KiB are shown]"
    return text + (more if job.get("transcript_truncated") else "")


class QueueDetail(QTabWidget):
    """Shows one job; ``show_job`` with a ``queue.show`` result."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.envelope = QTextBrowser()
        self.recipients = QTextBrowser()
        self.headers = QPlainTextEdit()
        self.body = QPlainTextEdit()
        self.transcript = QPlainTextEdit()
        self.transcript.setObjectName("transcript")
        self.delivery = QPlainTextEdit()
        for text in (self.headers, self.body, self.transcript, self.delivery):
            text.setReadOnly(True)
            text.setFont(fixed)
        self.addTab(self.envelope, "Envelope")
        self.addTab(self.recipients, "Recipients")
        self.addTab(self.headers, "Headers")
        self.addTab(self.body, "Body")
        self.addTab(self.transcript, "Transcript")
        self.addTab(self.delivery, "Delivery")
        self.clear_job("Select a message to see it here.")

    def clear_job(self, note: str = "") -> None:
        self.envelope.setHtml(f"<p style='color:#57606a'>{html.escape(note)}</p>")
        self.recipients.clear()
        self.headers.clear()
        self.body.clear()
        self.transcript.clear()

    def show_job(self, job: dict[str, Any]) -> None:
        if job.get("envelope") is None:
            problem = html.escape(str(job.get("error") or "unreadable control file"))
            raw = html.escape(str(job.get("control_text") or ""))
            self.envelope.setHtml(
                f"<p style='color:#cf222e'><b>Damaged job:</b> {problem}</p><pre>{raw}</pre>"
            )
            self.recipients.clear()
            self.headers.clear()
        else:
            self.envelope.setHtml(envelope_html(job))
            self.recipients.setHtml(recipients_html(job))
            self.headers.setPlainText(headers_text(job))
        body = job.get("body")
        if body is None:
            self.body.setPlainText(f"(no body: {job.get('body_error') or 'none'})")
        else:
            more = "\n\n[… truncated: only the first 64 KiB are shown]"
            self.body.setPlainText(str(body) + (more if job.get("body_truncated") else ""))
        self.transcript.setPlainText(transcript_text(job))

    def show_error(self, text: str) -> None:
        self.clear_job(text)

    def log_delivery(self, text: str) -> None:
        self.delivery.appendPlainText(text)
        self.setCurrentWidget(self.delivery)
