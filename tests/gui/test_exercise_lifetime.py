"""A guided exercise against the real engine and simulator when things happen around it: the
alert state it borrowed, a new device, closing the window, the engine ending by itself, the
pain question left open while the sensor changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from host.engine import Engine
from host.gui.exercise_live import CoachView
from host.gui.main_window import MainWindow
from host.recording.store import SessionStore
from host.settings import Settings


class _Quiet:
    def notify(self, title: str, message: str, *, sound: bool, tray: bool) -> None:
        pass


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setenv("POSTURE_PROGRAM", str(tmp_path / "program.toml"))  # no program
    settings = Settings(db_path=str(tmp_path / "db.sqlite3"))
    win = MainWindow(settings, tmp_path / "settings.toml", notifier=_Quiet(), persist=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.session.running


def _exercising(qtbot: QtBot, window: MainWindow, device: str, name: str, count: int) -> None:
    """Connect ``device``, wait for the quick calibration, start ``name`` (no pain question)
    and wait until ``count`` reps are counted."""
    tab = window.exercise
    tab.ask_pain = False
    window.connect_device(device)
    qtbot.waitUntil(lambda: tab.calibration is not None, timeout=5000)
    assert tab.start_exercise(name)
    qtbot.waitUntil(
        lambda: tab.last_view is not None and tab.last_view.count >= count, timeout=20_000
    )


def _alert_state(qtbot: QtBot, window: MainWindow) -> tuple[bool, float | None, float]:
    """(paused, snoozed until, last sample time) as the engine's policy has them now, asked on
    the engine's loop after every call submitted before."""
    engine: Engine = window.session_engine()
    answer: list[object] = []

    async def state() -> tuple[bool, float | None, float]:
        policy = engine._policy  # the test looks inside; the GUI only sends commands
        return policy.paused, policy.snoozed_until_s, engine._last_t_s

    window.session.call(state, on_done=lambda result, _e: answer.append(result))
    qtbot.waitUntil(lambda: bool(answer), timeout=2000)
    result = answer[0]
    assert isinstance(result, tuple)
    return result


def _sessions(db: Path) -> list[tuple[str, str, int]]:
    """(source, device, counted reps) of every stored exercise session."""
    out = []
    with SessionStore.open(db) as store:
        for s in store.sessions():
            if s.source.startswith("exercise:"):
                reps = sum(1 for e in store.events(s.id, "rep") if not e.data["partial"])
                out.append((s.source, s.device, reps))
    return out


def test_a_snooze_set_before_the_exercise_runs_on_after_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.connect_device("sim:ex_pelvic_tilt?speed=10&seed=1")
    tab = window.exercise
    tab.ask_pain = False
    qtbot.waitUntil(lambda: tab.calibration is not None, timeout=5000)
    window.snooze(15)
    paused, snoozed_until, _ = _alert_state(qtbot, window)
    assert not paused
    assert snoozed_until is not None
    assert tab.start_exercise("pelvic_tilt")
    qtbot.waitUntil(lambda: tab.last_view is not None and tab.last_view.count >= 1, timeout=20_000)
    assert _alert_state(qtbot, window)[0]  # the exercise holds a pause
    tab.stop_exercise()
    paused, after, last_t_s = _alert_state(qtbot, window)
    assert not paused  # the exercise's pause is over...
    assert after is not None, "ending the exercise ended the wearer's snooze"
    # ...the snooze is not, and ends when it would have: the window knows sensor time as of
    # its last frame, so the end may move by the display's lag (1/30 s wall x speed 10)
    assert last_t_s < after == pytest.approx(snoozed_until, abs=2.0)
    assert window.alert_state_label.text().startswith("Alerts snoozed, back in")


def test_a_pause_set_before_the_exercise_stays(qtbot: QtBot, window: MainWindow) -> None:
    window.connect_device("sim:ex_pelvic_tilt?speed=40&seed=1")
    tab = window.exercise
    tab.ask_pain = False
    qtbot.waitUntil(lambda: tab.calibration is not None, timeout=5000)
    window.toggle_pause()
    assert tab.start_exercise("pelvic_tilt")
    qtbot.waitUntil(lambda: tab.last_view is not None and tab.last_view.count >= 1, timeout=20_000)
    tab.stop_exercise()
    assert _alert_state(qtbot, window)[0]
    assert window.alert_state_label.text().startswith("Alerts paused")
    assert window.pause_button.text() == "Resume alerts"
    assert window.pause_button.isEnabled()


