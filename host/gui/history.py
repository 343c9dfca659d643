"""History tab: recorded sessions, a day timeline, statistics and "Export report…".

Reads the local session store (:mod:`host.recording.store`); the per-second summaries make a
whole day cheap to load (28 800 rows for 8 hours), so loading happens in the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from host.errors import PostureError
from host.gui.plots import FLEXION_PEN
from host.gui.widgets import format_duration
from host.gui.zones import zone_bands
from host.recording.store import SessionInfo, SessionStore, default_db_path
from host.reports.load import load_session_data
from host.reports.metrics import PeriodStats, compute

__all__ = ["HistoryTab", "session_statistics"]

logger = logging.getLogger(__name__)

_OTHER_PEN = pg.mkPen(color="#9bb3d6", width=1, cosmetic=True)  # the day's other sessions


def session_statistics(stats: PeriodStats) -> list[tuple[str, str]]:
    """Rows of (label, value) a wearer or therapist reads first, from the report's metrics."""
    rows = [
        ("Worn", f"{format_duration(stats.wear_s)} ({100 * stats.valid_fraction:.0f} % valid)"),
    ]
    total = sum(stats.zone_s.values()) or 1.0
    for zone, seconds in stats.zone_s.items():
        if seconds > 0 or zone != "unknown":
            share = f"{format_duration(seconds)} ({100 * seconds / total:.0f} %)"
            rows.append((f"{zone.capitalize()} posture", share))
    for activity, seconds in stats.activity_s.items():
        if seconds > 0:
            rows.append((activity.capitalize(), format_duration(seconds)))
    p10, p50, p90 = (stats.percentiles_deg.get(k, float("nan")) for k in ("P10", "P50", "P90"))
    rows += [
        ("Flexion P10 / P50 / P90", f"{p10:.0f}° / {p50:.0f}° / {p90:.0f}°"),
        (
            "Sustained flexion",
            f"{stats.episodes} episodes, longest {format_duration(stats.episode_longest_s)}",
        ),
        ("Posture shifts", f"{stats.shifts_per_15min:.1f} per 15 min"),
        (
            "Sitting bouts",
            f"{stats.sitting_bouts}, longest {format_duration(stats.longest_bout_s)}",
        ),
        ("Alerts", f"{stats.alerts} ({stats.alerts_corrected} corrected)"),
    ]
    return rows


