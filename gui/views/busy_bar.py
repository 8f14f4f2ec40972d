"""Progress for work that may take a while: shown only after 300 ms, with Cancel.

:class:`BusyBar` is a row with what is happening, an indeterminate progress bar and a
Cancel button.  ``start(text, on_cancel)`` arms it; if ``stop()`` comes within
``BUSY_AFTER_MS`` nothing was ever shown (quick answers do not flicker).  Cancel calls
``on_cancel`` and hides the bar; what cancelling means is the caller's business (usually
``Request.cancel()``, so a late answer is dropped).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

BUSY_AFTER_MS = 300


class BusyBar(QWidget):
    """Hidden until the work it tracks has run for ``BUSY_AFTER_MS``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self._on_cancel: Callable[[], None] | None = None
        self._timer = QTimer(self, singleShot=True, interval=BUSY_AFTER_MS)
        self._timer.timeout.connect(self.show)
        self.hide()

    @property
    def busy(self) -> bool:
        return self._on_cancel is not None

    def start(self, text: str, on_cancel: Callable[[], None]) -> None:
        """Track new work (replacing any before it); the bar appears after 300 ms."""
        self.label.setText(text)
        self._on_cancel = on_cancel
        if not self.isVisible():
            self._timer.start()

    def stop(self) -> None:
        self._on_cancel = None
        self._timer.stop()
        self.hide()

    def cancel(self) -> None:
        on_cancel = self._on_cancel
        self.stop()
        if on_cancel is not None:
            on_cancel()
