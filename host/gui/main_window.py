"""The dashboard's main window: device picker, live plot, posture indicator, alerts, history.

All engine interaction goes through :class:`~host.gui.session.LiveSession` (non-blocking calls)
and the :class:`~host.gui.bridge.EngineBridge` signals; nothing here waits on the engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from calibration.model import NOMINAL_R_BS, Calibration
from calibration.store import CalibrationStore
from host.alerts import Alert
from host.engine import EngineConfig
from host.errors import CalibrationError, PostureError
from host.gui.bridge import EngineBridge, LiveFrame
from host.gui.devices import DevicePicker
from host.gui.exercise_tab import ExerciseTab
from host.gui.history import HistoryTab
from host.gui.notify import DesktopNotifier, Notifier, write_chime
from host.gui.plots import FlexionPlot
from host.gui.reminders import STATE_NAME as REMINDER_STATE_NAME
from host.gui.reminders import ExerciseReminder
from host.gui.session import EngineFactory, LiveSession
from host.gui.widgets import AlertBanner, PostureIndicator, ZoneTimes, format_duration
from host.gui.zones import ACTIVITY_LABELS, ZONE_STYLES, zone_bands, zone_style
from host.protocol import StatusMessage
from host.settings import Settings, alert_config_from_settings, default_settings_path, save_settings
from host.transports.base import DeviceInfo, LinkEvent, LinkState

__all__ = ["MainWindow"]

logger = logging.getLogger(__name__)

_LINK_TEXT = {
    LinkState.CONNECTING: "connecting…",
    LinkState.CONNECTED: "connected",
    LinkState.RECONNECTING: "reconnecting…",
    LinkState.CLOSED: "disconnected",
}


class MainWindow(QMainWindow):
    """Posture Companion's window.

    Args:
        settings: initial settings (saved back to ``settings_path`` when changed).
        settings_path: where settings live; None: the default path.
        engine_factory: builds the engine thread (default :class:`host.engine.EngineThread`).
        notifier: tray/sound notifier; default a :class:`DesktopNotifier`.
        persist: save settings when they change (tests turn it off).
        calibrations: per-device calibration store (default: next to the settings file).

    Signals:
        first_sample_plotted(): the first live data reached the plot (cold-start measurement).
    """

    first_sample_plotted = pyqtSignal()

    def __init__(
        self,
        settings: Settings,
        settings_path: Path | None = None,
        engine_factory: EngineFactory | None = None,
        notifier: Notifier | None = None,
        persist: bool = True,
        calibrations: CalibrationStore | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        if calibrations is None:
            # Next to the settings file, so a test or a portable setup keeps both together.
            calibrations = CalibrationStore(
                None if settings_path is None else settings_path.parent / "calibrations"
            )
        self.calibrations = calibrations
        self._settings_path = settings_path
        self._persist = persist
        self.setWindowTitle("Posture Companion")
        self.resize(1200, 720)
        self.bridge = EngineBridge(settings.window_s, parent=self)
        kwargs: dict[str, Any] = (
            {} if engine_factory is None else {"engine_factory": engine_factory}
        )
        self.session = LiveSession(self.bridge, parent=self, **kwargs)
        self.link_state: LinkState = LinkState.CLOSED
        self.alerts_seen: list[Alert] = []
        self._last_t_s = 0.0
        self._snooze_until_t_s: float | None = None
        self._paused = False
        self._pause_until_t_s = 0.0
        self._exercising = False
        self._exercise_paused = False  # the exercise (not the wearer) paused the engine
        self._exercise_engine: object | None = None  # the engine it paused
        self._plotted_any = False
        self._today = _local_today()
        self._today_baseline: dict[int, float] = {}
        self._build()
        if notifier is None:
            chime = platformdirs.user_cache_path("posture-companion") / "chime.wav"
            try:
                sound_file: Path | None = write_chime(chime)
            except OSError as exc:
                logger.info("no chime file (%s); alerts use the system beep", exc)
                sound_file = None
            notifier = DesktopNotifier(self, sound_file=sound_file)
        self.notifier: Notifier = notifier
        # "once a day" across restarts: a small state file next to the settings (not written
        # when settings are not persisted, e.g. in tests)
        state_dir = (settings_path or default_settings_path()).parent
        self.reminder = ExerciseReminder(
            notifier,
            self.settings.database_path(),
            state_path=state_dir / REMINDER_STATE_NAME if persist else None,
            quiet=lambda now: self.settings.in_quiet_hours(now.hour * 60 + now.minute),
            sound=self.settings.sound,
            tray=self.settings.tray,
            parent=self,
        )
        self.reminder.reminded.connect(self._on_reminder)
        self.reminder.start()
        self.bridge.frame_drained.connect(self._on_frame)
        self.bridge.link_changed.connect(self._on_link)
        self.bridge.alert_raised.connect(self._on_alert)
        self.bridge.status_received.connect(self._on_status)
        self.bridge.info_received.connect(self._on_info)
        self.bridge.calibration_changed.connect(self._on_calibration)
        self.bridge.error_occurred.connect(self._on_error)
        self.bridge.notice_received.connect(self._on_notice)
        self.session.stopped.connect(
            lambda: self.status_bar.showMessage("Sensor link closed", 5_000)
        )
        self.bridge.start()
        # Quiet hours also silence the sensor's vibration: re-checked every minute.
        self._haptics_timer = QTimer(self)
        self._haptics_timer.timeout.connect(self._sync_haptics)
        self._haptics_timer.start(60_000)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        top = QHBoxLayout()
        self.device_picker = DevicePicker(self.settings.device)
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(self._toggle_connection)
        self.link_label = QLabel("disconnected")
        self.link_label.setMinimumWidth(150)
        self.battery_label = QLabel("battery –")
        self.record_button = QPushButton("● Record")
        self.record_button.setCheckable(True)
        self.record_button.setChecked(self.settings.record)
        self.record_button.toggled.connect(self._on_record_toggled)
        self.calibrate_button = QPushButton("Calibrate…")
        self.calibrate_button.clicked.connect(self.open_wizard)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.open_settings)
        top.addWidget(self.device_picker, 1)
        for widget in (
            self.connect_button,
            self.link_label,
            self.battery_label,
            self.record_button,
            self.calibrate_button,
            self.settings_button,
        ):
            top.addWidget(widget)
        outer.addLayout(top)

        self.banner = AlertBanner()
        self.banner.set_default_snooze(self.settings.snooze_min)
        self.banner.snooze_requested.connect(self.snooze)
        self.banner.pause_requested.connect(self.toggle_pause)
        outer.addWidget(self.banner)
        state_row = QHBoxLayout()
        self.alert_state_label = QLabel("")
        self.countdown_label = QLabel("")
        self.pause_button = QPushButton("Pause alerts")
        self.pause_button.clicked.connect(self.toggle_pause)
        state_row.addWidget(self.countdown_label, 1)
        state_row.addWidget(self.alert_state_label)
        state_row.addWidget(self.pause_button)
        outer.addLayout(state_row)

        self.tabs = QTabWidget()
        live = QSplitter(Qt.Orientation.Horizontal)
        self.plot = FlexionPlot(self.settings.window_s)
        self.plot.set_threshold(self.settings.tolerance_deg)
        self.plot.set_zone_bands(zone_bands())
        side = QWidget()
        side_layout = QVBoxLayout(side)
        self.indicator = PostureIndicator()
        self.zone_times = ZoneTimes(ZONE_STYLES)
        side_layout.addWidget(self.indicator, 3)
        side_layout.addWidget(self.zone_times, 2)
        live.addWidget(self.plot)
        live.addWidget(side)
        live.setStretchFactor(0, 3)
        live.setStretchFactor(1, 1)
        self.tabs.addTab(live, "Live")
        self.history = self._build_history()
        self.tabs.addTab(self.history, "History")
        self.exercise = ExerciseTab(self.settings.database_path(), session=self.session)
        self.exercise.wizard_requested.connect(self.open_wizard)
        self.exercise.exercise_started.connect(self._exercise_started)
        self.exercise.exercise_ended.connect(self._exercise_ended)
        self.tabs.addTab(self.exercise, "Exercise")
        # Sessions recorded meanwhile appear when the tab is opened.
        self.tabs.currentChanged.connect(
            lambda index: (
                self.history.refresh() if self.tabs.widget(index) is self.history else None
            )
        )
        self.tabs.currentChanged.connect(
            lambda index: (
                self.exercise.refresh() if self.tabs.widget(index) is self.exercise else None
            )
        )
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.status_bar = QStatusBar()
        self.setStatusBar(self.status_bar)

    def _build_history(self) -> HistoryTab:

        return HistoryTab(self.settings.database_path())

    # ------------------------------------------------------------------ connection

    def connect_device(self, device: str | None = None) -> None:
        """Start the engine for ``device`` (default: the picker's choice)."""
        device = device or self.device_picker.device()
        self.device_picker.set_device(device)
        self._update_settings(device=device)
        calibration = self.calibrations.load(device)
        config = EngineConfig(
            device=device,
            # Until the quick calibration lands (3 s of sensor time), assume the documented
            # nominal mounting so angles show from the first sample instead of nothing.
            calibration=calibration or _nominal_calibration(device),
            alerts=alert_config_from_settings(self.settings),
            record=self.record_button.isChecked(),
            db_path=self.settings.database_path(),
            haptics=self._haptics_wanted(),
        )
        self.plot.clear_data()
        self._plotted_any = False
        self._today = _local_today()
        self._today_baseline = recorded_zone_seconds(self.settings.database_path(), self._today)
        self._on_link(LinkEvent(LinkState.CONNECTING, device))
        self.exercise.engine_stopped()  # an exercise on the previous engine ends here
        # A new engine starts with alerts on: a pause or snooze of the previous one is gone.
        self._paused = False
        self._snooze_until_t_s = None
        self.pause_button.setText("Pause alerts")
        self._last_t_s = 0.0
        self.session.start(config)
        self.exercise.set_device(device)
        self.exercise.set_calibration(calibration)
        self.connect_button.setText("Disconnect")
        if calibration is None:
            self._quick_calibration()
        else:
            when = calibration.created or "earlier"
            self.status_bar.showMessage(f"Using the calibration made {when}", 10_000)

    def _quick_calibration(self, seconds: float = 3.0) -> None:
        """Take the first seconds of sitting upright as 0° so the plot means something at once.

        The wizard does it properly (with a forward bend); this mirrors ``posture monitor``.
        No pose is prompted: a simulated wearer would stop its scenario to obey, and every
        scenario starts with 10 s of sitting upright anyway.
        """
        engine = self.session_engine()
        self.status_bar.showMessage(f"Calibrating: sit upright and still for {seconds:.0f} s…")

        def captured(block: object, error: BaseException | None) -> None:
            from calibration.procedures import fit_mounting

            if error is not None or not self.session.running:
                return
            try:
                calibration = fit_mounting(block, None, device=self.settings.device)  # type: ignore[arg-type]
            except CalibrationError as exc:
                self.status_bar.showMessage(f"Not calibrated yet: {exc}. Use Calibrate…", 30_000)
                return
            self.session.call(self.session_engine().set_calibration, calibration)

        self.session.call(engine.capture, seconds, on_done=captured)

    def disconnect_device(self) -> None:
        self.exercise.engine_stopped()
        self.session.stop()
        self.connect_button.setText("Connect")
        self._on_link(LinkEvent(LinkState.CLOSED, "stopped"))

    def session_engine(self) -> Any:
        """The running :class:`host.engine.Engine` (for ``session.call``), or raise."""
        thread = self.session.engine_thread
        if thread is None:
            raise RuntimeError("no engine is running")
        return thread.engine

    def _toggle_connection(self) -> None:
        if self.session.running:
            self.disconnect_device()
        else:
            self.connect_device()

    # ------------------------------------------------------------------ engine events

    def _on_frame(self, frame: LiveFrame) -> None:
        self.plot.show_frame(frame)
        if not self._plotted_any and self.plot.points_plotted:
            self._plotted_any = True
            self.first_sample_plotted.emit()
        self._last_t_s = float(frame.t_s[-1])
        style = zone_style(frame.zone)
        activity = ACTIVITY_LABELS.get(frame.activity, "—")
        detail = f"{activity} · {format_duration(frame.dwell_s)} in this zone"
        if frame.confidence < 0.5:
            detail += " · low confidence"
        self.indicator.show_posture(
            style, float(frame.flexion_deg[-1]), float(frame.lateral_deg[-1]), detail
        )
        today = _local_today()
        if today != self._today:
            # A new day: today's totals start from zero.
            self._today = today
            self._today_baseline = {}
            self.bridge.reset_zone_totals()
        totals = dict(self._today_baseline)
        for code, seconds in frame.zone_seconds.items():
            totals[code] = totals.get(code, 0.0) + seconds
        self.zone_times.show_seconds(totals)
        self._update_alert_state(frame.seconds_to_alert)

    def _update_alert_state(self, seconds_to_alert: float | None) -> None:
        if self._snooze_until_t_s is not None and self._last_t_s >= self._snooze_until_t_s:
            self._snooze_until_t_s = None  # the engine resumed by itself
        if self._paused and self._last_t_s >= self._pause_until_t_s:
            # The policy ends a forgotten pause by itself (AlertConfig.pause_max_s).
            self._paused = False
            self.pause_button.setText("Pause alerts")
        if self._exercising:
            self.alert_state_label.setText("Alerts off during the exercise")
        elif self._paused:
            left = format_duration(self._pause_until_t_s - self._last_t_s)
            self.alert_state_label.setText(f"Alerts paused (back on in {left} at most)")
        elif self._snooze_until_t_s is not None:
            left = format_duration(self._snooze_until_t_s - self._last_t_s)
            self.alert_state_label.setText(f"Alerts snoozed, back in {left}")
        else:
            self.alert_state_label.setText("Alerts on")
        quiet = self._paused or self._exercising or self._snooze_until_t_s is not None
        if seconds_to_alert is not None and not quiet:
            self.countdown_label.setText(f"Slouch alert in {format_duration(seconds_to_alert)}")
        else:
            self.countdown_label.setText("")

    def _on_link(self, event: LinkEvent) -> None:
        self.link_state = event.state
        text = _LINK_TEXT[event.state]
        if event.state is LinkState.RECONNECTING and event.attempt:
            text = f"reconnecting… (try {event.attempt})"
        self.link_label.setText(text)
        self.link_label.setToolTip(event.detail)
        colour = {"connected": "#1e7b34", "disconnected": "#666"}.get(text, "#b36b00")
        self.link_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        if event.state is LinkState.CLOSED:
            # The engine has finished (stopped, or a permanent error reported via on_error).
            self.connect_button.setText("Connect")
            self.exercise.engine_stopped()

    def _on_alert(self, alert: Alert) -> None:
        if self._exercising:  # raised just before the pause took effect: exercise is not slouching
            logger.info("alert during an exercise ignored: %s", alert.reason)
            return
        self.alerts_seen.append(alert)
        title = "Time to sit up" if alert.kind == "slouch" else "Posture reminder"
        self.banner.show_alert(title, alert.reason)
        now = dt.datetime.now().astimezone()
        quiet = self.settings.in_quiet_hours(now.hour * 60 + now.minute)
        if not quiet:
            self.notifier.notify(
                title, alert.reason, sound=self.settings.sound, tray=self.settings.tray
            )

    def _on_status(self, status: StatusMessage) -> None:
        charging = " ⚡" if status.charging else ""
        self.battery_label.setText(f"battery {status.battery_pct} %{charging}")

    def _on_info(self, info: DeviceInfo) -> None:
        if info.battery_pct is not None:
            self.battery_label.setText(f"battery {info.battery_pct} %")
        self.status_bar.showMessage(f"{info.name} {info.firmware}".strip(), 10_000)

    def _on_calibration(self, calibration: object) -> None:
        self.exercise.set_calibration(calibration if isinstance(calibration, Calibration) else None)
        state = "calibrated" if calibration is not None else "not calibrated"
        self.status_bar.showMessage(f"Sensor {state}", 10_000)

    def _on_error(self, message: str) -> None:
        logger.warning("engine: %s", message)
        self.status_bar.showMessage(message, 30_000)

    def _on_notice(self, message: str) -> None:
        logger.info("engine: %s", message)
        self.status_bar.showMessage(message, 15_000)

    # ------------------------------------------------------------------ user actions

    def snooze(self, minutes: int) -> None:
        """No alerts for ``minutes`` (sensor time); they resume by themselves."""
        self.banner.hide()
        if self.session.running and self.session.call(self.session_engine().snooze, minutes * 60.0):
            self._snooze_until_t_s = self._last_t_s + minutes * 60.0
            self._update_alert_state(None)

    def toggle_pause(self) -> None:
        """Pause alerts until resumed (or resume them)."""
        if not self.session.running:
            return
        self.banner.hide()
        self._paused = not self._paused
        self._pause_until_t_s = (
            self._last_t_s + alert_config_from_settings(self.settings).pause_max_s
        )
        engine = self.session_engine()
        self.session.call(engine.pause if self._paused else engine.resume)
        self.pause_button.setText("Resume alerts" if self._paused else "Pause alerts")
        self._snooze_until_t_s = None
        self._update_alert_state(None)

    def _on_reminder(self, text: str) -> None:
        self.status_bar.showMessage(f"Time for your exercises. {text}", 120_000)
        self.exercise.refresh()

    def _exercise_started(self) -> None:
        """No slouch alerts during an exercise set: bending is the exercise (the CLI's engine
        has no alert sink and no haptics either).

        The wearer's own pause already silences the engine and is left alone; otherwise the
        exercise pauses it (a snooze running meanwhile is kept in :attr:`_snooze_until_t_s`
        and restored by :meth:`_exercise_ended`).
        """
        self._exercising = True
        self.banner.hide()
        self.pause_button.setEnabled(False)  # the exercise owns the pause until it ends
        # a new calibration mid-exercise would move the coach's reference under the count
        self.calibrate_button.setEnabled(False)
        self._exercise_engine = self.session.engine_thread
        self._exercise_paused = (
            self.session.running
            and not self._paused
            and self.session.call(self.session_engine().pause)
        )
        self._update_alert_state(None)

    def _exercise_ended(self, _session_id: object) -> None:
        """Give back the alert state from before the exercise: a pause the wearer had set
        stays; a snooze that has not run out goes on until its original end; otherwise alerts
        are on again."""
        self._exercising = False
        self.pause_button.setEnabled(True)
        self.calibrate_button.setEnabled(True)
        paused_by_us, self._exercise_paused = self._exercise_paused, False
        engine_thread, self._exercise_engine = self._exercise_engine, None
        if self._snooze_until_t_s is not None and self._last_t_s >= self._snooze_until_t_s:
            self._snooze_until_t_s = None  # ran out during the exercise
        same_engine = self.session.running and self.session.engine_thread is engine_thread
        if paused_by_us and same_engine:
            engine = self.session_engine()
            snooze_left_s = (
                None if self._snooze_until_t_s is None else self._snooze_until_t_s - self._last_t_s
            )

            async def restore() -> None:  # on the engine's loop: one step, no alert in between
                await engine.resume()  # ends our pause, and a snooze with it...
                if snooze_left_s is not None:
                    await engine.snooze(snooze_left_s)  # ...which is given back

            self.session.call(restore)
        self._update_alert_state(None)

    def _on_record_toggled(self, on: bool) -> None:
        self._update_settings(record=on)
        if self.session.running:
            self.session.call(self.session_engine().set_recording, on, on_done=self._record_done)

    def _record_done(self, _result: object, error: BaseException | None) -> None:
        if error is not None:
            self.record_button.setChecked(False)
            QMessageBox.warning(self, "Recording", f"Cannot record: {error}")

    def open_wizard(self) -> None:
        from host.gui.wizard import CalibrationWizard

        if not self.session.running:
            QMessageBox.information(self, "Calibrate", "Connect to a sensor first.")
            return
        wizard = CalibrationWizard(self.session, self.session_engine(), parent=self)
        wizard.calibrated.connect(self._save_calibration)
        wizard.open()

    def _save_calibration(self, calibration: Calibration) -> None:
        try:
            self.calibrations.save(calibration)
        except OSError as exc:
            logger.warning("cannot store the calibration: %s", exc)

    def open_settings(self) -> None:
        from host.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, parent=self)
        if dialog.exec():
            self.apply_settings(dialog.settings())

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings now (alert policy, threshold line) and persist them."""
        self.settings = settings
        self.banner.set_default_snooze(settings.snooze_min)
        self.plot.set_threshold(settings.tolerance_deg)
        self.reminder.sound, self.reminder.tray = settings.sound, settings.tray
        if self.session.running:
            # A new policy starts with alerts on: the pause (the wearer's or the exercise's)
            # and a running snooze are carried over in the same engine step.
            engine = self.session_engine()
            config = alert_config_from_settings(settings)
            paused = self._paused or self._exercise_paused
            snooze_left_s = (
                None if self._snooze_until_t_s is None else self._snooze_until_t_s - self._last_t_s
            )

            async def reconfigure() -> None:
                await engine.set_alert_config(config)
                if paused:
                    await engine.pause()
                if snooze_left_s is not None and snooze_left_s > 0:
                    await engine.snooze(snooze_left_s)

            self.session.call(reconfigure)
        self._sync_haptics()
        self._save()

    def _haptics_wanted(self) -> bool:
        now = dt.datetime.now().astimezone()
        return self.settings.haptics and not self.settings.in_quiet_hours(
            now.hour * 60 + now.minute
        )

    def _sync_haptics(self) -> None:
        if self.session.running:
            self.session.call(self.session_engine().set_haptics, self._haptics_wanted())

    def _update_settings(self, **changes: Any) -> None:
        self.settings = dataclasses.replace(self.settings, **changes)
        self._save()

    def _save(self) -> None:
        if self._persist:
            try:
                save_settings(self.settings, self._settings_path)
            except OSError as exc:
                logger.warning("cannot save settings: %s", exc)

    def closeEvent(self, event: QCloseEvent | None) -> None:  # noqa: N802  # Qt override
        # An exercise still running is stored with what was counted (no pain question while
        # quitting), before the engine goes.
        self.exercise.ask_pain = False
        self.exercise.engine_stopped()
        self.exercise.keep_unsaved()  # stored now, or kept in a file (logged): never dropped
        self.bridge.stop()
        self.reminder.stop()
        self.session.shutdown()  # bounded wait: the recording and the link close properly
        super().closeEvent(event)


def _nominal_calibration(device: str) -> Calibration:
    """The documented lumbar mounting (docs/protocol.md) as a provisional calibration."""
    return Calibration(
        neutral_up_sensor=(1.0, 0.0, 0.0),
        r_body_sensor=NOMINAL_R_BS,
        device=device,
        method="nominal",
    )


def recorded_zone_seconds(db_path: Path | None, day: dt.date) -> dict[int, float]:
    """Seconds per zone code in the sessions recorded on ``day`` (local), from the store.

    Used as the baseline of "Today" so the totals survive restarts when recording is on. An
    absent or unreadable database gives an empty baseline (viewing never creates one).
    """
    from host.recording.store import SessionStore, default_db_path

    path = db_path or default_db_path()
    if not path.exists():
        return {}
    totals: dict[int, float] = {}
    try:
        with SessionStore.open(path) as store:
            for info in store.sessions():
                if info.started_at.astimezone().date() != day:
                    continue
                codes, counts = np.unique(store.summaries(info.id).zone, return_counts=True)
                for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                    totals[int(code)] = totals.get(int(code), 0.0) + float(count)
    except PostureError as exc:
        logger.warning("cannot read today's sessions: %s", exc)
        return {}
    return totals


def _local_today() -> dt.date:
    """Today's date in the local time zone (the wearer's day)."""
    return dt.datetime.now().astimezone().date()
