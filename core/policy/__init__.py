"""Policy: PrivacyOptions, DaemonPortOptions parsing and relay decisions."""
