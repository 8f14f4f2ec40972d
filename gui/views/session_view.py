"""One connection's screens: the banner over the tabs Dashboard … Log.

:class:`SessionView` builds the eight screens for a
:class:`~postroom.gui.models.session.Session`, each from its own module; a screen whose
server lacks what it needs says so itself (the server's ``not_available`` reason).
"""

from __future__ import annotations

from collections.abc import Callable

from postroom.gui.models.session import Session
from postroom.gui.settings import Settings
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from .aliases_screen import AliasesScreen
from .banner import ConnectionBanner
from .dashboard_screen import DashboardScreen
from .hosts_screen import HostsScreen
from .log_screen import LogScreen
from .ports_screen import PortsScreen
from .privacy_screen import PrivacyScreen
from .queue_screen import QueueScreen
from .vacation_screen import VacationScreen

ScreenFactory = Callable[[Session, Settings], QWidget]
# Screens beyond Queue and Hosts (which the view keeps as attributes): name -> factory.
SCREEN_FACTORIES: dict[str, ScreenFactory] = {
    "Dashboard": DashboardScreen,
    "Privacy": PrivacyScreen,
    "Ports": PortsScreen,
    "Aliases": AliasesScreen,
    "Vacation": VacationScreen,
    "Log": LogScreen,
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
        built: dict[str, QWidget] = {"Queue": self.queue, "Hosts": self.hosts}
        for name, factory in SCREEN_FACTORIES.items():
            built[name] = factory(session, settings)
        self.screens: dict[str, QWidget] = {}
        for name in SCREENS:
            screen = built[name]
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
