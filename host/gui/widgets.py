"""Small widgets of the live tab: posture indicator, alert banner, time-in-zone table."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction, QFont
from PyQt6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from host.settings import SNOOZE_CHOICES_MIN

__all__ = ["AlertBanner", "PostureIndicator", "ZoneStyle", "ZoneTimes", "format_duration"]

logger = logging.getLogger(__name__)


def format_duration(seconds: float) -> str:
    """``1 h 05 min``, ``4 min 07 s`` or ``12 s`` (to the nearest second)."""
    seconds = float(max(0, round(seconds)))
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds)} s"


class ZoneStyle:
    """How a posture zone looks: ``code`` (int Zone value), ``label``, ``colour`` (#rrggbb)."""

    __slots__ = ("code", "colour", "label")

    def __init__(self, code: int, label: str, colour: str) -> None:
        self.code = code
        self.label = label
        self.colour = colour


class PostureIndicator(QFrame):
    """Large current-posture display: zone name on the zone's colour, angle, activity."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(240)
        layout = QVBoxLayout(self)
        self.zone_label = QLabel("—")
        self.angle_label = QLabel("–°")
        self.detail_label = QLabel("waiting for the sensor")
        big = QFont()
        big.setPointSize(22)
        big.setBold(True)
        self.zone_label.setFont(big)
        huge = QFont()
        huge.setPointSize(40)
        self.angle_label.setFont(huge)
        for label in (self.zone_label, self.angle_label, self.detail_label):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        self.detail_label.setWordWrap(True)
        self.set_colour("#d0d0d0")

    def set_colour(self, colour: str) -> None:
        self.setStyleSheet(
            f"PostureIndicator {{ background: {colour}; border-radius: 8px; }}"
            " QLabel { color: #111; }"
        )

    def show_posture(
        self, style: ZoneStyle, flexion_deg: float, lateral_deg: float, detail: str
    ) -> None:
        """Show the zone, flexion (forward positive) and lateral bend in degrees."""
        self.zone_label.setText(style.label)
        if math.isnan(flexion_deg) or math.isnan(lateral_deg):
            self.angle_label.setText("–°")
            self.detail_label.setText(f"not calibrated yet\n{detail}")
        else:
            side = "right" if lateral_deg > 0 else "left"
            bend = f"side bend {abs(lateral_deg):.0f}° {side}" if abs(lateral_deg) >= 1 else ""
            degrees = round(flexion_deg)
            self.angle_label.setText(f"{degrees:+d}°" if degrees else "0°")  # never "-0°"
            self.detail_label.setText(f"{bend}\n{detail}" if bend else detail)
        self.set_colour(style.colour)


class AlertBanner(QFrame):
    """In-window alert banner with Snooze (15/30/60 min, resumes by itself), Pause and Dismiss.

    Signals:
        snooze_requested(int): minutes.
        pause_requested(): stop alerts until resumed.
        dismissed(): hide the banner only.
    """

    snooze_requested = pyqtSignal(int)
    pause_requested = pyqtSignal()
    dismissed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertBanner")
        self.setStyleSheet(
            "#alertBanner { background: #fff3cd; border: 1px solid #e0b252; border-radius: 6px; }"
        )
        layout = QHBoxLayout(self)
        self.icon_label = QLabel("⚠")
        font = QFont()
        font.setPointSize(16)
        self.icon_label.setFont(font)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.snooze_button = QToolButton()
        self.snooze_button.setText("Snooze")
        # Click: the default snooze; the arrow: 15/30/60 min.
        self.snooze_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.snooze_button.clicked.connect(
            lambda: self.snooze_requested.emit(self.default_snooze_min)
        )
        self.default_snooze_min = 30
        menu = QMenu(self.snooze_button)
        self.snooze_actions: dict[int, QAction] = {}
        for minutes in SNOOZE_CHOICES_MIN:
            action = menu.addAction(f"{minutes} min")
            if action is not None:
                action.triggered.connect(lambda _=False, m=minutes: self.snooze_requested.emit(m))
                self.snooze_actions[minutes] = action
        self.snooze_button.setMenu(menu)
        self.pause_button = QPushButton("Pause alerts")
        self.pause_button.clicked.connect(self.pause_requested)
        self.dismiss_button = QPushButton("OK")
        self.dismiss_button.clicked.connect(self._dismiss)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.message_label, 1)
        for button in (self.snooze_button, self.pause_button, self.dismiss_button):
            layout.addWidget(button)
        self.hide()

    def set_default_snooze(self, minutes: int) -> None:
        """The snooze a click on the button gives, minutes."""
        self.default_snooze_min = minutes
        self.snooze_button.setText(f"Snooze {minutes} min")

    def show_alert(self, title: str, reason: str) -> None:
        self.message_label.setText(f"<b>{title}</b><br>{reason}")
        self.show()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()


class ZoneTimes(QFrame):
    """Today's time in each zone: name, share bar and duration."""

    def __init__(self, styles: Sequence[ZoneStyle], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        title = QLabel("<b>Today</b>")
        grid.addWidget(title, 0, 0, 1, 3)
        self._rows: dict[int, tuple[QProgressBar, QLabel]] = {}
        for row, style in enumerate(styles, start=1):
            name = QLabel(style.label)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setMaximumHeight(10)
            bar.setStyleSheet(f"QProgressBar::chunk {{ background: {style.colour}; }}")
            value = QLabel("0 s")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(value, row, 2)
            self._rows[style.code] = (bar, value)

    def show_seconds(self, zone_seconds: dict[int, float]) -> None:
        """Update from seconds per zone code."""
        total = sum(zone_seconds.values()) or 1.0
        for code, (bar, value) in self._rows.items():
            seconds = zone_seconds.get(code, 0.0)
            bar.setValue(round(1000 * seconds / total))
            value.setText(format_duration(seconds))

    def text_of(self, code: int) -> str:
        """The duration shown for zone ``code`` (for tests and accessibility)."""
        return self._rows[code][1].text()
