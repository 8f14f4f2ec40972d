"""The statistics file and time series (not yet built)."""
