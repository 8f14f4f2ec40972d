"""Configuration: the TOML file with Sendmail's option names, loaded, validated and saved."""
