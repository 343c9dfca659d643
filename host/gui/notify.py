"""Alert notifications outside the window: system tray and sound, each where available.

The in-window banner always works and is the main window's job; everything here degrades
quietly (notes/qt.md §5): the tray needs a tray host, sound needs an audio server (and
QtMultimedia needs libpulse0). Haptics are sent by the engine itself. All of it sits behind
one :class:`Notifier` interface so tests check the calls, not the OS effect.
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path
from typing import Protocol

import numpy as np
from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

__all__ = ["DesktopNotifier", "Notifier", "write_chime"]

logger = logging.getLogger(__name__)


class Notifier(Protocol):
    """Something that tells the user about an alert."""

    def notify(self, title: str, message: str, *, sound: bool, tray: bool) -> None:
        """Show or play the alert where possible; never raises for a missing facility."""
        ...


class DesktopNotifier:
    """Tray balloon + sound + window attention, each used only when the platform has it.

    Args:
        window: the main window (for ``QApplication.alert``).
        icon: tray icon.
        sound_file: a WAV to play; None uses the system beep.
    """

    def __init__(
        self, window: QWidget, icon: QIcon | None = None, sound_file: Path | None = None
    ) -> None:
        self._window = window
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon or QIcon(), window)
            self.tray.setToolTip("Posture Companion")
            self.tray.show()
        else:
            logger.info("no system tray here: alerts show in the window only")
        self._sound_file = sound_file
        self._effect: object | None = None
        self._sound_checked = False  # QtMultimedia is loaded at the first sound, not at start-up
        self.notifications = 0
        self.sounds = 0

    @property
    def has_tray(self) -> bool:
        return self.tray is not None

    def notify(self, title: str, message: str, *, sound: bool, tray: bool) -> None:
        self.notifications += 1
        if tray and self.tray is not None:
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 8000)
        if sound:
            self._play()
        QApplication.alert(self._window, 0)

    def _play(self) -> None:
        if not self._sound_checked:
            self._sound_checked = True
            if self._sound_file is not None:
                self._effect = _load_sound(self._sound_file)
        self.sounds += 1
        effect = self._effect
        if effect is not None:
            effect.play()  # type: ignore[attr-defined]
        else:
            QApplication.beep()


def write_chime(path: Path, rate_hz: int = 22_050) -> Path:
    """Write a soft two-tone chime (0.45 s, 16-bit mono WAV) to ``path`` if it is missing.

    Generated rather than shipped, so the package carries no binary asset.
    """
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    t_s = np.arange(round(0.45 * rate_hz)) / rate_hz
    tone = np.where(t_s < 0.2, np.sin(2 * np.pi * 660.0 * t_s), np.sin(2 * np.pi * 880.0 * t_s))
    envelope = np.minimum(1.0, t_s / 0.01) * np.exp(-4.0 * t_s)  # no click, gentle decay
    samples = (0.35 * 32767 * tone * envelope).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(samples.tobytes())
    return path


def _load_sound(path: Path) -> object | None:
    """A QSoundEffect for ``path`` when QtMultimedia and an audio output exist, else None."""
    try:
        from PyQt6.QtMultimedia import QMediaDevices, QSoundEffect
    except ImportError:  # libpulse0 missing: QtMultimedia cannot load
        logger.info("QtMultimedia unavailable; using the system beep")
        return None
    if not QMediaDevices.audioOutputs():
        logger.info("no audio output; using the system beep")
        return None
    effect = QSoundEffect()
    effect.setSource(QUrl.fromLocalFile(str(path)))
    return effect
