"""Exercise tab: a guided exercise on the running sensor, the therapist's program, what is due
today, adherence, recent exercise sessions, pain ratings and range-of-motion trends.

The guided part runs the pure coach on the dashboard's engine thread
(:class:`host.gui.exercise_live.GuidedRun`); this tab only receives its queued progress. The
session is stored exactly as ``posture exercise run`` stores it, with the pain ratings (NRS
0–10) asked before and after (skippable).

Reads the local session store and the imported program through :mod:`host.exercise` (the
numbers are the same as in the therapist report); loading is cheap (events only), so it runs
in the GUI thread when the tab is opened.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from calibration.model import Calibration
from host.errors import PostureError
from host.exercise.adherence import Due, due_today
from host.exercise.coach import CoachResult
from host.exercise.library import ExerciseSpec, load_library
from host.exercise.program import Program, load_program
from host.exercise.records import load_sessions, record_exercise, record_pain, save_unstored
from host.exercise.report import ExerciseSection, exercise_section, rom_title
from host.exercise.rom import NORM_NOTE
from host.exercise.summary import (
    ExerciseDay,
    exercise_days,
    pain_points,
    result_heading,
    set_lines,
)
from host.gui.exercise_live import CoachView, GuidedRun
from host.gui.session import LiveSession
from host.recording.store import SessionStore, default_db_path

__all__ = ["ExerciseTab", "PainDialog"]

logger = logging.getLogger(__name__)

_DAYS = 28  # the period shown: four weeks up to today
# The state's colour (the link label's: waiting amber, exercising green; rest blue).
_STATE_COLOURS = {"waiting": "#b36b00", "active": "#1e7b34", "rest": "#1f5fa8", "done": "#444"}


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


@dataclass(slots=True, eq=False)
class _Done:
    """A finished guided exercise and what is stored with it."""

    result: CoachResult
    device: str
    started_at: dt.datetime | None
    calibration: dict[str, object] | None
    pain_before: int | None
    pain_after: int | None = None

    def details(self) -> dict[str, Any]:
        """What is stored with the result (keywords of ``record_exercise``/``save_unstored``)."""
        return {
            "device": self.device,
            "started_at": self.started_at,
            "calibration": self.calibration,
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
        }


class PainDialog(QDialog):
    """Pain now on the 0–10 numeric rating scale (NRS), before or after an exercise; skippable.

    ``rating`` is the chosen value after "Save", None after "Skip" (or closing the dialog).
    """

    def __init__(self, when: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.when = when
        self.rating: int | None = None
        self.setWindowTitle(f"Pain {when} the exercise")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"How much pain do you feel now, {when} the exercise?\n"
                "0 = no pain, 10 = worst pain imaginable."
            )
        )
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.value_label = QLabel("0")
        self.value_label.setMinimumWidth(24)
        self.slider.valueChanged.connect(lambda v: self.value_label.setText(str(v)))
        row.addWidget(QLabel("0"))
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("10"))
        row.addWidget(self.value_label)
        layout.addLayout(row)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.skip_button = buttons.addButton("Skip", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        self.rating = self.slider.value()
        super().accept()

    def reject(self) -> None:
        self.rating = None
        super().reject()


class ExerciseTab(QWidget):
    """Guided exercise, program, due today, four weeks of exercise, pain and ROM trends.

    Args:
        db_path: session database; None for the default location. Not created by viewing.
        program_path: the imported program; None for the default location.
        session: the dashboard's live session (None: the guided part only explains).
        ask_pain: ask pain before and after each guided exercise.
        parent: Qt parent.

    Signals:
        wizard_requested(): the wearer wants to calibrate (no calibration yet).
        exercise_started(): a guided exercise attached to the engine (alerts should be quiet).
        exercise_ended(object): it ended; the stored session id, or None when nothing was
            stored.
    """

    wizard_requested = pyqtSignal()
    exercise_started = pyqtSignal()
    exercise_ended = pyqtSignal(object)

    def __init__(
        self,
        db_path: Path | None = None,
        program_path: Path | None = None,
        parent: QWidget | None = None,
        *,
        session: LiveSession | None = None,
        ask_pain: bool = True,
    ) -> None:
        super().__init__(parent)
        self.db_path = db_path or default_db_path()
        self.program_path = program_path
        self.session = session
        self.ask_pain = ask_pain
        self.section: ExerciseSection | None = None
        self.library = load_library()
        self.calibration: Calibration | None = None
        self.device = ""
        self.run: GuidedRun | None = None
        self.pain_dialog: PainDialog | None = None
        self.last_view: CoachView | None = None
        self.last_result: CoachResult | None = None
        self.last_session_id: int | None = None
        self._pain_before: int | None = None
        self._run_device = ""
        self.unsaved: list[_Done] = []  # finished exercises the store refused (kept to retry)
        self._run_calibration: Calibration | None = None
        self._started_at: dt.datetime | None = None
        self._due: list[Due] = []
        # Everything scrolls rather than squeezing text out of sight in a small window; during
        # an exercise only the guided part shows (the history is hidden until it ends).
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget()
        scroll.setWidget(content)
        QVBoxLayout(self).addWidget(scroll)
        top = QVBoxLayout(content)
        self.guided_box = self._build_guided()
        top.addWidget(self.guided_box)
        self.history_part = QWidget()
        top.addWidget(self.history_part, 1)
        layout = QVBoxLayout(self.history_part)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.program_label = QLabel("")
        self.program_label.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self.refresh())
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
        self.pain_label = QLabel("")
        self.pain_label.setWordWrap(True)
        layout.addWidget(self.pain_label)
        layout.addWidget(QLabel("Range of motion and tests"))
        self.rom_table = _table(["Test", "Trend", "Age norm"])
        layout.addWidget(self.rom_table, 1)
        note = QLabel(
            f"<small>{NORM_NOTE}. Exercises also run with 'posture exercise run NAME', "
            "checks with 'posture rom'.</small>"
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self._fill_choices()

    # ------------------------------------------------------------------ guided exercise

    def _build_guided(self) -> QGroupBox:
        box = QGroupBox("Guided exercise")
        outer = QVBoxLayout(box)
        row = QHBoxLayout()
        self.choice = QComboBox()
        self.choice.currentIndexChanged.connect(self._show_instructions)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda: self.start_exercise())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_exercise)
        self.calibrate_button = QPushButton("Calibrate…")
        self.calibrate_button.setVisible(False)
        self.calibrate_button.clicked.connect(self.wizard_requested.emit)
        row.addWidget(self.choice, 1)
        for w in (self.start_button, self.stop_button, self.calibrate_button):
            row.addWidget(w)
        outer.addLayout(row)
        message_row = QHBoxLayout()
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.retry_button = QPushButton("Store again")
        self.retry_button.setVisible(False)
        self.retry_button.clicked.connect(lambda: self.store_again())
        message_row.addWidget(self.message_label, 1)
        message_row.addWidget(self.retry_button)
        outer.addLayout(message_row)
        self.instructions_label = QLabel("")
        self.instructions_label.setWordWrap(True)
        outer.addWidget(self.instructions_label)
        # Read from the floor or a mat a couple of metres away: the count is the biggest thing
        # on screen, the state next to it in colour, the coach's newest line below.
        live = QHBoxLayout()
        big = QFont()
        big.setPointSize(48)
        big.setBold(True)
        self.count_label = QLabel("–")
        self.count_label.setFont(big)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count_label.setMinimumWidth(220)
        self.count_label.setToolTip("Counted reps (or holds) in this set / target")
        side = QVBoxLayout()
        state_font = QFont()
        state_font.setPointSize(18)
        state_font.setBold(True)
        self.state_label = QLabel("")
        self.state_label.setFont(state_font)
        self.set_label = QLabel("")
        self.hold_label = QLabel("")
        self.score_label = QLabel("")
        detail = QFont()
        detail.setPointSize(12)
        side.addStretch(1)
        side.addWidget(self.state_label)
        for label in (self.set_label, self.hold_label, self.score_label):
            label.setFont(detail)
            side.addWidget(label)
        side.addStretch(1)
        live.addWidget(self.count_label)
        live.addLayout(side, 1)
        outer.addLayout(live)
        medium = QFont()
        medium.setPointSize(16)
        self.feedback_label = QLabel("")
        self.feedback_label.setFont(medium)
        self.feedback_label.setWordWrap(True)
        outer.addWidget(self.feedback_label)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        outer.addWidget(self.summary_label)
        return box

    def _fill_choices(self) -> None:
        """ "Next due" from the program first (when something is due), then the library."""
        current = self.choice.currentData()
        self.choice.blockSignals(True)
        self.choice.clear()
        if self._due:
            d = self._due[0]
            self.choice.addItem(f"Next due: {self.library[d.exercise].title}", d.exercise)
        for spec in self.library.values():
            self.choice.addItem(spec.title, spec.name)
        index = self.choice.findData(current) if current is not None and not self._due else 0
        self.choice.setCurrentIndex(max(index, 0))
        self.choice.blockSignals(False)
        self._show_instructions()

    def selected(self) -> ExerciseSpec:
        """The exercise chosen in the picker."""
        return self.library[str(self.choice.currentData())]

    def select(self, name: str) -> None:
        """Pick ``name`` in the exercise list (a library name)."""
        index = self.choice.findData(name)
        if index < 0:
            raise KeyError(name)
        self.choice.setCurrentIndex(index)

    def _show_instructions(self) -> None:
        if self.choice.count() == 0:
            return
        spec = self.selected()
        sets, reps, hold_s = self._prescription(spec)
        unit = "holds" if spec.kind == "hold" else "reps"
        hold = f", hold {hold_s:.0f} s" if hold_s else ""
        start = spec.start_posture.replace("_", " ")
        fill = textwrap.fill
        self.instructions_label.setText(
            f"<b>{spec.title}</b>: {sets} set(s) of {reps} {unit}{hold}, rest "
            f"{spec.rest_s:.0f} s; start: {start}.<br>{fill(' '.join(spec.instructions.split()))}"
            f"<br><i>What the sensor sees: {' '.join(spec.sensor_notes.split())}</i>"
        )

    def _prescription(self, spec: ExerciseSpec) -> tuple[int, int, float]:
        """The program's sets, reps and hold for ``spec``, else the library's."""
        try:
            program = load_program(self.program_path)
        except PostureError:
            program = None
        p = program.prescription(spec.name) if program is not None else None
        if p is not None:
            return p.sets, p.reps, p.hold_s
        return spec.sets, spec.reps, spec.hold_s

    def set_session(self, session: LiveSession) -> None:
        self.session = session

    def set_device(self, device: str) -> None:
        self.device = device

    def set_calibration(self, calibration: Calibration | None) -> None:
        """The dashboard's current calibration (None, or the provisional nominal one: none)."""
        usable = calibration is not None and calibration.method != "nominal"
        self.calibration = calibration if usable else None
        if usable and self.calibrate_button.isVisible():
            self.calibrate_button.setVisible(False)
            self.message_label.setText("Calibrated. Press Start when ready.")

    @property
    def exercising(self) -> bool:
        return self.run is not None and self.run.running

    def start_exercise(self, name: str | None = None) -> bool:
        """Start the chosen (or ``name``) exercise on the running sensor.

        Returns:
            False when it cannot start (no sensor, no calibration: the tab says why).
        """
        if self.exercising or self.pain_dialog is not None:
            return False
        if name is not None:
            self.select(name)
        if self.session is None or not self.session.running:
            self.message_label.setText("Connect a sensor first (Connect, at the top).")
            return False
        if self.calibration is None:
            self.message_label.setText(
                "Calibrate first: the coach measures from your calibrated upright posture."
            )
            self.calibrate_button.setVisible(True)
            return False
        spec = self.selected()
        if self.ask_pain:
            dialog = PainDialog("before", self)
            self.pain_dialog = dialog

            def answered(_code: int) -> None:
                self.pain_dialog = None
                self._begin(spec, dialog.rating)

            dialog.finished.connect(answered)
            dialog.open()
        else:
            self._begin(spec, None)
        return True

    def _begin(self, spec: ExerciseSpec, pain_before: int | None) -> None:
        # The pain question may have been open a while: the sensor may be gone, or another
        # (uncalibrated) device connected meanwhile.
        if self.session is None or not self.session.running:
            self.message_label.setText("The sensor disconnected; connect and start again.")
            return
        if self.calibration is None:
            self.message_label.setText(
                "Calibrate first: the coach measures from your calibrated upright posture."
            )
            self.calibrate_button.setVisible(True)
            return
        sets, reps, hold_s = self._prescription(spec)
        run = GuidedRun(self.session, spec, sets=sets, reps=reps, hold_s=hold_s, parent=self)
        run.progress.connect(self._on_progress)
        if not run.start():
            self.message_label.setText("The sensor disconnected; connect and start again.")
            run.deleteLater()
            return
        run.finished.connect(self._on_finished)  # after start: a refusal is answered above
        if self.run is not None:
            self.run.deleteLater()  # the previous run's coach and listener
        self.run = run
        # Stored with the session: the device and calibration the exercise ran on, even if
        # the window has moved on to another device by the time it ends.
        self._run_device = self.device or "unknown"
        self._run_calibration = self.calibration
        self._pain_before = pain_before
        self._started_at = dt.datetime.now(dt.UTC).astimezone()
        self.last_view = None
        self.summary_label.setText("")
        start = spec.start_posture.replace("_", " ")
        self.message_label.setText(
            f"{spec.title}: get into the start position ({start}) and keep still for 2 s; "
            "counting starts then."
        )
        self.count_label.setText(f"0/{run.coach.reps_target}")
        self.state_label.setText("get into position")
        self.state_label.setStyleSheet(f"color: {_STATE_COLOURS['waiting']};")
        self.set_label.setText(f"set – of {run.coach.sets_target}")
        self.hold_label.setText("")
        self.score_label.setText("")
        self.feedback_label.setText("")
        self.start_button.setEnabled(False)
        self.choice.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.history_part.setVisible(False)  # the live count gets the room
        self.exercise_started.emit()

    def stop_exercise(self) -> None:
        """End the running exercise; what was done is stored."""
        if self.run is not None:
            self.run.stop()

    def engine_stopped(self) -> None:
        """The sensor session ended: end a running exercise with what was counted."""
        if self.run is not None:
            self.run.engine_gone()

    def _on_progress(self, view: CoachView) -> None:
        was = self.last_view.phase if self.last_view is not None else "waiting"
        if was == "waiting" and view.phase != "waiting":
            self.message_label.setText("")  # "get into the start position" is done
        self.last_view = view
        self._show_state(view)
        self.count_label.setText(f"{view.count}/{view.reps_target}")
        set_no = f"{view.set_number}" if view.set_number else "–"
        self.set_label.setText(f"set {set_no} of {view.sets_target}")
        of = f" of {view.hold_target_s:.0f} s" if view.hold_target_s else ""
        if view.hold_started_s is not None:
            self.hold_label.setText(f"holding {view.t_s - view.hold_started_s:.0f} s{of}")
        elif view.last_hold_s is not None:
            self.hold_label.setText(f"last hold {view.last_hold_s:.1f} s")
        if view.last_score is not None:
            self.score_label.setText(f"last rep score {view.last_score:.0f}/100")
        if view.lines:
            self.feedback_label.setText(view.lines[-1].text)

    def _show_state(self, view: CoachView) -> None:
        text = view.state
        if view.rest_left_s is not None:
            text = f"rest: next set in {math.ceil(view.rest_left_s):.0f} s"
        elif view.phase == "waiting":
            text = "get into position"
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"color: {_STATE_COLOURS.get(view.phase, '#444')};")

    def _on_finished(self, result: CoachResult) -> None:
        self.last_result = result
        self.history_part.setVisible(True)
        self.start_button.setEnabled(True)
        self.choice.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.summary_label.setText(_summary(result))
        if not result.sets:
            self.message_label.setText(
                "No exercise was detected: were you still in the start position for 2 s?"
            )
            self.last_session_id = None
            self.exercise_ended.emit(None)
            return
        cal = self._run_calibration.to_dict() if self._run_calibration is not None else None
        done = _Done(result, self._run_device, self._started_at, cal, self._pain_before)
        sid = self._store(done)
        self.last_session_id = sid
        self.exercise_ended.emit(sid)
        if self.ask_pain:
            dialog = PainDialog("after", self)
            self.pain_dialog = dialog
            last_s = max(s.end_s for s in result.sets)

            def answered(_code: int) -> None:
                self.pain_dialog = None
                if dialog.rating is not None:
                    if sid is not None:
                        self._store_pain(sid, last_s, dialog.rating)
                    else:  # stored with the session by "Store again"
                        done.pain_after = dialog.rating
                self.refresh()

            dialog.finished.connect(answered)
            dialog.open()
        else:
            self.refresh()

    def _store(self, done: _Done) -> int | None:
        """Store a finished exercise; when that fails (disk full, database locked or moved)
        it is kept in memory and "Store again" offered, so what was done is not lost."""
        try:
            with SessionStore.open(self.db_path) as store:
                sid = record_exercise(store, done.result, **done.details())
        except PostureError as exc:
            logger.warning("cannot store the exercise session: %s", exc)
            if done not in self.unsaved:
                self.unsaved.append(done)
            self.message_label.setText(
                f"Could not store the session: {exc}. It is kept until the dashboard closes; "
                "press Store again when the problem is solved."
            )
            self.retry_button.setVisible(True)
            return None
        if done in self.unsaved:
            self.unsaved.remove(done)
        self.message_label.setText(f"Stored as session {sid}.")
        return sid

    def store_again(self) -> list[int]:
        """Store the exercises that could not be stored; returns the new session ids."""
        stored = []
        for done in list(self.unsaved):
            sid = self._store(done)
            if sid is None:
                break  # the message says why; the rest stay too
            stored.append(sid)
            self.last_session_id = sid
        self.retry_button.setVisible(bool(self.unsaved))
        if stored:
            self.refresh()
        return stored

    def keep_unsaved(self) -> list[Path]:
        """Before the dashboard closes: try once more to store the exercises kept unsaved, and
        write those the database still refuses to private files (``posture exercise restore``
        stores them later); returns the files. Logged, as the window is going away."""
        if not self.unsaved:
            return []
        self.store_again()
        kept = []
        for done in list(self.unsaved):
            try:
                path = save_unstored(done.result, **done.details())
            except OSError as exc:
                logger.error("exercise session lost: not stored and not kept in a file: %s", exc)
                continue
            self.unsaved.remove(done)
            kept.append(path)
            logger.warning(
                "exercise session not stored; kept in %s: 'posture exercise restore' stores it",
                path,
            )
        return kept

    def _store_pain(self, sid: int, t_s: float, rating: int) -> None:
        try:
            with SessionStore.open(self.db_path) as store:
                record_pain(store, sid, t_s, "after", rating)
        except PostureError as exc:
            logger.warning("cannot store the pain rating: %s", exc)
            self.message_label.setText(f"Could not store the pain rating: {exc}")

    # ------------------------------------------------------------------ history

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
        self.section = exercise_section(sessions, program, first, today, today=today)
        days = exercise_days(sessions)
        due = due_today(program, days, today) if program is not None else []
        if due != self._due and not self.exercising:
            self._due = due
            self._fill_choices()
        self._show(self.section, program, days, today)
        pains = pain_points(sessions)
        self.pain_label.setText(
            "Pain before → after (0–10): "
            + ", ".join(
                f"{p.started_at.astimezone():%d %b} {p.exercise} {_nrs(p.before)} → {_nrs(p.after)}"
                for p in pains[-6:]
            )
            if pains
            else ""
        )

    def _title(self, name: str) -> str:
        spec = self.library.get(name)
        return spec.title if spec is not None else name

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
                "Due today: "
                + ", ".join(f"{self._title(d.exercise)} ({d.sets_left} x {d.reps})" for d in due)
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
                    r.title or r.exercise,
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
            rom_rows.append([rom_title(test), trend, "–" if norm is None else f"{norm:.0f}°"])
        _fill(self.rom_table, rom_rows)


def _nrs(value: int | None) -> str:
    return "–" if value is None else str(value)


def _summary(result: CoachResult) -> str:
    """The end-of-exercise summary, worded as the CLI prints it."""
    return f"{result_heading(result)}. " + "; ".join(set_lines(result))
