"""One connection's screens: the banner over the tabs Dashboard … Log.

:class:`SessionView` builds the screens for a :class:`~postroom.gui.models.session.Session`.
The Queue and Hosts screens are built; the others show an :class:`~.placeholder.ArrivesPage` that
says what brings them (the server's own ``not_available`` reason when it gives one),
never invented data.
"""

from __future__ import annotations

from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from .banner import ConnectionBanner
from .hosts_screen import HostsScreen
from .placeholder import ArrivesPage
from .queue_screen import QueueScreen

_NEXT_GUI = "The screen itself arrives with the next part of the GUI work (issue 7)."
PLACEHOLDERS = {
    "Dashboard": (
        "Live graphs of messages received, delivered, deferred, bounced and rejected per "
        "minute, bytes in and out, queue size and the oldest message's age.",
        ("stats.series", "stats.totals"),
    ),
    "Privacy": (
        "PrivacyOptions as a checklist, each flag explained, with a diff before Apply.",
        ("privacy.get",),
    ),
    "Ports": (
        "DaemonPortOptions as a table of listeners, each modifier explained.",
        ("ports.get",),
    ),
    "Aliases": (
        "The aliases file: list, editor with validation, newaliases.",
        ("aliases.get", "aliases.rebuild"),
    ),
    "Vacation": (
        "Per-user vacation settings with a preview of the exact reply.",
        ("vacation.get",),
    ),
    "Log": (
        "A follow-mode tail of the log with a LogLevel filter and search.",
        ("log.tail",),
    ),
}
SCREENS = ("Dashboard", "Queue", "Hosts", "Privacy", "Ports", "Aliases", "Vacation", "Log")


class SessionView(QWidget):
    """Banner plus screen tabs for one session."""

    def __init__(self, session: Session, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.banner = ConnectionBanner(session)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.queue = QueueScreen(session, settings)
        self.hosts = HostsScreen(session)
        self.screens: dict[str, QWidget] = {}
        for name in SCREENS:
            if name == "Queue":
                screen: QWidget = self.queue
            elif name == "Hosts":
                screen = self.hosts
            else:
                purpose, methods = PLACEHOLDERS[name]
                screen = ArrivesPage(session, name, purpose, methods, _NEXT_GUI)
            screen.setObjectName(f"screen_{name.lower()}")
            self.screens[name] = screen
            self.tabs.addTab(screen, name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.queue.restore_state()
        self.show_screen(settings.text("screen", "Queue"))

    def show_screen(self, name: str) -> None:
        if name in self.screens:
            self.tabs.setCurrentWidget(self.screens[name])

    def current_screen(self) -> str:
        return SCREENS[self.tabs.currentIndex()]

    def save_state(self) -> None:
        self.queue.save_state()
        self.settings.set_text("screen", self.current_screen())
