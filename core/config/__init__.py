"""Configuration: the TOML file with Sendmail's option names, loaded, validated and saved.

Modules: ``loader`` (``load_config``, ``ConfigError``), ``model`` (``Config``),
``options`` (the option table), ``reload`` (SIGHUP), ``describe`` (``-bP``), ``profile``
(the embedded profile and the default config path), ``certs`` (self-signed certificates).
"""
