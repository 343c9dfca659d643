"""Calibration wizard: upright, forward bend, optional six-position accelerometer, summary.

Each capture page counts down (wall time, so the wearer can get ready), asks the engine to
prompt the pose (a simulated sensor then takes it; real sensors ignore it), lets the pose
settle, captures a few seconds of samples in *sensor* time and checks them at once with the
pure fits of :mod:`calibration.procedures`; a rejected capture shows the reason ("you moved
during the capture") and a retry button. The GUI never waits: every engine call returns
through :meth:`LiveSession.call`'s queued callback.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from calibration.model import Calibration
from calibration.procedures import fit_accel_six_position, fit_gyro_bias, fit_mounting
from host.errors import CalibrationError
from host.gui.session import LiveSession
from host.samples import SampleBlock

__all__ = ["CalibrationWizard", "CapturePage"]

logger = logging.getLogger(__name__)

SIX_POSES = ("x_up", "x_down", "y_up", "y_down", "z_up", "z_down")
_POSE_TEXT = {
    "upright": "Sit upright, comfortably tall, and keep still.",
    "forward_bend": "Bend forward from the hips (about 30°) and hold still.",
    "x_up": "Place the sensor with its arrow pointing up.",
    "x_down": "Place the sensor with its arrow pointing down.",
    "y_up": "Lay the sensor on its left edge.",
    "y_down": "Lay the sensor on its right edge.",
    "z_up": "Lay the sensor flat, face up.",
    "z_down": "Lay the sensor flat, face down.",
}


class CapturePage(QWizardPage):
    """One or more guided captures; complete once every capture passed its check.

    Args:
        title: page title.
        poses: poses to capture in order.
        seconds: still capture length per pose, sensor seconds.
        check: validates the captures so far (raises CalibrationError with the reason).
        wizard: the owning wizard (for the session and timings).
    """

    captured = pyqtSignal(str)  # pose name

    def __init__(
        self,
        title: str,
        poses: tuple[str, ...],
        seconds: float,
        check: Callable[[dict[str, SampleBlock]], object],
        wizard: CalibrationWizard,
    ) -> None:
        super().__init__()
        self.setTitle(title)
        self.poses = poses
        self.seconds = seconds
        self._check = check
        self._wizard = wizard
        self.blocks: dict[str, SampleBlock] = {}
        self.result: object = None
        self.error_text = ""
        self._countdown_left = 0
        layout = QVBoxLayout(self)
        self.prompt = QLabel(_POSE_TEXT.get(poses[0], poses[0]))
        self.prompt.setWordWrap(True)
        self.status = QLabel("Press Start when ready.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, len(poses))
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start_capture)
        for widget in (self.prompt, self.status, self.progress, self.start_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def isComplete(self) -> bool:  # noqa: N802  # Qt override
        return self.result is not None

    def _next_pose(self) -> str | None:
        return next((p for p in self.poses if p not in self.blocks), None)

    def start_capture(self) -> None:
        """Count down, then prompt and capture the next pose."""
        pose = self._next_pose()
        if pose is None:
            return
        self.start_button.setEnabled(False)
        self.error_text = ""
        self.prompt.setText(_POSE_TEXT.get(pose, pose))
        self._countdown_left = self._wizard.countdown_s
        if self._countdown_left <= 0:
            self._capture(pose)
            return
        self.status.setText(f"Starting in {self._countdown_left} s…")
        self._timer.start()

    def _tick(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left > 0:
            self.status.setText(f"Starting in {self._countdown_left} s…")
            return
        self._timer.stop()
        pose = self._next_pose()
        if pose is not None:
            self._capture(pose)

    def _capture(self, pose: str) -> None:
        session = self._wizard.session
        engine = self._wizard.engine
        settle_s = self._wizard.settle_s
        self.status.setText(f"Hold still… ({self.seconds:.0f} s)")
        session.call(engine.request_pose, pose)

        def done(block: object, error: BaseException | None) -> None:
            if error is not None or not isinstance(block, SampleBlock):
                self._failed(f"no data from the sensor ({error or 'empty capture'})")
                return
            # Drop the settling part: the pose change itself is movement, not a bad capture.
            keep = block.t_s >= block.t_s[0] + settle_s
            start = int(np.argmax(keep)) if keep.any() else len(block)
            self.blocks[pose] = block.slice(start, len(block))
            self.captured.emit(pose)
            self._after_capture()

        if not session.call(engine.capture, settle_s + self.seconds, on_done=done):
            self._failed("the sensor is not connected")

    def _after_capture(self) -> None:
        self.progress.setValue(len(self.blocks))
        if self._next_pose() is not None:
            self.status.setText("Good. Next position:")
            self.start_capture()
            return
        try:
            self.result = self._check(self.blocks)
        except CalibrationError as exc:
            self.blocks.clear()
            self.progress.setValue(0)
            self._failed(str(exc))
            return
        self.status.setText("✓ Captured. Continue with Next.")
        self.start_button.setText("Repeat")
        self.start_button.setEnabled(True)
        self.completeChanged.emit()

    def _failed(self, reason: str) -> None:
        self.error_text = reason
        self.result = None
        self.status.setText(f"✗ {reason}\nPress Try again when ready.")
        self.start_button.setText("Try again")
        self.start_button.setEnabled(True)
        self.completeChanged.emit()

    def retry(self) -> None:
        """Forget the captures of this page and start over."""
        self.blocks.clear()
        self.result = None
        self.start_capture()


class CalibrationWizard(QWizard):
    """Guided calibration against the running engine.

    Args:
        session: the live session (non-blocking engine calls).
        engine: the running :class:`host.engine.Engine` (its coroutines are submitted).
        countdown_s: wall-clock get-ready countdown before each capture.
        capture_s: still capture length, sensor seconds.
        settle_s: sensor seconds ignored after prompting a pose.
        parent: Qt parent.

    Signals:
        calibrated(object): the new Calibration was sent to the engine.
    """

    calibrated = pyqtSignal(object)

    def __init__(
        self,
        session: LiveSession,
        engine: Any,
        countdown_s: int = 3,
        capture_s: float = 5.0,
        settle_s: float = 4.5,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate the sensor")
        self.session = session
        self.engine = engine
        self.countdown_s = countdown_s
        self.settle_s = settle_s
        self.calibration: Calibration | None = None
        intro = QWizardPage()
        intro.setTitle("Calibration")
        intro_layout = QVBoxLayout(intro)
        text = QLabel(
            "We record how you sit when upright (that becomes 0°) and how you bend forward "
            "(so the angle is right however the sensor is stuck on). It takes under a minute."
        )
        text.setWordWrap(True)
        self.six_position = QCheckBox(
            "Also calibrate the accelerometer (six positions, sensor off the body; optional)"
        )
        intro_layout.addWidget(text)
        intro_layout.addWidget(self.six_position)
        self.upright_page = CapturePage(
            "Sit upright and still", ("upright",), capture_s, self._check_upright, self
        )
        self.forward_page = CapturePage(
            "Bend forward", ("forward_bend",), capture_s, self._check_forward, self
        )
        self.six_page = CapturePage(
            "Six-position accelerometer calibration", SIX_POSES, capture_s, self._check_six, self
        )
        self.summary_page = QWizardPage()
        self.summary_page.setTitle("Summary")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        QVBoxLayout(self.summary_page).addWidget(self.summary)
        self._ids = {
            name: self.addPage(page)
            for name, page in (
                ("intro", intro),
                ("upright", self.upright_page),
                ("forward", self.forward_page),
                ("six", self.six_page),
                ("summary", self.summary_page),
            )
        }
        self.currentIdChanged.connect(self._entered)

    def nextId(self) -> int:  # noqa: N802  # Qt override
        current = self.currentId()
        if current == self._ids["forward"] and not self.six_position.isChecked():
            return self._ids["summary"]
        return super().nextId()

    def _entered(self, page_id: int) -> None:
        if page_id == self._ids["summary"]:
            self._finish_summary()

    def _check_upright(self, blocks: dict[str, SampleBlock]) -> Calibration:
        return fit_mounting(blocks["upright"], None, device=self._device())

    def _check_forward(self, blocks: dict[str, SampleBlock]) -> Calibration:
        return fit_mounting(
            self.upright_page.blocks["upright"], blocks["forward_bend"], device=self._device()
        )

    def _check_six(self, blocks: dict[str, SampleBlock]) -> object:
        return fit_accel_six_position([blocks[p] for p in SIX_POSES])

    def _device(self) -> str:
        return str(self.session.device or "")

    def _finish_summary(self) -> None:
        result = self.forward_page.result or self.upright_page.result
        if not isinstance(result, Calibration):
            self.summary.setText("No calibration was captured.")
            return
        neutral = self.upright_page.blocks["upright"]
        if neutral.has_gyro:
            try:
                result = dataclasses.replace(result, gyro_bias_rad_s=fit_gyro_bias(neutral))
            except CalibrationError as exc:
                logger.info("no gyro bias from the upright capture: %s", exc)
        six = self.six_page.result
        if isinstance(six, tuple):
            offset, scale = six
            result = dataclasses.replace(result, accel_offset_m_s2=offset, accel_scale=scale)
        self.calibration = result
        lines = [
            "Upright posture recorded: it now reads 0°.",
            "Forward bend recorded: flexion is measured in your own forward direction.",
        ]
        if self.six_page.result is not None:
            lines.append("Accelerometer offsets and scales fitted from six positions.")
        lines.append("Press Finish to use this calibration now.")
        self.summary.setText("\n".join(lines))

    def accept(self) -> None:
        if self.calibration is not None:
            self.session.call(self.engine.set_calibration, self.calibration)
            self.calibrated.emit(self.calibration)
        super().accept()
