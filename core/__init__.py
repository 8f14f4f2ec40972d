"""Postroom's embedded mail transfer agent, modelled on Sendmail 8.

Nothing under ``postroom.core`` imports Qt, pyqtgraph or paramiko; the GUI
reaches the core only through ``postroom.core.control``'s protocol.
"""

__version__ = "0.1.0"
