"""Exercise tab: the therapist's program, what is due today, adherence, recent exercise
sessions and range-of-motion trends (read-only; sessions are run with ``posture exercise run``
and ``posture rom``).

Reads the local session store and the imported program through :mod:`host.exercise` (the
numbers are the same as in the therapist report); loading is cheap (events only), so it runs
in the GUI thread when the tab is opened.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path

from PyQt6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from host.errors import PostureError
from host.exercise.adherence import due_today
from host.exercise.program import Program, load_program
from host.exercise.records import load_sessions
from host.exercise.report import ExerciseSection, exercise_section
from host.exercise.rom import NORM_NOTE
from host.exercise.summary import ExerciseDay, exercise_days
from host.recording.store import SessionStore, default_db_path

__all__ = ["ExerciseTab"]

logger = logging.getLogger(__name__)

_DAYS = 28  # the period shown: four weeks up to today


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    if header is not None:
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            table.setItem(i, j, QTableWidgetItem(text))


class ExerciseTab(QWidget):
    """Program, due today, four weeks of exercise and ROM trends.

    Args:
        db_path: session database; None for the default location. Not created by viewing.
        program_path: the imported program; None for the default location.
        parent: Qt parent.
    """

    def __init__(
        self,
        db_path: Path | None = None,
        program_path: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = db_path or default_db_path()
        self.program_path = program_path
        self.section: ExerciseSection | None = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.program_label = QLabel("")
        self.program_label.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.program_label, 1)
        row.addWidget(self.refresh_button)
        layout.addLayout(row)
        self.due_label = QLabel("")
        self.due_label.setWordWrap(True)
        layout.addWidget(self.due_label)
        self.table = _table(
            ["Exercise", "Prescribed", "Days done", "Sets", "Reps", "Partial", "Holds", "Quality"]
        )
        layout.addWidget(self.table, 2)
        self.adherence_label = QLabel("")
        layout.addWidget(self.adherence_label)
        layout.addWidget(QLabel("Range of motion and tests"))
        self.rom_table = _table(["Test", "Trend", "Age norm"])
        layout.addWidget(self.rom_table, 1)
        note = QLabel(
            f"<small>{NORM_NOTE}. Run exercises with 'posture exercise run NAME' "
            "and checks with 'posture rom'.</small>"
        )
        note.setWordWrap(True)
        layout.addWidget(note)

    def refresh(self, today: dt.date | None = None) -> None:
        """Reload the program and the stored sessions."""
        today = today or dt.datetime.now(dt.UTC).astimezone().date()
        first = today - dt.timedelta(days=_DAYS - 1)
        try:
            program = load_program(self.program_path)
        except PostureError as exc:
            program = None
            self.program_label.setText(f"Program could not be read: {exc}")
        else:
            self.program_label.setText(
                f"Program: {program.title}"
                if program is not None
                else "No program imported (posture program import FILE)."
            )
        sessions = []
        if self.db_path.exists():
            try:
                with SessionStore.open(self.db_path) as store:
                    sessions = load_sessions(store, first, today)
            except PostureError as exc:
                logger.warning("exercise tab: %s", exc)
        self.section = exercise_section(sessions, program, first, today)
        self._show(self.section, program, exercise_days(sessions), today)

    def _show(
        self,
        section: ExerciseSection,
        program: Program | None,
        days: list[ExerciseDay],
        today: dt.date,
    ) -> None:
        if program is not None:
            due = due_today(program, days, today)
            self.due_label.setText(
                "Due today: " + ", ".join(f"{d.exercise} ({d.sets_left} x {d.reps})" for d in due)
                if due
                else "Nothing due today."
            )
        else:
            self.due_label.setText("")
        rows = []
        for r in section.rows:
            done = f"{r.days_done}/{r.days_prescribed}" if r.days_prescribed else str(r.days_done)
            holds = f"{r.holds} ({r.hold_s:.0f} s)" if r.holds else "–"
            quality = "–" if math.isnan(r.quality) else f"{r.quality:.0f}"
            rows.append(
                [
                    r.exercise,
                    r.prescribed or "–",
                    done,
                    str(r.sets),
                    str(r.reps),
                    str(r.partials),
                    holds,
                    quality,
                ]
            )
        _fill(self.table, rows)
        self.adherence_label.setText(
            "Weekly adherence: "
            + ", ".join(f"{w.monday:%d %b} {100 * w.fraction:.0f} %" for w in section.weeks)
            if section.weeks
            else ""
        )
        rom_rows = []
        for test, points in section.rom.items():
            trend = " → ".join(
                f"{p.day:%d %b} {p.value:.1f}{'°' if p.unit == 'deg' else ' s'}" for p in points
            )
            norm = points[-1].norm
            rom_rows.append([test, trend, "–" if norm is None else f"{norm:.0f}°"])
        _fill(self.rom_table, rom_rows)