class HistoryTab(QWidget):
    """Sessions list, selected session's timeline and statistics, report export.

    Args:
        db_path: session database; None for the default location. Not created by viewing.
        parent: Qt parent.
    """

    def __init__(self, db_path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path or default_db_path()
        self.sessions: list[SessionInfo] = []
        self.shown_statistics: list[tuple[str, str]] = []
        self._day_curves: list[pg.PlotDataItem] = []
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("Export report…")
        self.export_button.clicked.connect(self.export_report)
        self.export_button.setEnabled(False)
        self.message = QLabel("")
        row.addWidget(self.message, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Id", "Start", "Duration", "Device", "Samples"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selected)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        self.timeline = pg.PlotWidget(background="w")
        item = self.timeline.getPlotItem()
        item.setLabel("left", "flexion", units="°")
        item.setLabel("bottom", "time of day (h)")
        item.showGrid(x=True, y=True, alpha=0.15)
        for band in zone_bands():
            colour = pg.mkColor(band.colour)
            colour.setAlpha(40)
            region = pg.LinearRegionItem(
                values=(band.low_deg, band.high_deg),
                orientation="horizontal",
                brush=pg.mkBrush(colour),
                pen=pg.mkPen(None),
                movable=False,
            )
            region.setZValue(-10)
            item.addItem(region)
        item.setYRange(-30, 90, padding=0)
        self.curve = item.plot(pen=FLEXION_PEN)
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.stats = QTableWidget(0, 2)
        self.stats.setHorizontalHeaderLabels(["Statistic", "Value"])
        self.stats.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.stats.setWordWrap(False)
        self.stats.setMinimumWidth(360)
        vertical = self.stats.verticalHeader()
        if vertical is not None:
            vertical.hide()
        stats_header = self.stats.horizontalHeader()
        if stats_header is not None:
            stats_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
            stats_header.setStretchLastSection(True)
        bottom.addWidget(self.timeline)
        bottom.addWidget(self.stats)
        bottom.setStretchFactor(0, 3)
        splitter.addWidget(self.table)
        splitter.addWidget(bottom)
        layout.addWidget(splitter, 1)
        self.refresh()

    def _open(self) -> SessionStore | None:
        if not self.db_path.exists():
            self.message.setText("No recordings yet: switch on ● Record while connected.")
            return None
        try:
            return SessionStore.open(self.db_path)
        except PostureError as exc:
            self.message.setText(f"Cannot open the session log: {exc}")
            return None

    def refresh(self) -> None:
        """Reload the sessions list."""
        store = self._open()
        if store is None:
            self.sessions = []
            self.table.setRowCount(0)
            return
        with store:
            self.sessions = store.sessions()
        self.table.setRowCount(len(self.sessions))
        for row, info in enumerate(self.sessions):
            values = (
                str(info.id),
                info.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                format_duration(info.duration_s),
                info.device,
                str(info.n_samples),
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.message.setText(f"{len(self.sessions)} sessions in {self.db_path}")

    def selected_session(self) -> SessionInfo | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        return self.sessions[rows.pop()]

    def _selected(self) -> None:
        info = self.selected_session()
        self.export_button.setEnabled(info is not None)
        if info is not None:
            self.show_session(info.id)

    def show_session(self, session_id: int) -> None:
        """Plot the day of the session (its sessions on a time-of-day axis, the selected one
        highlighted) and fill the statistics table for the selected session."""
        store = self._open()
        if store is None:
            return
        with store:
            info = store.session(session_id)
            day = info.started_at.astimezone().date()
            same_day = [s for s in store.sessions() if s.started_at.astimezone().date() == day]
            data = load_session_data(store, same_day)
        for curve in self._day_curves:
            self.timeline.getPlotItem().removeItem(curve)
        self._day_curves = []
        midnight = dt.datetime.combine(day, dt.time(), info.started_at.astimezone().tzinfo)
        selected_hours = np.zeros(0)
        for session in data:
            offset_h = (session.started_at - midnight).total_seconds() / 3600.0
            hours = offset_h + session.summaries.sec.astype(np.float64) / 3600.0
            flexion = session.summaries.flexion_deg.astype(np.float64)
            if session.session_id == session_id:
                self.curve.setData(hours, flexion, connect="finite")
                selected_hours = hours
            else:
                other = self.timeline.getPlotItem().plot(pen=_OTHER_PEN)
                other.setData(hours, flexion, connect="finite")
                other.setDownsampling(auto=True, method="peak")
                self._day_curves.append(other)
        self.timeline.getPlotItem().setTitle(f"{day:%A %d %B %Y}", size="9pt")
        if selected_hours.size:
            self.timeline.getPlotItem().setXRange(
                float(np.floor(selected_hours[0])), float(np.ceil(selected_hours[-1])), padding=0
            )
        selected = [d for d in data if d.session_id == session_id]
        self.shown_statistics = session_statistics(compute(selected).overall)
        self.stats.setRowCount(len(self.shown_statistics))
        for row, (label, value) in enumerate(self.shown_statistics):
            self.stats.setItem(row, 0, QTableWidgetItem(label))
            self.stats.setItem(row, 1, QTableWidgetItem(value))

    def export_report(self) -> None:
        """Ask for a file name and write the therapist report of the selected session."""
        info = self.selected_session()
        if info is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Export report", f"posture-session-{info.id}.pdf", "PDF (*.pdf);;HTML (*.html)"
        )
        if name:
            self.write_report(info.id, Path(name))

    def write_report(self, session_id: int, path: Path) -> bool:
        """Write the therapist report of ``session_id`` to ``path`` (PDF, or HTML if ``.html``).

        The same report as ``posture report SESSION -o FILE``; the file is the user's only.
        """
        from host.reports.pdf import ReportInput, now_local, render_figures, write_html, write_pdf

        store = self._open()
        if store is None:
            return False
        try:
            with store:
                sessions = [store.session(session_id)]
                data = load_session_data(store, sessions)
                study_id = store.study_id
            report = ReportInput(study_id, sessions, data, compute(data), now_local())
            figures = render_figures(report)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            path.chmod(0o600)
            if path.suffix.lower() == ".html":
                write_html(report, figures, path)
            else:
                write_pdf(report, figures, path)
        except (PostureError, OSError) as exc:
            QMessageBox.warning(self, "Export report", f"Could not write the report: {exc}")
            return False
        self.message.setText(f"Report written to {path}")
        return True
