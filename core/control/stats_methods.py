"""``stats.totals`` and ``stats.series``: the statistics file and the graphs' time series.

``stats.totals`` is what ``mailstats`` prints, as data (per-mailer rows with
Sendmail's mailer names, the T and C rows). ``stats.series`` reads any range of
the ring file in one call (minute buckets for the last 48 hours, hour buckets
for 90 days; ``auto`` picks by the range).
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..stats import MAILERS, StatsError, StatusFile, TimeSeries
from .context import Context, Stream
from .params import Params
from .protocol import IO_ERROR, NOT_AVAILABLE, RpcError

_ARRAYS = ("nf", "bf", "nt", "bt", "nr", "nd", "nq")
_NAMES = ("msgsfr", "bytes_from", "msgsto", "bytes_to", "msgsrej", "msgsdis", "msgsqur")


def stats_totals(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    try:
        stats = StatusFile(config.status_file).read()
    except (OSError, StatsError) as exc:
        raise RpcError(IO_ERROR, f"{config.status_file}: {exc}") from exc
    rows = []
    for index in range(len(stats.nf)):
        values = {
            name: getattr(stats, arr)[index] for arr, name in zip(_ARRAYS, _NAMES, strict=True)
        }
        if (
            values["msgsfr"]
            or values["msgsto"]
            or values["msgsrej"]
            or values["msgsdis"]
            or (values["msgsqur"])
        ):
            name = MAILERS[index] if index < len(MAILERS) else ""
            rows.append({"mailer": index, "name": name, **values})
    total = {name: sum(getattr(stats, arr)) for arr, name in zip(_ARRAYS, _NAMES, strict=True)}
    return {
        "file": str(config.status_file),
        "since": stats.itime,
        "mailers": rows,
        "total": total,
        "connections": {"from": stats.cf, "to": stats.ct, "rejected": stats.cr},
    }


def stats_series(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    if config.time_series_file is None:
        raise RpcError(NOT_AVAILABLE, "TimeSeriesFile is not set in the configuration")
    now = time.time()
    end = params.number("end", now, low=0, high=2**40)
    start = params.number("start", end - 3600, low=0, high=2**40)
    if start >= end:
        raise RpcError("bad_params", "start must be before end")
    resolution = params.choice("resolution", ("auto", "minute", "hour"), "auto")
    try:
        with TimeSeries(config.time_series_file) as ring:
            data = ring.read(start, end, resolution=resolution, now=now)  # type: ignore[arg-type]
    except (OSError, StatsError) as exc:
        raise RpcError(IO_ERROR, f"{config.time_series_file}: {exc}") from exc
    gauges = {
        name: [None if v is None or math.isnan(v) else v for v in values]
        for name, values in data.gauges.items()
    }
    return {
        "resolution": data.resolution,
        "timestamps": list(data.timestamps),
        "counters": {name: list(values) for name, values in data.counters.items()},
        "gauges": gauges,
    }
