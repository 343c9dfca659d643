"""Report figures drawn with pyqtgraph offscreen and exported as images (Qt; not pure).

pyqtgraph 0.14's SVGExporter fails under Qt 6.11 (pyqtgraph #3485, notes/qt.md §6), so the
figures are rasterised with ImageExporter at print resolution (about 220 dpi across an A4 text
width) and placed into the report document as images.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QFont, QImage
from PyQt6.QtWidgets import QApplication

from host.reports.metrics import RangeStats, SessionData

__all__ = [
    "ISO_COLORS",
    "ensure_app",
    "plot_daily_trend",
    "plot_timeline",
    "plot_zone_bars",
]

logger = logging.getLogger(__name__)

IMAGE_WIDTH_PX = 1600
# ISO 11226 trunk bands: backward, acceptable, time-limited, not acceptable
ISO_COLORS = ("#9ecae1", "#a1d99b", "#fdd49e", "#fc9272")
ISO_BANDS = ((-90.0, 0.0), (0.0, 20.0), (20.0, 60.0), (60.0, 120.0))
_LINE = "#08306b"
_app: QApplication | None = None


def ensure_app() -> QApplication:
    """The QApplication (created offscreen when there is no display)."""
    global _app
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QApplication([])
    return _app


def _plot(title: str, height_px: int, axis_items: dict[str, Any] | None = None) -> tuple[Any, Any]:
    import pyqtgraph as pg

    ensure_app()
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    widget = pg.GraphicsLayoutWidget()
    # never appears on a real screen; "shown" only so that Qt lays the axes out (notes/qt.md §6)
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.resize(IMAGE_WIDTH_PX // 2, height_px // 2)
    item = widget.addPlot(title=title, axisItems=axis_items)
    item.showGrid(x=False, y=True, alpha=0.25)
    font = QFont("DejaVu Sans", 9)
    for side in ("left", "bottom"):
        item.getAxis(side).setTickFont(font)
    return widget, item


def _export(widget: Any, height_px: int) -> QImage:
    import pyqtgraph.exporters as exporters

    widget.show()
    app = ensure_app()
    app.processEvents()
    item = widget.ci
    exporter = exporters.ImageExporter(item)
    exporter.parameters()["width"] = IMAGE_WIDTH_PX
    exporter.parameters()["height"] = height_px
    image = exporter.export(toBytes=True)
    widget.close()
    if not isinstance(image, QImage):
        raise TypeError("pyqtgraph ImageExporter did not return a QImage")
    return image


def _bin_means(
    data: SessionData, bin_s: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean flexion per ``bin_s`` seconds at epoch seconds, with NaN breaks across gaps."""
    s = data.summaries
    if len(s) == 0:
        return np.zeros(0), np.zeros(0)
    minute = s.sec // bin_s
    edges = np.concatenate(([0], np.flatnonzero(np.diff(minute)) + 1))
    flex = s.flexion_deg.astype(np.float64)
    ok = np.isfinite(flex)
    with np.errstate(invalid="ignore"):
        mean = np.add.reduceat(np.where(ok, flex, 0.0), edges) / np.add.reduceat(ok * 1.0, edges)
    x = data.started_at.timestamp() + (minute[edges] + 0.5) * bin_s
    # break the line where minutes are missing
    breaks = np.flatnonzero(np.diff(minute[edges]) > 1) + 1
    x_out: npt.NDArray[np.float64] = np.insert(x, breaks, np.nan).astype(np.float64)
    y_out: npt.NDArray[np.float64] = np.insert(mean, breaks, np.nan).astype(np.float64)
    return x_out, y_out


