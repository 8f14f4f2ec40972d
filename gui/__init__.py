"""Postroom's PySide6 desktop app (the GUI issue builds it)."""
