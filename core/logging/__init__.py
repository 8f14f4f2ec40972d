"""Logging: LogLevel semantics, the -X traffic log and the mail log."""
