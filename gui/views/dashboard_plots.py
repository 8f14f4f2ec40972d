"""The Dashboard's 2x2 plots: messages, bytes, queue size, oldest message's age.

:class:`DashboardPlots` builds four pyqtgraph plots with a date axis each, their x axes
linked, and one curve per series, created once; :meth:`DashboardPlots.show_buffer`
only calls ``setData`` on them, so live ticks never rebuild anything.  A vertical line
follows the mouse across all four plots and the readout above them names the bucket
under it with every series' value (:meth:`DashboardPlots.show_values_at`).  Counters
are counts per bucket (per minute or per hour, as the series' resolution says); the
oldest message's age is drawn in minutes, hours or days, whichever fits.  What came
in (received, bytes in) is a light area under the other curves, so a delivered curve
on top of it does not hide it.  A click on a legend entry hides or shows its curve.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from postroom.gui.models.stats_series import (
    BYTE_SERIES,
    MESSAGE_SERIES,
    PLOTTED,
    SeriesBuffer,
)
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

COLOURS = {
    "received": "#0969da",
    "delivered": "#1a7f37",
    "deferred": "#bf8700",
    "bounced": "#8250df",
    "rejected": "#cf222e",
    "bytes_in": "#0969da",
    "bytes_out": "#1a7f37",
    "queue_size": "#1b7c83",
    "oldest_age": "#bc4c00",
}
LABELS = {
    "received": "received",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounced": "bounced",
    "rejected": "rejected",
    "bytes_in": "bytes in",
    "bytes_out": "bytes out",
    "queue_size": "queued",
    "oldest_age": "oldest",
}
PLOTS = (
    ("messages", "Messages", MESSAGE_SERIES),
    ("bytes", "Bytes", BYTE_SERIES),
    ("queue", "Queue size", ("queue_size",)),
    ("age", "Oldest message in the queue", ("oldest_age",)),
)
FILLED = frozenset({"received", "bytes_in"})
_AGE_UNITS = ((2 * 86_400, 86_400.0, "days"), (2 * 3600, 3600.0, "hours"), (0, 60.0, "minutes"))
_INK = "#24292f"
_GRID_ALPHA = 0.15


def fmt_age(seconds: float | None) -> str:
    """``3d 04h``, ``2h 05m``, ``4m 10s``; an en dash for no value."""
    if seconds is None or math.isnan(seconds):
        return "–"
    s = max(0, int(seconds))
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def fmt_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{int(value)} B"


def fmt_value(name: str, value: float | None) -> str:
    if name == "oldest_age":
        return fmt_age(value)
    if name in BYTE_SERIES:
        return fmt_bytes(value)
    return "–" if value is None else f"{int(value):,}"


class DashboardPlots(QWidget):
    """Four linked plots with one persistent curve per series and a cursor readout."""

    hovered = Signal(float)  # the bucket start under the cursor

    def __init__(self) -> None:
        super().__init__()
        self.buffer = SeriesBuffer()
        self.age_scale = 60.0
        self.readout = QLabel(" ")
        self.readout.setObjectName("dashboardReadout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setMinimumHeight(22)
        self.plots: dict[str, Any] = {}
        self.curves: dict[str, Any] = {}
        self.cursors: list[Any] = []
        grid = QGridLayout()
        grid.setSpacing(6)
        for position, (key, title, series) in enumerate(PLOTS):
            plot = self._make_plot(key, title, series)
            grid.addWidget(plot, position // 2, position % 2)
        first = self.plots["messages"]
        for key in ("bytes", "queue", "age"):
            self.plots[key].setXLink(first)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.readout)
        layout.addLayout(grid, 1)
        self._set_units()

    def _make_plot(self, key: str, title: str, series: tuple[str, ...]) -> Any:
        axis = pg.DateAxisItem(orientation="bottom")
        plot = pg.PlotWidget(background="w", axisItems={"bottom": axis})
        plot.setObjectName(f"plot_{key}")
        plot.setMinimumSize(320, 190)
        item = plot.getPlotItem()
        item.setTitle(title, color=_INK, size="10pt")
        item.showGrid(x=True, y=True, alpha=_GRID_ALPHA)
        item.hideButtons()
        item.setMenuEnabled(False)
        for side in ("left", "bottom"):
            item.getAxis(side).setTextPen(_INK)
            item.getAxis(side).setPen("#8c959f")
        if len(series) > 1:
            item.addLegend(
                offset=(6, 4), colCount=len(series), labelTextColor=_INK, brush=(255, 255, 255, 215)
            )
        for name in series:
            pen = pg.mkPen(COLOURS[name], width=1.5)
            curve = item.plot(name=LABELS[name], pen=pen, connect="finite")
            if name in FILLED:  # an area, so the curves drawn over it stay visible
                colour = pg.mkColor(COLOURS[name])
                colour.setAlpha(45)
                curve.setFillLevel(0)
                curve.setBrush(colour)
            self.curves[name] = curve
        cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#8c959f", width=1))
        cursor.setVisible(False)
        item.addItem(cursor, ignoreBounds=True)
        self.cursors.append(cursor)
        plot.scene().sigMouseMoved.connect(lambda pos, p=plot: self._on_mouse(p, pos))
        self.plots[key] = plot
        return plot

    # -- data ---------------------------------------------------------------------------

    def show_buffer(self, buffer: SeriesBuffer) -> None:
        """Put the buffer's arrays into the curves (``setData`` only)."""
        self.buffer = buffer
        x = buffer.times
        ages = buffer.values["oldest_age"]
        known = ages[~np.isnan(ages)]
        top = float(known.max()) if len(known) else 0.0
        self.age_scale = next(scale for limit, scale, _ in _AGE_UNITS if top >= limit)
        for name in PLOTTED:
            y = buffer.values[name]
            if name == "oldest_age":
                y = y / self.age_scale
            self.curves[name].setData(x=x, y=y, connect="finite")
        self._set_units()

    def _set_units(self) -> None:
        per = "hour" if self.buffer.resolution >= 3600 else "minute"
        self.plots["messages"].getPlotItem().setLabel("left", f"per {per}", color=_INK)
        self.plots["bytes"].getPlotItem().setLabel("left", f"per {per}", units="B", color=_INK)
        self.plots["queue"].getPlotItem().setLabel("left", "messages", color=_INK)
        unit = next(u for _, scale, u in _AGE_UNITS if scale == self.age_scale)
        self.plots["age"].getPlotItem().setLabel("left", unit, color=_INK)

    def set_x_range(self, start: float, end: float) -> None:
        self.plots["messages"].getPlotItem().setXRange(start, end, padding=0.01)

    def visible_span(self) -> tuple[float, float]:
        """The time range the plots show now (after any zoom or pan)."""
        (x0, x1), _ = self.plots["messages"].getPlotItem().viewRange()
        return float(x0), float(x1)

    def visible_series(self) -> list[str]:
        return [name for name in PLOTTED if self.curves[name].isVisible()]

    # -- the cursor -----------------------------------------------------------------------

    def _on_mouse(self, plot: Any, pos: QPointF) -> None:
        item = plot.getPlotItem()
        if not item.sceneBoundingRect().contains(pos):
            return
        point = item.vb.mapSceneToView(pos)
        self.show_values_at(float(point.x()))

    def show_values_at(self, t: float) -> str:
        """Move the cursor to the bucket holding ``t`` and name its values; the text."""
        index = self.buffer.index_at(t)
        if index is None:
            self.readout.setText(" ")
            return ""
        start = float(self.buffer.times[index])
        for cursor in self.cursors:
            cursor.setPos(start)
            cursor.setVisible(True)
        values = self.buffer.row(index)
        stamp = time.strftime("%a %d %b %H:%M", time.localtime(start))
        parts = [f"<b>{stamp}</b>"]
        for name in PLOTTED:
            colour = COLOURS[name]
            shown = fmt_value(name, values[name])
            parts.append(f"<span style='color:{colour}'>{LABELS[name]}</span> {shown}")
        text = " · ".join(parts)
        self.readout.setText(text)
        self.hovered.emit(start)
        return text
