"""Re-reading the configuration on SIGHUP without ever losing the one in force.

Owns ``reload_config(current)``: it loads ``current.path`` again with the same ``-O``
overrides; when the new file is refused, the old configuration stays in force and the
error is returned for logging (BAD-INPUTS 54: "a reload keeps the old config").
"""

from __future__ import annotations

from .errors import ConfigError
from .loader import load_config
from .model import Config


def reload_config(current: Config) -> tuple[Config, ConfigError | None]:
    """(new config, None) when the file loads; (``current``, the error) when it does not."""
    try:
        return load_config(current.path, current.overrides), None
    except ConfigError as exc:
        return current, exc
