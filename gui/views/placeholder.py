"""A screen that is not built yet: says what brings it, never shows made-up data.

:class:`ArrivesPage` shows the screen's name, what it will do, and what it arrives
with.  When the server names a method the screen needs as not available, the server's
own reason is shown ("arrives with the statistics (MTA core, part 4)"); otherwise the
page says the app's screen itself is still to come.
"""

from __future__ import annotations

from postroom.gui.models.session import Session
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget


class ArrivesPage(QWidget):
    """Placeholder for a screen; refreshed when the session learns the server's methods."""

    def __init__(
        self, session: Session, title: str, purpose: str, methods: tuple[str, ...], later: str
    ) -> None:
        super().__init__()
        self.session = session
        self.title = title
        self.purpose = purpose
        self.methods = methods
        self.later = later
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setFixedWidth(620)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.label)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        session.changed.connect(self.refresh)
        self.refresh()

    def reason(self) -> str:
        for method in self.methods:
            why = self.session.not_available(method)
            if why:
                return f"The server says <tt>{method}</tt> {why}."
        return self.later

    def refresh(self) -> None:
        self.label.setText(
            f"<h2>{self.title}</h2><p>{self.purpose}</p>"
            f"<p style='color:#57606a'>Not here yet. {self.reason()}</p>"
        )
