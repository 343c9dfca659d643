"""The live flexion plot: a scrolling window of 60 000 points per curve redrawn at 30 Hz.

Performance recipe from notes/qt.md §3: peak downsampling (keeps slouch spikes), clip to view,
skip the finite check, cosmetic width-1 pens, fixed axis ranges and a constant "seconds ago"
x axis, so one redraw of two 60k-point curves costs a few milliseconds.

The widget counts its real ``paintEvent`` calls and, for every data block, the time from the
engine handing it over to the first paint that shows it (sample-to-screen latency); the
benchmark reads both.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QPaintEvent
from PyQt6.QtWidgets import QWidget

from host.gui.bridge import LiveFrame

__all__ = ["FlexionPlot", "ZoneBand"]

logger = logging.getLogger(__name__)

FLEXION_PEN = pg.mkPen(color="#1f5fbf", width=1, cosmetic=True)
LATERAL_PEN = pg.mkPen(color="#9a9a9a", width=1, cosmetic=True)
THRESHOLD_PEN = pg.mkPen(color="#c0392b", width=1, cosmetic=True, style=Qt.PenStyle.DashLine)


_VIEW_STEPS_S = (60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)


class ZoneBand:
    """A horizontal band of flexion angles drawn behind the curves.

    Attributes:
        low_deg: lower edge, degrees.
        high_deg: upper edge, degrees.
        colour: fill colour (``#rrggbb``), drawn translucent.
        label: zone name.
    """

    __slots__ = ("colour", "high_deg", "label", "low_deg")

    def __init__(self, low_deg: float, high_deg: float, colour: str, label: str) -> None:
        self.low_deg = low_deg
        self.high_deg = high_deg
        self.colour = colour
        self.label = label


class FlexionPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """Flexion (and lateral bend) against "seconds ago" with zone bands and the alert threshold.

    Args:
        window_s: width of the scrolling window, seconds.
        parent: Qt parent.
    """

    Y_RANGE_DEG = (-30.0, 90.0)

    def __init__(self, window_s: float = 600.0, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background="w")
        self.window_s = window_s
        self.view_s = window_s  # the x range shown, seconds (≤ window_s while filling)
        self.paint_count = 0
        self.latencies_s: collections.deque[float] = collections.deque(maxlen=100_000)
        self._awaiting_paint: list[float] = []
        self.points_plotted = 0
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        # No grid: pyqtgraph draws grid lines inside the axis items' picture, which replays
        # across the whole plot on every paint (6 ms per axis here, more than the curves);
        # the zone bands give the reference lines instead.
        item.setLabel("left", "flexion", units="°")
        item.setLabel("bottom", "minutes ago")
        item.setMouseEnabled(x=False, y=False)
        item.enableAutoRange(False)
        item.setXRange(-window_s / 60.0, 0.0, padding=0.0)
        item.setYRange(*self.Y_RANGE_DEG, padding=0.0)
        item.addLegend(offset=(10, 5), labelTextSize="8pt")
        self._bands: list[pg.LinearRegionItem] = []
        self.lateral_curve = item.plot(pen=LATERAL_PEN, name="lateral bend")
        self.flexion_curve = item.plot(pen=FLEXION_PEN, name="flexion")
        for curve in (self.flexion_curve, self.lateral_curve):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setSkipFiniteCheck(True)
        self.threshold_line = pg.InfiniteLine(
            angle=0,
            pen=THRESHOLD_PEN,
            movable=False,
            label="alert above {value:.0f}°",
            labelOpts={"position": 0.06, "color": "#c0392b", "anchors": [(0, 1), (0, 1)]},
        )
        self.threshold_line.setZValue(5)
        item.addItem(self.threshold_line)

    def set_zone_bands(self, bands: Sequence[ZoneBand]) -> None:
        """Replace the zone bands (angles in degrees)."""
        item = self.getPlotItem()
        for band in self._bands:
            item.removeItem(band)
        self._bands = []
        for band in bands:
            colour = QColor(band.colour)
            colour.setAlpha(40)
            region = pg.LinearRegionItem(
                values=(band.low_deg, band.high_deg),
                orientation="horizontal",
                brush=pg.mkBrush(colour),
                pen=pg.mkPen(None),
                movable=False,
            )
            region.setZValue(-10)
            region.setToolTip(band.label)
            item.addItem(region)
            self._bands.append(region)

    def set_threshold(self, threshold_deg: float) -> None:
        """Draw the alert threshold (calibrated neutral + tolerance), degrees."""
        self.threshold_line.setValue(threshold_deg)

    def show_frame(self, frame: LiveFrame) -> None:
        """Plot a drained frame; x is minutes before the newest sample."""
        if frame.t_s.size == 0:
            return
        x_min = (frame.t_s - frame.t_s[-1]) / 60.0
        flexion, lateral = frame.flexion_deg, frame.lateral_deg
        # The fast path skips pyqtgraph's finite check, so NaN (no calibration yet) must not
        # reach it; dropping them only costs a copy while some of the window is uncalibrated.
        finite = np.isfinite(flexion) & np.isfinite(lateral)
        if not finite.all():
            x_min, flexion, lateral = x_min[finite], flexion[finite], lateral[finite]
        self.flexion_curve.setData(x_min, flexion)
        self.lateral_curve.setData(x_min, lateral)
        self.points_plotted = int(flexion.size)
        if flexion.size:
            # Only blocks that are drawn have a sample-to-screen latency (not uncalibrated ones).
            self._awaiting_paint.extend(frame.arrivals)
        self._fit_view(float(frame.t_s[-1] - frame.t_s[0]))

    def _fit_view(self, span_s: float) -> None:
        # While the window fills, show the data across the plot in steps (1, 2, 5, 10 min...)
        # rather than as a sliver at the right; steps keep the axis still most of the time.
        view_s = next((s for s in _VIEW_STEPS_S if s >= span_s), self.window_s)
        view_s = min(view_s, self.window_s)
        if view_s != self.view_s:
            self.view_s = view_s
            self.getPlotItem().setXRange(-view_s / 60.0, 0.0, padding=0.0)

    def clear_data(self) -> None:
        empty = np.zeros(0)
        self.flexion_curve.setData(empty, empty)
        self.lateral_curve.setData(empty, empty)
        self._awaiting_paint.clear()
        self._fit_view(0.0)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802  # Qt override
        super().paintEvent(event)
        self.paint_count += 1
        if self._awaiting_paint:
            now = time.monotonic()
            self.latencies_s.extend(now - arrival for arrival in self._awaiting_paint)
            self._awaiting_paint.clear()
