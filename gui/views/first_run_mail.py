"""One "Send test message", followed until the message has left the queue.

:class:`SendTestMessage` asks the server for ``server.send_test`` (which submits the
message over SMTP to the daemon and runs the queue for it) and reports each step as a
line of text: the queue id as soon as the daemon has accepted the message, the
delivery run's outcome, and then what the queue itself says -- ``queue.show`` answering
``not_found`` is the proof the message left it.  While the job is still there (another
queue run holds it, or it was deferred) every ``queue.changed`` event asks again, for
up to :data:`FOLLOW_SECONDS`.  ``finished`` carries whether the message was delivered
and one line that says what happened.
"""

from __future__ import annotations

import html
import time
from typing import Any

from postroom.core.control.protocol import NOT_FOUND, RpcError
from postroom.gui.models.session import Session
from PySide6.QtCore import QObject, QTimer, Signal

FOLLOW_SECONDS = 60


def _error_text(error: Any) -> str:
    return error.message if isinstance(error, RpcError) else str(error)


class SendTestMessage(QObject):
    """Sends one test message through ``session`` and follows it out of the queue."""

    stepped = Signal(str)  # one line of progress (rich text)
    finished = Signal(bool, str)  # delivered?, what happened

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.queue_id: str | None = None
        self.result: dict[str, Any] | None = None
        self.delivered = False
        self.done = False
        self.steps: list[str] = []
        self._queued_at: float | None = None
        self._checking = False
        self._watching = False
        self._deadline = QTimer(self, singleShot=True, interval=FOLLOW_SECONDS * 1000)
        self._deadline.timeout.connect(self._give_up)

    def start(self) -> None:
        self._step("Sending a test message to the daemon's SMTP listener…")
        req = self.session.request("server.send_test", stream=True, timeout=120.0)
        req.chunk.connect(self._on_chunk)
        req.finished.connect(self._on_result)
        req.failed.connect(lambda error: self._finish(False, f"Failed: {_error_text(error)}"))

    def _step(self, text: str) -> None:
        self.steps.append(text)
        self.stepped.emit(text)

    def _on_chunk(self, rows: Any) -> None:
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("stage") == "queued":
                self.queue_id = str(row.get("queue_id"))
                self._queued_at = time.monotonic()
                where = html.escape(str(row.get("listener", "")))
                self._step(f"Queued as <b>{html.escape(self.queue_id)}</b> by {where}.")

    def _on_result(self, result: Any) -> None:
        if not isinstance(result, dict):
            self._finish(False, "Failed: server.send_test gave no result")
            return
        self.result = result
        if self.queue_id is None:
            self.queue_id = str(result.get("queue_id"))
            self._queued_at = time.monotonic()
        counts = result.get("delivery") or {}
        outcome = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "nothing to do"
        self._step(
            f"Queue run for {html.escape(self.queue_id)}: {html.escape(outcome)} "
            f"({float(result.get('seconds') or 0):.1f} s after sending)."
        )
        self._deadline.start()
        self.session.queueChanged.connect(self._on_queue_changed)
        self._watching = True
        self._check_queue()

    def _on_queue_changed(self, _data: Any) -> None:
        if not self.done:
            self._check_queue()

    def _check_queue(self) -> None:
        if self._checking or self.done or self.queue_id is None:
            return
        self._checking = True
        req = self.session.request("queue.show", {"id": self.queue_id}, timeout=30.0)
        req.finished.connect(self._still_queued)
        req.failed.connect(self._on_show_failed)

    def _still_queued(self, job: Any) -> None:
        self._checking = False
        if self.done:
            return
        status = ""
        if isinstance(job, dict):
            recipients = job.get("recipients") or []
            first = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
            status = str(first.get("status") or "")
        shown = f": {html.escape(status)}" if status else ""
        self._step(f"Still in the queue{shown} — waiting for it to leave.")

    def _on_show_failed(self, error: Any) -> None:
        self._checking = False
        if isinstance(error, RpcError) and error.code == NOT_FOUND:
            self._left_queue()
        elif not self.done:
            self._step(f"Could not look at the queue: {html.escape(_error_text(error))}")

    def _left_queue(self) -> None:
        result = self.result or {}
        mailbox = result.get("mailbox")
        where = f" It is in <tt>{html.escape(str(mailbox))}</tt>." if mailbox else ""
        to = html.escape(str(result.get("to", "")))
        self._finish(True, f"Delivered to {to}: the message has left the queue.{where}")

    def _give_up(self) -> None:
        self._finish(
            False,
            f"The message is still in the queue after {FOLLOW_SECONDS} s; "
            "the Queue screen shows why.",
        )

    def _finish(self, delivered: bool, text: str) -> None:
        if self.done:
            return
        self.done = True
        self.delivered = delivered
        self._deadline.stop()
        if self._watching:
            self.session.queueChanged.disconnect(self._on_queue_changed)
            self._watching = False
        self._step(text)
        self.finished.emit(delivered, text)
