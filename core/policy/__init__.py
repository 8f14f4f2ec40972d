"""Policy: PrivacyOptions, DaemonPortOptions parsing and relay decisions.

Modules: ``privacy`` (+ ``privacy_help``), ``ports`` (DaemonPortOptions and
ClientPortOptions), ``relay`` (the RCPT decision), ``auth_users`` (the AuthUsersFile),
``files`` (trust checks and atomic writes), ``errors`` (``PolicyError``).
"""
