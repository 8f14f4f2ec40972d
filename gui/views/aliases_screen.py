"""The Aliases screen: the aliases file as a table of alias -> targets, edited and applied safely.

Three pages:

- **Aliases**: a searchable table (name, targets, line, what the server's check
  found) beside :class:`~.alias_editor.AliasEditor`.  Every keystroke changes only
  that alias's lines of the proposed text (:mod:`~postroom.gui.models.alias_document`,
  so comments, order and other entries stay byte for byte) and asks the server to
  judge the whole proposed text (``aliases.check``: the real parser and expander),
  whose verdicts appear next to the name and each target.  Add, Delete, Revert.
- **Text**: the proposed file as text, for what the table cannot express; errors
  are listed by line and the table follows once the text parses.
- **File and database**: the file beside the compiled table (praliases), with the
  differences marked (:class:`~.alias_compare.AliasCompareView`).

Apply shows the change as a diff (:class:`~.diff_dialog.DiffDialog`); accepting it
writes the file through ``aliases.set`` (refused with ``conflict`` if the file changed
since it was read), which runs newaliases at once; the screen then reads the file and
the compiled table again and shows newaliases' summary and whether the database now
matches.  Apply is refused while the proposed text does not parse or an added or
changed alias has an error.  "Rebuild" runs newaliases alone.  Reads and writes show a
progress bar with Cancel after 300 ms; a lost connection marks the data stale.
"""

from __future__ import annotations

import time
from typing import Any

from postroom.core.control.protocol import CONFLICT, NOT_AVAILABLE, RpcError
from postroom.gui.models.alias_checker import AliasChecker
from postroom.gui.models.alias_compare import FileEntry
from postroom.gui.models.alias_document import render_entry, unified_diff
from postroom.gui.models.alias_state import AliasState
from postroom.gui.models.session import Session
from postroom.gui.qt_client import ConnectionState, Request
from postroom.gui.settings import Settings
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .alias_compare import AliasCompareView
from .alias_editor import ERROR_STYLE, AliasEditor
from .alias_table import AliasTableView
from .alias_text import AliasTextPage
from .busy_bar import BusyBar
from .diff_dialog import DiffDialog
from .screen_requests import ScreenRequests

APPLY_NOTE = (
    "The file is written atomically (the old one is kept as .bak), then newaliases "
    "compiles it; the daemon uses the new table for the next delivery."
)


