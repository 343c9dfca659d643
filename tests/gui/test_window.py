"""Main window widgets driven through the bridge's signals (no engine needed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from host.alerts import Alert, AlertConfig
from host.gui.main_window import MainWindow
from host.gui.settings_dialog import SettingsDialog
from host.gui.zones import zone_style
from host.posture import Zone
from host.protocol import StatusMessage
from host.settings import Settings, alert_config_from_settings, load_settings
from host.transports.base import LinkEvent, LinkState


class RecordingNotifier:
    """Records notify() calls (the OS effect is not testable offscreen, notes/qt.md §5)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bool, bool]] = []

    def notify(self, title: str, message: str, *, sound: bool, tray: bool) -> None:
        self.calls.append((title, message, sound, tray))


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    settings = Settings(db_path=str(tmp_path / "sessions.sqlite3"))
    win = MainWindow(
        settings, tmp_path / "settings.toml", notifier=RecordingNotifier(), persist=False
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_defaults_match_the_alert_policy() -> None:
    assert alert_config_from_settings(Settings()) == AlertConfig()


def test_frames_update_plot_indicator_and_zone_times(
    update_factory: Callable[..., Any], qtbot: QtBot, window: MainWindow
) -> None:
    window.bridge.push_update(update_factory(0.0, 500, 5.0, Zone.UPRIGHT))
    window.bridge.push_update(update_factory(5.0, 300, 35.0, Zone.SLOUCHED, seconds_to_alert=42.0))
    qtbot.waitUntil(lambda: window.plot.points_plotted == 800, timeout=2000)
    assert window.indicator.zone_label.text() == zone_style(int(Zone.SLOUCHED)).label
    assert window.indicator.angle_label.text() == "+35°"
    assert window.zone_times.text_of(int(Zone.UPRIGHT)) == "5 s"
    assert window.zone_times.text_of(int(Zone.SLOUCHED)) == "3 s"
    assert "42 s" in window.countdown_label.text()


def test_alert_raises_banner_and_notifies(qtbot: QtBot, window: MainWindow) -> None:
    assert not window.banner.isVisible()
    alert = Alert(130.0, "slouch", 10.0, 31.0, "flexion 31° for 2 min (tolerance 15°)")
    window.bridge.alert_raised.emit(alert)
    qtbot.waitUntil(window.banner.isVisible, timeout=1000)
    assert "flexion 31°" in window.banner.message_label.text()
    notifier = window.notifier
    assert isinstance(notifier, RecordingNotifier)
    assert notifier.calls == [("Time to sit up", alert.reason, True, True)]


def test_quiet_hours_keep_alerts_in_the_window(qtbot: QtBot, window: MainWindow) -> None:
    window.settings = dataclasses.replace(window.settings, quiet_start="00:00", quiet_end="23:59")
    window.bridge.alert_raised.emit(Alert(1.0, "slouch", 0.0, 30.0, "slouching"))
    qtbot.waitUntil(window.banner.isVisible, timeout=1000)
    notifier = window.notifier
    assert isinstance(notifier, RecordingNotifier)
    assert notifier.calls == []


def test_link_states_and_battery(qtbot: QtBot, window: MainWindow) -> None:
    window.bridge.link_changed.emit(LinkEvent(LinkState.RECONNECTING, "link lost", attempt=2))
    qtbot.waitUntil(lambda: window.link_label.text().startswith("reconnecting…"), timeout=1000)
    window.bridge.link_changed.emit(LinkEvent(LinkState.CONNECTED))
    qtbot.waitUntil(lambda: window.link_label.text() == "connected", timeout=1000)
    window.bridge.status_received.emit(StatusMessage(64, True, True, False, 0, 0))
    qtbot.waitUntil(lambda: "64 %" in window.battery_label.text(), timeout=1000)


def test_settings_dialog_round_trip(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    dialog = SettingsDialog(window.settings, parent=window)
    qtbot.addWidget(dialog)
    dialog.tolerance.setValue(22.0)
    dialog.delay.setValue(45.0)
    dialog.mode.setCurrentIndex(1)
    dialog.quiet.setChecked(True)
    new = dialog.settings()
    assert (new.tolerance_deg, new.delay_s, new.policy_mode) == (22.0, 45.0, "iso11226")
    assert (new.quiet_start, new.quiet_end) == ("22:00", "07:00")
    window._persist = True
    window.apply_settings(new)
    assert window.plot.threshold_line.value() == pytest.approx(22.0)
    assert load_settings(tmp_path / "settings.toml", env={}) == new


def test_banner_snooze_click_uses_the_default(qtbot: QtBot, window: MainWindow) -> None:
    window.apply_settings(dataclasses.replace(window.settings, snooze_min=60))
    assert window.banner.snooze_button.text() == "Snooze 60 min"
    with qtbot.waitSignal(window.banner.snooze_requested) as blocker:
        window.banner.snooze_button.click()
    assert blocker.args == [60]
    with qtbot.waitSignal(window.banner.snooze_requested) as blocker:
        window.banner.snooze_actions[15].trigger()
    assert blocker.args == [15]
