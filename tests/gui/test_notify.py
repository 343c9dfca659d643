"""Notifier degrades quietly offscreen: no tray, no audio output; the calls still happen."""

from __future__ import annotations

import wave
from pathlib import Path

from PyQt6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from host.gui.notify import DesktopNotifier, write_chime


def test_chime_is_a_short_wav(tmp_path: Path) -> None:
    path = write_chime(tmp_path / "c" / "chime.wav")
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == 1
        assert 0.4 < wav.getnframes() / wav.getframerate() < 0.5
    assert write_chime(path) == path  # kept, not rewritten


def test_notify_without_tray_or_audio_does_not_raise(qtbot: QtBot, tmp_path: Path) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    notifier = DesktopNotifier(window, sound_file=write_chime(tmp_path / "chime.wav"))
    assert not notifier.has_tray  # offscreen has no tray host (notes/qt.md §5)
    notifier.notify("Time to sit up", "flexion 30° for 2 min", sound=True, tray=True)
    notifier.notify("Time to sit up", "again", sound=False, tray=True)
    assert notifier.notifications == 2
    assert notifier.sounds == 1
