"""Aliases, :include:, .forward and compiled maps (not yet built)."""
