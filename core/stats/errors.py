"""The stats package's exception tree.

Everything raised here derives from :class:`StatsError`.  Each carries the
sysexits code ``mailstats`` exits with (``exit_code``), and the statistics
file errors' ``str`` is the exact line Sendmail's ``mailstats`` prints:

- :class:`StatsOpenError` -- the file cannot be opened or read
  (``mailstats: <file>: No such file or directory``; EX_NOINPUT).
- :class:`StatsFormatError` -- wrong magic, version or size
  (``mailstats: incorrect magic number in <file>`` ...; EX_OSERR).
- :class:`TimeSeriesError` -- a time-series file that is not ours, or a
  metric name it does not know (also a ``ValueError``).
"""

from __future__ import annotations

import os

EX_USAGE = 64
EX_NOINPUT = 66
EX_SOFTWARE = 70
EX_OSERR = 71
EX_OSFILE = 72


class StatsError(Exception):
    """Base class of every error raised by ``postroom.core.stats``."""

    exit_code = EX_SOFTWARE


class StatsOpenError(StatsError):
    """The statistics file could not be opened or read (like ``perror``)."""

    exit_code = EX_NOINPUT

    def __init__(self, name: str, err: int) -> None:
        super().__init__(f"mailstats: {name}: {os.strerror(err)}")
        self.name = name
        self.errno = err


class StatsFormatError(StatsError):
    """The file is not a version-4 statistics file of this platform's size."""

    exit_code = EX_OSERR


class TimeSeriesError(StatsError, ValueError):
    """A time-series file that cannot be used, or an unknown metric."""
