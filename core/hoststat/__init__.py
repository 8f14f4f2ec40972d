"""Persistent host status (not yet built)."""
