"""The configuration as text: one (option, value) pair per line for ``-bP`` and the GUI.

Owns ``describe(config)``: every option in table order with its value in the form the
config file would use (durations as ``30m``, lists comma-separated, paths resolved), one
pair per listener for DaemonPortOptions, empty text for an unset option.
"""

from __future__ import annotations

from ..policy.ports import format_daemon_port
from .model import Config
from .options import OPTIONS


def describe(config: Config) -> list[tuple[str, str]]:
    """(option name, value as Sendmail-style text) for every option of ``config``."""
    pairs: list[tuple[str, str]] = []
    for option in OPTIONS.values():
        if option.attr == "timeouts":
            value: object = config.timeouts[option.name.partition(".")[2]]
        else:
            value = getattr(config, option.attr)
        if option.name == "DaemonPortOptions":
            pairs.extend((option.name, format_daemon_port(p)) for p in config.daemon_ports)
            continue
        pairs.append((option.name, option.kind.show(value)))
    return pairs
