"""What the queue browser does to jobs: hold, release, delete, export, deliver now.

:class:`QueueActions` asks what it must (a hold reason; a confirmation before delete,
which the user can turn off; where to save), calls the RPC and reports the server's
answer through ``message``; ``queueEdited`` asks the browser to refresh.  Every answer
is shown as the server gave it, including ``not_available`` for "Deliver now" until
delivery lands.  Export writes each job as an ``.eml`` file: its headers (``$g`` in
``Return-Path`` replaced by the envelope sender) and body, as ``queue.show`` returns
them (at most 1 MiB of body).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postroom.core.control.protocol import RpcError
from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QInputDialog, QMessageBox, QWidget

EXPORT_BODY = 1024 * 1024
CONFIRM_DELETE = "confirm_delete"


def eml_text(job: dict[str, Any]) -> str:
    """The message of one ``queue.show`` result as RFC 5322 text."""
    sender = str((job.get("envelope") or {}).get("sender") or "<>")
    lines = []
    for header in job.get("headers") or []:
        value = str(header.get("value") or "")
        if header.get("name", "").lower() == "return-path":
            value = sender
        lines.append(f"{header.get('name')}: {value}")
    return "\n".join(lines) + "\n\n" + str(job.get("body") or "")


def summary(verb: str, result: Any) -> str:
    """``Held 3 messages`` plus each failure the server listed."""
    if not isinstance(result, dict):
        return f"{verb}: {result}"
    done = result.get("done") or []
    failed = result.get("failed") or []
    text = f"{verb} {len(done)} message{'s' if len(done) != 1 else ''}"
    if failed:
        text += "; failed: " + "; ".join(f"{f.get('id')}: {f.get('message')}" for f in failed)
    return text


class QueueActions(QObject):
    """Queue actions for one session; results as signals."""

    message = Signal(str)
    queueEdited = Signal()

    def __init__(
        self,
        session: Session,
        settings: Settings,
        parent: QWidget,
        log_delivery: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.widget = parent
        self.log_delivery = log_delivery

    def _call(self, method: str, params: dict[str, Any], verb: str) -> None:
        req = self.session.request(method, params, timeout=120.0)
        req.finished.connect(lambda result: self._done(verb, result))
        req.failed.connect(lambda error: self._failed(verb, error))

    def _done(self, verb: str, result: Any) -> None:
        self.message.emit(summary(verb, result))
        self.queueEdited.emit()

    def _failed(self, verb: str, error: Any) -> None:
        text = error.message if isinstance(error, RpcError) else str(error)
        self.message.emit(f"{verb}: failed: {text}")
        QMessageBox.warning(self.widget, "Postroom", f"{verb} failed:\n{text}")

    def hold(self, ids: list[str]) -> None:
        if not ids:
            return
        reason, ok = QInputDialog.getText(
            self.widget,
            "Hold messages",
            f"Hold (quarantine) {len(ids)} message(s). Reason, shown in the queue:",
        )
        if ok and reason.strip():
            self._call("queue.hold", {"ids": ids, "reason": reason.strip()}, "Held")

    def release(self, ids: list[str]) -> None:
        if ids:
            self._call("queue.release", {"ids": ids}, "Released")

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        if self.settings.flag(CONFIRM_DELETE, True) and not self._confirm_delete(len(ids)):
            return
        self._call("queue.delete", {"ids": ids}, "Deleted")

    def _confirm_delete(self, count: int) -> bool:
        box = QMessageBox(self.widget)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete messages")
        box.setText(f"Delete {count} message(s) from the queue?")
        box.setInformativeText("They are removed for good; no bounce is sent.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        again = QCheckBox("Do not ask again")
        box.setCheckBox(again)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Yes and again.isChecked():
            self.settings.set_flag(CONFIRM_DELETE, False)
        return answer == QMessageBox.StandardButton.Yes

    def deliver(self, ids: list[str]) -> None:
        params: dict[str, Any] = {"ids": ids} if ids else {}
        what = f"{len(ids)} selected message(s)" if ids else "the whole queue"
        self.log_delivery(f"> queue.run: deliver {what} now")
        req = self.session.request("queue.run", params, stream=True, timeout=300.0)
        req.chunk.connect(self._delivery_lines)
        req.finished.connect(lambda result: self._delivered(result))
        req.failed.connect(lambda error: self._delivery_failed(error))

    def _delivery_lines(self, rows: list[Any]) -> None:
        for row in rows:
            self.log_delivery(row if isinstance(row, str) else json.dumps(row))

    def _delivered(self, result: Any) -> None:
        self.log_delivery(f"< {json.dumps(result)}")
        self.message.emit("Deliver now: done")
        self.queueEdited.emit()

    def _delivery_failed(self, error: Any) -> None:
        text = error.message if isinstance(error, RpcError) else str(error)
        self.log_delivery(f"< {text}")
        self.message.emit(f"Deliver now: {text}")

    def export(self, ids: list[str]) -> None:
        if not ids:
            return
        if len(ids) == 1:
            path, _ = QFileDialog.getSaveFileName(
                self.widget, "Export message", f"{ids[0]}.eml", "E-mail (*.eml)"
            )
            if path:
                self._export_one(ids[0], Path(path))
            return
        folder = QFileDialog.getExistingDirectory(self.widget, f"Export {len(ids)} messages to")
        if folder:
            for qid in ids:
                self._export_one(qid, Path(folder) / f"{qid}.eml")

    def _export_one(self, qid: str, path: Path) -> None:
        req = self.session.request("queue.show", {"id": qid, "body_bytes": EXPORT_BODY})
        req.finished.connect(lambda job: self._write(job, path))
        req.failed.connect(lambda error: self._failed(f"Export of {qid}", error))

    def _write(self, job: Any, path: Path) -> None:
        if not isinstance(job, dict):
            return
        try:
            path.write_text(eml_text(job), encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            self.message.emit(f"Export to {path} failed: {exc.strerror}")
            return
        cut = " (body cut at 1 MiB)" if job.get("body_truncated") else ""
        self.message.emit(f"Exported {job.get('queue_id')} to {path}{cut}")
