"""Settings dialog: alert tolerance, delay, policy mode, quiet hours, notifications."""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import QTime
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QTimeEdit,
    QWidget,
)

from host.settings import POLICY_MODES, SNOOZE_CHOICES_MIN, Settings

__all__ = ["SettingsDialog"]

_MODE_LABELS = {
    "threshold": "Tolerance + delay (simple)",
    "iso11226": "ISO 11226 (shorter hold for deeper bends)",
}


class SettingsDialog(QDialog):
    """Edit a copy of :class:`~host.settings.Settings`; :meth:`settings` returns the result."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings
        form = QFormLayout(self)
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setRange(1.0, 90.0)
        self.tolerance.setSuffix(" °")
        self.tolerance.setValue(settings.tolerance_deg)
        self.tolerance.setToolTip("forward bend beyond your calibrated upright posture")
        self.delay = QDoubleSpinBox()
        self.delay.setRange(0.0, 3600.0)
        self.delay.setSuffix(" s")
        self.delay.setValue(settings.delay_s)
        self.delay.setToolTip("how long you may stay bent before an alert")
        self.mode = QComboBox()
        for mode in POLICY_MODES:
            self.mode.addItem(_MODE_LABELS[mode], mode)
        self.mode.setCurrentIndex(POLICY_MODES.index(settings.policy_mode))
        self.quiet = QCheckBox("only in the window between")
        self.quiet.setChecked(bool(settings.quiet_start))
        self.quiet_start = QTimeEdit(_time(settings.quiet_start or "22:00"))
        self.quiet_end = QTimeEdit(_time(settings.quiet_end or "07:00"))
        for edit in (self.quiet_start, self.quiet_end):
            edit.setDisplayFormat("HH:mm")
        quiet_row = QHBoxLayout()
        quiet_row.addWidget(self.quiet)
        quiet_row.addWidget(self.quiet_start)
        quiet_row.addWidget(QLabel("and"))
        quiet_row.addWidget(self.quiet_end)
        self.snooze = QComboBox()
        for minutes in SNOOZE_CHOICES_MIN:
            self.snooze.addItem(f"{minutes} min", minutes)
        self.snooze.setCurrentIndex(SNOOZE_CHOICES_MIN.index(settings.snooze_min))
        self.haptics = QCheckBox("vibrate the sensor")
        self.haptics.setChecked(settings.haptics)
        self.sound = QCheckBox("play a sound")
        self.sound.setChecked(settings.sound)
        self.tray = QCheckBox("desktop notification")
        self.tray.setChecked(settings.tray)
        form.addRow("Tolerance", self.tolerance)
        form.addRow("Delay", self.delay)
        form.addRow("Policy", self.mode)
        form.addRow("Quiet hours", quiet_row)
        form.addRow("Default snooze", self.snooze)
        form.addRow("On alert", self.haptics)
        form.addRow("", self.sound)
        form.addRow("", self.tray)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def settings(self) -> Settings:
        """The edited settings (validated)."""
        quiet = self.quiet.isChecked()
        return dataclasses.replace(
            self._original,
            tolerance_deg=self.tolerance.value(),
            delay_s=self.delay.value(),
            policy_mode=str(self.mode.currentData()),
            quiet_start=self.quiet_start.time().toString("HH:mm") if quiet else "",
            quiet_end=self.quiet_end.time().toString("HH:mm") if quiet else "",
            snooze_min=int(self.snooze.currentData()),
            haptics=self.haptics.isChecked(),
            sound=self.sound.isChecked(),
            tray=self.tray.isChecked(),
        )


def _time(text: str) -> QTime:
    hours, minutes = text.split(":")
    return QTime(int(hours), int(minutes))
