"""Mail statistics: Sendmail's StatusFile and ``mailstats``, and a ring file for graphs.

Public API (see each module's docstring):

- statistics file: :data:`MAILERS`, :class:`StatCounters`, :class:`Statistics`,
  :class:`StatusFile` (``merge``, ``read``, ``reset``, ``read_and_reset``)
- report: :func:`format_mailstats`, :func:`mailstats_main` (the ``mailstats``
  command, returning a sysexits code)
- graphs: :class:`TimeSeries`, :class:`SeriesData`, :data:`COUNTERS`,
  :data:`GAUGES`, :data:`METRICS`
- errors: :class:`StatsError` and its subclasses
"""

from .errors import StatsError, StatsFormatError, StatsOpenError, TimeSeriesError
from .mailstats import format_mailstats, mailstats_main
from .statusfile import MAILERS, StatCounters, Statistics, StatusFile
from .timeseries import COUNTERS, GAUGES, METRICS, SeriesData, TimeSeries

__all__ = [
    "COUNTERS",
    "GAUGES",
    "MAILERS",
    "METRICS",
    "SeriesData",
    "StatCounters",
    "Statistics",
    "StatsError",
    "StatsFormatError",
    "StatsOpenError",
    "StatusFile",
    "TimeSeries",
    "TimeSeriesError",
    "format_mailstats",
    "mailstats_main",
]
