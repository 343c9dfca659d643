"""History tab: recorded sessions, a day timeline, statistics and "Export report…".

Reads the local session store (:mod:`host.recording.store`); the per-second summaries make a
whole day cheap to load (28 800 rows for 8 hours), so loading happens in the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt
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
from host.gui.zones import ZONE_STYLES, zone_bands
from host.recording.store import SessionInfo, SessionStore, default_db_path

__all__ = ["HistoryTab", "session_statistics"]

logger = logging.getLogger(__name__)


def session_statistics(zone: npt.NDArray[np.int8], alerts: int) -> list[tuple[str, str]]:
    """Rows of (label, value): time in each zone (per-second zone codes) and alert count."""
    rows = [("Recorded", format_duration(float(zone.size)))]
    total = max(zone.size, 1)
    for style in ZONE_STYLES:
        seconds = int(np.count_nonzero(zone == style.code))
        rows.append((style.label, f"{format_duration(seconds)} ({100 * seconds / total:.0f} %)"))
    rows.append(("Alerts", str(alerts)))
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
        item.setLabel("bottom", "hours into the session")
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
        self.stats.setHorizontalHeaderLabels(["", "Value"])
        self.stats.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
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
        """Plot the session's per-second flexion and fill the statistics table."""
        store = self._open()
        if store is None:
            return
        with store:
            summaries = store.summaries(session_id)
            alerts = len(store.events(session_id, "alert"))
        hours = summaries.sec.astype(np.float64) / 3600.0
        self.curve.setData(hours, summaries.flexion_deg.astype(np.float64), connect="finite")
        if hours.size:
            self.timeline.getPlotItem().setXRange(float(hours[0]), float(hours[-1]), padding=0)
        rows = session_statistics(summaries.zone, alerts)
        self.stats.setRowCount(len(rows))
        for row, (label, value) in enumerate(rows):
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

    def write_report(self, session_id: int, path: Path) -> None:
        """Write the report of ``session_id`` to ``path`` (PDF, or HTML for ``.html``)."""
        from host.reports import write_report

        try:
            write_report(self.db_path, [session_id], path)
        except PostureError as exc:
            QMessageBox.warning(self, "Export report", str(exc))
            return
        self.message.setText(f"Report written to {path}")
