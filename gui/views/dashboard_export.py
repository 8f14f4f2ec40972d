"""Exports of the Dashboard: the plots as a PNG, the visible series as CSV.

:func:`write_csv` writes one row per bucket that starts within the plots' visible time
range, with the bucket's start as local ISO 8601 time and as a Unix time, then one
column per visible series (counts per bucket, bytes, queue size, oldest age in
seconds; empty where a gauge recorded nothing).  :func:`write_png` saves a rendering of
a widget (the four plots and their readout).  Both report failures as ``OSError`` with
the file name, for the screen to show.
"""

from __future__ import annotations

import csv
import errno
import time
from collections.abc import Sequence
from pathlib import Path

from postroom.gui.models.stats_series import SeriesBuffer
from PySide6.QtWidgets import QWidget


def iso_local(stamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(stamp))


def write_csv(
    path: Path, buffer: SeriesBuffer, names: Sequence[str], start: float, end: float
) -> int:
    """Write the buckets in [start, end]; returns the number of data rows."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["time", "unix_time", *names])
        for stamp, values in buffer.rows(start, end):
            cells = []
            for name in names:
                value = values[name]
                cells.append("" if value is None else f"{value:g}")
            out.writerow([iso_local(stamp), stamp, *cells])
            count += 1
    return count


def write_png(path: Path, widget: QWidget) -> None:
    """Save ``widget`` as it is drawn now."""
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(errno.EIO, "the image could not be written", str(path))