def test_an_exercise_alone_turns_alerts_back_on(qtbot: QtBot, window: MainWindow) -> None:
    _exercising(qtbot, window, "sim:ex_pelvic_tilt?speed=40&seed=1", "pelvic_tilt", 1)
    window.exercise.stop_exercise()
    assert _alert_state(qtbot, window)[:2] == (False, None)
    assert window.alert_state_label.text() == "Alerts on"


def test_a_new_device_ends_the_exercise_at_once_stored_under_the_old_one(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    old = "sim:ex_pelvic_tilt?speed=40&seed=1"
    _exercising(qtbot, window, old, "pelvic_tilt", 2)
    tab = window.exercise
    window.connect_device("sim:upright_sitting?speed=5")
    # ended before the new engine runs, with the old device's reps: nothing waits on the old
    # engine's answer, which may come late (a slow Bluetooth disconnect) or never
    assert not tab.exercising
    assert tab.last_result is not None
    assert tab.last_result.total_reps >= 2
    assert tab.last_session_id is not None
    assert _sessions(tmp_path / "db.sqlite3") == [
        ("exercise:pelvic_tilt", old, tab.last_result.total_reps)
    ]
    assert window.session.running
    assert window.alert_state_label.text() == "Alerts on"  # the new engine's state


def test_closing_the_window_mid_exercise_keeps_what_was_done(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _exercising(qtbot, window, "sim:ex_cat_camel?speed=40&seed=2", "cat_camel", 3)
    window.close()
    result = window.exercise.last_result
    assert result is not None
    assert result.total_reps >= 3
    assert not window.session.running
    assert _sessions(tmp_path / "db.sqlite3") == [
        ("exercise:cat_camel", "sim:ex_cat_camel?speed=40&seed=2", result.total_reps)
    ]


def test_the_engine_ending_by_itself_ends_the_exercise_and_keeps_it(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _exercising(qtbot, window, "sim:ex_pelvic_tilt?speed=40&seed=1", "pelvic_tilt", 2)
    tab = window.exercise
    thread = window.session.engine_thread
    assert thread is not None
    with qtbot.waitSignal(tab.exercise_ended, timeout=5000):
        thread.stop(0.0)  # as a permanent link error does: the window did not ask for it
    assert tab.last_result is not None
    assert tab.last_result.total_reps >= 2
    assert len(_sessions(tmp_path / "db.sqlite3")) == 1
    assert window.connect_button.text() == "Connect"


def test_an_engine_that_ends_unheard_still_ends_the_exercise(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """The window may miss an engine's end: its "closed" handled just before the exercise
    attached to it (the engine dying at that moment). The run notices its engine thread is
    gone instead of waiting for a start posture forever."""
    _exercising(qtbot, window, "sim:ex_pelvic_tilt?speed=40&seed=1", "pelvic_tilt", 2)
    tab = window.exercise
    thread = window.session.engine_thread
    assert thread is not None
    window.session._listener.muted = True  # the window hears nothing more from this engine
    with qtbot.waitSignal(tab.exercise_ended, timeout=3000):
        thread.stop(0.0)
    assert not tab.exercising
    assert tab.last_result is not None
    assert tab.last_result.total_reps >= 2
    assert len(_sessions(tmp_path / "db.sqlite3")) == 1


def test_no_progress_reaches_the_tab_after_the_end(qtbot: QtBot, window: MainWindow) -> None:
    _exercising(qtbot, window, "sim:ex_pelvic_tilt?speed=40&seed=1", "pelvic_tilt", 1)
    tab = window.exercise
    run = tab.run
    assert run is not None
    assert tab.last_view is not None
    late: list[CoachView] = []
    run.progress.connect(late.append)
    tab.stop_exercise()
    summary = tab.count_label.text()
    # a view the engine queued just before the end, delivered after it
    run._viewed.emit(tab.last_view)
    qtbot.wait(50)
    assert late == []
    assert tab.count_label.text() == summary


def test_the_pain_question_outlives_the_sensor(qtbot: QtBot, window: MainWindow) -> None:
    tab = window.exercise
    window.connect_device("sim:ex_pelvic_tilt?speed=40&seed=1")
    qtbot.waitUntil(lambda: tab.calibration is not None, timeout=5000)
    # disconnected while the "before" question is open: nothing starts
    assert tab.start_exercise("pelvic_tilt")
    assert tab.pain_dialog is not None
    assert not tab.stop_button.isEnabled()
    window.disconnect_device()
    tab.pain_dialog.accept()
    assert not tab.exercising
    assert "disconnected" in tab.message_label.text()
    # another, not yet calibrated device connected meanwhile: calibrate first, not a coach
    # measuring from the nominal mounting
    window.connect_device("sim:ex_pelvic_tilt?speed=40&seed=1")
    qtbot.waitUntil(lambda: tab.calibration is not None, timeout=5000)
    assert tab.start_exercise("pelvic_tilt")
    dialog = tab.pain_dialog
    assert dialog is not None
    window.connect_device("sim:upright_sitting?speed=1")  # quick calibration: 3 s from now
    assert tab.calibration is None
    dialog.accept()
    assert not tab.exercising
    assert tab.message_label.text().startswith("Calibrate first")
    assert tab.calibrate_button.isVisibleTo(tab)


def test_an_exercise_the_store_refuses_is_kept_and_stored_again(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite3"
    db.mkdir()  # the store cannot open it: as a full disk or a moved database would fail
    tab = window.exercise
    window.connect_device("sim:ex_pelvic_tilt?speed=40&seed=1")
    qtbot.waitUntil(lambda: tab.calibration is not None, timeout=5000)
    assert tab.start_exercise("pelvic_tilt")
    assert tab.pain_dialog is not None
    tab.pain_dialog.slider.setValue(3)
    tab.pain_dialog.accept()
    qtbot.waitUntil(lambda: tab.last_view is not None and tab.last_view.count >= 2, timeout=20_000)
    tab.stop_exercise()
    assert tab.last_session_id is None
    assert tab.message_label.text().startswith("Could not store the session")
    assert str(db) in tab.message_label.text()
    assert tab.retry_button.isVisibleTo(tab)
    assert tab.pain_dialog is not None  # still asked, kept with the exercise
    tab.pain_dialog.slider.setValue(1)
    tab.pain_dialog.accept()
    reps = tab.last_result.total_reps if tab.last_result is not None else 0
    assert reps >= 2
    assert tab.store_again() == []  # still failing: still kept
    assert len(tab.unsaved) == 1
    db.rmdir()
    tab.retry_button.click()
    assert not tab.retry_button.isVisibleTo(tab)
    assert tab.unsaved == []
    assert tab.last_session_id is not None
    assert _sessions(db) == [("exercise:pelvic_tilt", "sim:ex_pelvic_tilt?speed=40&seed=1", reps)]
    with SessionStore.open(db) as store:
        pain = store.events(tab.last_session_id, "pain")
    assert [(e.data["when"], e.data["nrs"]) for e in pain] == [("before", 3), ("after", 1)]


def test_new_settings_keep_the_exercise_pause_and_a_snooze(
    qtbot: QtBot, window: MainWindow
) -> None:
    """A new alert policy starts with alerts on; it must not end the pause an exercise holds
    (or the wearer's snooze) behind the window's back."""
    _exercising(qtbot, window, "sim:ex_pelvic_tilt?speed=10&seed=1", "pelvic_tilt", 1)
    assert not window.calibrate_button.isEnabled()  # no new reference under the count
    window.apply_settings(dataclasses.replace(window.settings, tolerance_deg=25.0))
    assert _alert_state(qtbot, window)[0], "the settings change ended the exercise's pause"
    window.exercise.stop_exercise()
    assert window.calibrate_button.isEnabled()
    window.snooze(30)
    _, snoozed_until, _ = _alert_state(qtbot, window)
    assert snoozed_until is not None
    window.apply_settings(dataclasses.replace(window.settings, tolerance_deg=20.0))
    paused, after, _ = _alert_state(qtbot, window)
    assert not paused
    assert after == pytest.approx(snoozed_until, abs=2.0)
    assert window.alert_state_label.text().startswith("Alerts snoozed")


def test_closing_keeps_an_exercise_the_store_still_refuses_in_a_private_file(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import stat

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "db.sqlite3").mkdir()  # the store cannot open it
    _exercising(qtbot, window, "sim:ex_pelvic_tilt?speed=40&seed=1", "pelvic_tilt", 2)
    window.close()  # ends the exercise: not stored, tried once more, then kept in a file
    assert window.exercise.unsaved == []
    (kept,) = (tmp_path / "data").rglob("unstored/exercise-*.json")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    sets = [e for e in json.loads(kept.read_text())["events"] if e["kind"] == "exercise_set"]
    assert sum(s["data"]["counted"] for s in sets) >= 2