class AliasesScreen(QWidget):
    """The aliases file of one connection."""

    def __init__(self, session: Session, settings: Settings | None = None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.state = AliasState()
        self.current: int | None = None
        self.note = ""
        self.last_summary = ""
        self.diff_dialog: DiffDialog | None = None
        self._request: Request | None = None
        self.requests = ScreenRequests(self)
        self.checker = AliasChecker(session, self)
        self.checker.checked.connect(self._on_checked)
        self.checker.failed.connect(self._on_check_failed)
        self.checker.busyChanged.connect(self._on_check_busy)
        self._build()
        session.connectedAgain.connect(self._on_connected_again)
        session.changed.connect(self._on_session)

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.list = AliasTableView()
        self.list.chosen.connect(self._on_chosen)
        self.model, self.proxy, self.table = self.list.model, self.list.proxy, self.list.table
        self.search = QLineEdit()
        self.search.setObjectName("aliasSearch")
        self.search.setPlaceholderText("Search aliases and targets")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.list.set_filter)
        self.add_button = QPushButton("Add alias")
        self.delete_button = QPushButton("Delete")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Forget the changes and read the file again")
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("aliasesApply")
        self.rebuild_button = QPushButton("Rebuild")
        self.rebuild_button.setToolTip("Run newaliases: compile the file as it is on disk")
        self.add_button.clicked.connect(self.add_alias)
        self.delete_button.clicked.connect(self.delete_alias)
        self.revert_button.clicked.connect(self.revert)
        self.apply_button.clicked.connect(self.apply)
        self.rebuild_button.clicked.connect(self.rebuild)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        for button in (self.add_button, self.delete_button):
            bar.addWidget(button)
        bar.addSpacing(12)
        for button in (self.revert_button, self.apply_button, self.rebuild_button):
            bar.addWidget(button)
        self.editor = AliasEditor()
        self.editor.edited.connect(self._on_edited)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(ERROR_STYLE)
        self.banner.hide()
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.editor)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        aliases_page = QWidget()
        page_box = QVBoxLayout(aliases_page)
        page_box.setContentsMargins(0, 4, 0, 0)
        page_box.addWidget(self.banner)
        page_box.addWidget(split, 1)
        self.text_page = AliasTextPage()
        self.text_page.edited.connect(self._on_text_edited)
        self.compare = AliasCompareView()
        self.compare.rebuild_button.clicked.connect(self.rebuild)
        self.pages = QTabWidget()
        self.pages.addTab(aliases_page, "Aliases")
        self.pages.addTab(self.text_page, "Text")
        self.pages.addTab(self.compare, "File and database")
        self.pages.currentChanged.connect(self._on_page)
        self.busy = BusyBar()
        self.check_busy = BusyBar()
        self.status = QLabel("")
        self.status.setObjectName("aliasesStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #57606a;")
        work = QWidget()
        layout = QVBoxLayout(work)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)
        self.unavailable = QLabel("")
        self.unavailable.setObjectName("aliasesUnavailable")
        self.unavailable.setWordWrap(True)
        self.unavailable.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(work)
        self.stack.addWidget(self.unavailable)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.stack, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(self.check_busy)
        foot.addWidget(self.busy)
        outer.addLayout(foot)
        self._update_buttons()

    # -- reading -------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.state.loaded is None:
            self.refresh()

    def _on_connected_again(self) -> None:
        if self.state.loaded is None or not self.state.dirty:
            self.refresh()

    def _on_session(self) -> None:
        self._update_buttons()
        if self.session.state == ConnectionState.LOST and self._request is not None:
            self._request = None
            self.busy.stop()
        if self.session.state == ConnectionState.LOST and self.state.loaded is not None:
            if not self.status.text().startswith("stale"):
                self.status.setText("stale — connection lost; " + self.status.text())

    def _call(self, method: str, params: dict[str, Any] | None, text: str) -> Request | None:
        if not self.session.connected:
            self.status.setText(f"Not connected: {method} not sent.")
            return None
        if self._request is not None:
            self._request.cancel()
        request = self.requests.track(self.session.request(method, params, timeout=300.0))
        self._request = request
        self.busy.start(text, self._cancel)
        request.failed.connect(lambda error: self._on_failed(request, method, error))
        return request

    def _cancel(self) -> None:
        if self._request is not None:
            self._request.cancel()
            self._request = None
        self.status.setText("Cancelled.")
        self._update_buttons()

    def _done(self, request: Request) -> bool:
        """True when ``request`` is the one this screen still waits for."""
        if request is not self._request:
            return False
        self._request = None
        self.busy.stop()
        return True

    def refresh(self, *, keep_edits: bool = False) -> None:
        """Read the file and its compiled table (``keep_edits``: only the right-hand view)."""
        request = self._call("aliases.get", None, "Reading the aliases file…")
        if request is not None:
            request.finished.connect(lambda result: self._on_get(request, result, keep_edits))

    def _on_get(self, request: Request, result: Any, keep_edits: bool) -> None:
        if not self._done(request) or not isinstance(result, dict):
            return
        self.stack.setCurrentIndex(0)
        if keep_edits and self.state.dirty:
            self.state.disk = result  # the edits keep the text they started from as base
        else:
            self.state.load(result)
            self.current = None
            self.editor.clear()
            self.text_page.set_text(self.state.doc.text())
            self._rows()
            self.checker.check(self.state.doc.text(), now=True)
        self._show_compare()
        fetched = time.strftime("%H:%M:%S")
        entries = len(result.get("entries") or [])
        self.status.setText(
            f"{self.note}{result.get('path', '')}: {entries} aliases · fetched {fetched}"
        )
        self.note = ""
        self._update_buttons()

    def _show_compare(self) -> None:
        loaded = self.state.disk or {}
        entries = [FileEntry.from_wire(e) for e in loaded.get("entries") or []]
        compiled = loaded.get("compiled") if loaded.get("compiled_exists", True) else None
        self.compare.show_tables(
            str(loaded.get("path", "")),
            str(loaded.get("text", "")),
            entries,
            str(loaded.get("compiled_path", "")),
            compiled if isinstance(compiled, list) else None,
        )

    def _on_failed(self, request: Request, method: str, error: Any) -> None:
        if not self._done(request):
            return
        if isinstance(error, RpcError) and error.code == NOT_AVAILABLE and method == "aliases.get":
            self.unavailable.setText(
                "<h3>Aliases are not available on this server</h3>"
                f"<p>{_escape(error.message)}.</p><p>Set <tt>AliasFile</tt> in the "
                "configuration to the aliases file this MTA should use.</p>"
            )
            self.stack.setCurrentIndex(1)
            return
        text = error.message if isinstance(error, RpcError) else str(error)
        if isinstance(error, RpcError) and error.code == CONFLICT:
            text += " (Revert reads it again; your changes are then lost — copy them first.)"
        self.status.setText(f"{method} failed: {text}")
        self._update_buttons()

    # -- the server's verdicts ---------------------------------------------------------------

    def _on_check_busy(self, busy: bool) -> None:
        if busy:
            self.check_busy.start("Checking…", self.checker.cancel)
        else:
            self.check_busy.stop()
        self._update_buttons()

    def _on_check_failed(self, text: str) -> None:
        self.status.setText(f"aliases.check failed: {text}")
        self._update_buttons()

    def _on_checked(self, text: str, result: dict[str, Any]) -> None:
        if not self.state.take_check(text, result):
            return
        if self.current is not None and self.state.doc.block(self.current) is None:
            self.current = None
            self.editor.clear()
        self.text_page.show_problems(self.state.file_problems())
        self._rows()
        if self.current is not None and not self.editor.isEnabled():
            self._load_editor(self.current)
        self._editor_verdicts()
        self._update_buttons()

    def _rows(self) -> None:
        self.list.set_rows(self.state.rows(), self.current)
        if self.state.raw_text is not None:
            self.banner.setText("The text does not parse: fix it on the Text page.")
        elif self.state.error_lines():
            lines = ", ".join(str(n) for n in self.state.error_lines()[:8])
            self.banner.setText(f"The proposed file has errors on line(s) {lines}.")
        self.banner.setVisible(self.state.raw_text is not None or bool(self.state.error_lines()))

    # -- editing -------------------------------------------------------------------------

    def select_alias(self, name: str) -> bool:
        """Select the alias ``name`` in the table (and open it in the editor)."""
        block = self.state.doc.find(name)
        return block is not None and self.list.select(block.id)

    def _on_chosen(self, block_id: int) -> None:
        if block_id != self.current:
            self.current = block_id
            self._load_editor(block_id)
            self._update_buttons()

    def _load_editor(self, block_id: int) -> None:
        block = self.state.doc.block(block_id)
        targets = self.state.editor_targets(block_id)
        if block is None:
            self.editor.clear()
            return
        if targets is None:
            self.editor.clear()
            self.editor.title.setText(f"<b>{block.key}</b> — waiting for the server's check…")
            return
        first = self.state.doc.span(block_id)[0]
        self.editor.load(f"{block.key} — line {first}", block.key or "", targets)
        self._editor_verdicts()

    def _editor_verdicts(self) -> None:
        if self.current is None or not self.editor.isEnabled():
            return
        found = self.state.verdicts(
            self.current, len(self.editor.filled_rows()), self.editor.name_text()
        )
        self.editor.show_check(found.name, found.targets, found.entry, found.expands_to)

    def _on_edited(self) -> None:
        if self.current is None:
            return
        name = self.editor.name_text()
        targets = self.editor.targets()
        block = self.state.doc.block(self.current)
        before = len(block.lines) if block is not None else -1
        lines = render_entry(name, targets)
        self.state.doc.replace(self.current, name, lines)
        self.state.info.pop(self.current, None)
        self.state.raw_text = None
        row = self.state.row_for(self.current) if len(lines) == before else None
        if row is None or not self.model.replace_row(row):
            self._rows()  # other lines moved: every row's line number changes
        self.checker.check(
            self.state.doc.text(),
            keys=[name] if name else [],
            name=name or None,
            targets=targets,
        )
        self._update_buttons()

    def add_alias(self) -> None:
        if self.state.raw_text is not None:
            return
        block = self.state.doc.append("", render_entry("", []))
        self.current = block.id
        self.editor.load("New alias", "", [("address", "")])
        self._rows()
        self.editor.name.setFocus()
        self.checker.check(self.state.doc.text(), keys=[], targets=[])
        self._update_buttons()

    def delete_alias(self) -> None:
        if self.current is None or self.state.raw_text is not None:
            return
        self.state.doc.remove(self.current)
        self.state.info.pop(self.current, None)
        self.current = None
        self.editor.clear()
        self._rows()
        self.checker.check(self.state.doc.text(), now=True)
        self._update_buttons()

    def revert(self) -> None:
        self.note = "Reverted. "
        self.refresh()

    # -- the Text page ----------------------------------------------------------------------

    def _on_page(self, index: int) -> None:
        if self.pages.widget(index) is self.text_page and self.state.raw_text is None:
            self.text_page.set_text(self.state.doc.text())

    def _on_text_edited(self, text: str) -> None:
        self.state.raw_text = text
        self.current = None
        self.editor.clear()
        self.checker.check(text)
        self._rows()
        self._update_buttons()

    # -- applying ----------------------------------------------------------------------------

    def apply_problem(self) -> str | None:
        """Why Apply is refused now, or None."""
        return self.state.apply_problem(self.checker.busy)

    def apply(self) -> None:
        why = self.apply_problem()
        if why is not None:
            self.status.setText(f"Not applied: {why}.")
            return
        loaded = self.state.loaded or {}
        text = self.state.pending_text()
        path = str(loaded.get("path", "aliases"))
        diff = unified_diff(str(loaded.get("text", "")), text, path.rsplit("/", 1)[-1])
        dialog = DiffDialog(
            f"Apply changes to {path}",
            diff,
            self,
            note=APPLY_NOTE,
            warnings=self.state.apply_warnings(),
            apply_text="Write and rebuild",
        )
        dialog.accepted.connect(lambda: self._write(text))
        self.diff_dialog = dialog
        dialog.open()

    def _write(self, text: str) -> None:
        loaded = self.state.loaded or {}
        params = {"text": text, "base_sha256": loaded.get("sha256"), "rebuild": True}
        request = self._call("aliases.set", params, "Writing the file and running newaliases…")
        if request is not None:
            request.finished.connect(lambda result: self._on_written(request, result))

    def _on_written(self, request: Request, result: Any) -> None:
        if not self._done(request):
            return
        rebuild = result.get("rebuild") if isinstance(result, dict) else None
        summary = str(rebuild.get("summary", "")) if isinstance(rebuild, dict) else ""
        self.last_summary = summary
        self.note = f"Written and rebuilt — newaliases: {summary} · "
        self.refresh()

    def rebuild(self) -> None:
        request = self._call("aliases.rebuild", None, "Running newaliases…")
        if request is not None:
            request.finished.connect(lambda result: self._on_rebuilt(request, result))

    def _on_rebuilt(self, request: Request, result: Any) -> None:
        if not self._done(request) or not isinstance(result, dict):
            return
        self.last_summary = str(result.get("summary", ""))
        lines = [str(x) for x in result.get("lines") or [] if str(x) != self.last_summary]
        extra = (" · " + "; ".join(lines)) if lines else ""
        self.note = f"newaliases: {self.last_summary}{extra} · "
        self.refresh(keep_edits=True)

    def _update_buttons(self) -> None:
        live = self.session.connected
        loaded = self.state.loaded is not None
        idle = self._request is None
        table_ok = loaded and self.state.raw_text is None
        self.add_button.setEnabled(table_ok)
        self.delete_button.setEnabled(table_ok and self.current is not None)
        self.revert_button.setEnabled(live and loaded and idle)
        self.rebuild_button.setEnabled(live and loaded and idle)
        self.compare.rebuild_button.setEnabled(live and loaded and idle)
        why = self.apply_problem()
        self.apply_button.setEnabled(live and idle and why is None)
        self.apply_button.setToolTip(
            f"Apply is not possible: {why}"
            if why is not None
            else "Show the change, then write the file and rebuild"
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