def timeline_bin_s(sessions: list[SessionData]) -> int:
    """Averaging interval of the timeline, s: 1 min, longer when that would exceed ~1500 points
    (a month of 1-min points is unreadable at print size and slow to stroke)."""
    seconds = sum(len(d.summaries) for d in sessions)
    return int(60 * max(1, -(-seconds // (1500 * 60))))


def plot_timeline(sessions: list[SessionData]) -> QImage:
    """Flexion over time with the ISO 11226 zone bands behind it."""
    import pyqtgraph as pg

    bin_s = timeline_bin_s(sessions)
    title = f"Trunk flexion ({bin_s // 60}-min means)"

    height = 560
    widget, item = _plot(title, height, {"bottom": pg.DateAxisItem(orientation="bottom")})
    xs, ys = [], []
    for data in sorted(sessions, key=lambda d: d.started_at):
        x, y = _bin_means(data, bin_s)
        xs += [x, np.array([np.nan])]
        ys += [y, np.array([np.nan])]
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    finite = np.isfinite(x)
    x0, x1 = (float(np.nanmin(x)), float(np.nanmax(x))) if finite.any() else (0.0, 1.0)
    lo = min(-10.0, float(np.nanmin(y)) - 5.0) if np.isfinite(y).any() else -10.0
    hi = max(70.0, float(np.nanmax(y)) + 5.0) if np.isfinite(y).any() else 70.0
    for (a, b), color in zip(ISO_BANDS, ISO_COLORS, strict=True):
        band = pg.LinearRegionItem(
            values=(a, b), orientation="horizontal", movable=False, brush=QColor(color)
        )
        for line in band.lines:
            line.setPen(pg.mkPen(None))
        band.setZValue(-10)
        item.addItem(band)
    item.plot(x, y, pen=pg.mkPen(_LINE, width=2), connect="finite")
    item.setLabel("left", "flexion", units="°")
    item.setXRange(x0, x1, padding=0.01)
    item.setYRange(lo, hi, padding=0)
    return _export(widget, height)


def plot_zone_bars(stats: RangeStats) -> QImage:
    """Share of valid time per ISO 11226 zone and per posture zone, percent."""
    import pyqtgraph as pg

    height = 440
    widget, item = _plot("Time in zones: ISO 11226 bands (left), posture zones (right)", height)
    o = stats.overall
    total = o.valid_s or 1.0
    iso = [100.0 * o.iso_zone_s[k] / total for k in o.iso_zone_s]
    zones = ["reclined", "upright", "mild", "slouched", "deep"]
    posture = [100.0 * o.zone_s.get(k, 0.0) / total for k in zones]
    labels = [f"{k}°" for k in o.iso_zone_s] + zones
    values = iso + posture
    colors = [*ISO_COLORS, "#9ecae1", "#a1d99b", "#ffffb2", "#fdd49e", "#fc9272"]
    x = np.arange(len(values), dtype=float)
    x[len(iso) :] += 1.0  # a gap between the two groups
    bars = pg.BarGraphItem(
        x=x,
        height=values,
        width=0.8,
        brushes=[QColor(c) for c in colors],
        pen=pg.mkPen("#555555"),
    )
    item.addItem(bars)
    for xi, v in zip(x, values, strict=True):
        text = pg.TextItem(f"{v:.0f}%", color="k", anchor=(0.5, 1.0))
        text.setFont(QFont("DejaVu Sans", 8))
        text.setPos(xi, v)
        item.addItem(text)
    item.getAxis("bottom").setTicks([list(zip(x.tolist(), labels, strict=True))])
    item.setYRange(0, max([*values, 10.0]) * 1.15, padding=0)
    item.setLabel("left", "% of valid time")
    return _export(widget, height)


def plot_daily_trend(stats: RangeStats) -> QImage:
    """Hours per day in each ISO zone (stacked), one bar per day."""
    import pyqtgraph as pg

    height = 440
    widget, item = _plot("Daily trend: hours in ISO 11226 zones", height)
    days = stats.days
    x = np.arange(len(days), dtype=float)
    bottom = np.zeros(len(days))
    for key, color in zip(("<0", "0-20", "20-60", ">60"), ISO_COLORS, strict=True):
        h = np.array([d.iso_zone_s[key] / 3600.0 for d in days])
        item.addItem(
            pg.BarGraphItem(
                x=x, y0=bottom, height=h, width=0.7, brush=QColor(color), pen=pg.mkPen("#777777")
            )
        )
        bottom = bottom + h
    step = max(1, len(days) // 10)
    ticks = [
        (float(i), datetime.fromisoformat(d.label).strftime("%d %b")) for i, d in enumerate(days)
    ]
    item.getAxis("bottom").setTicks([ticks[::step]])
    item.setLabel("left", "hours")
    item.setYRange(0, max(float(bottom.max()) if days else 1.0, 1.0) * 1.1, padding=0)
    if len(days) == 1:
        item.setXRange(-1.5, 1.5)
    return _export(widget, height)
