"""The daily exercise reminder fires at the program's time while exercises are due
(the clock is injected: no waiting for 18:00)."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from host.exercise.coach import CoachResult, SetResult
from host.exercise.counting import Hold
from host.exercise.program import save_program
from host.exercise.records import record_exercise
from host.gui.reminders import STATE_NAME, ExerciseReminder, load_last_reminded
from host.recording.store import SessionStore

PROGRAM = """\
[program]
title = "Back"
days_per_week = 7
start_date = 2026-11-02
reminder = "18:00"

[[exercise]]
name = "bird_dog"
sets = 1
reps = 1
"""


class Recorder:
    """A Notifier that records the calls (notes/qt.md §5: test the calls, not the OS effect)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bool, bool]] = []

    def notify(self, title: str, message: str, *, sound: bool, tray: bool) -> None:
        self.calls.append((title, message, sound, tray))


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute).astimezone()


def _done_bird_dog(db: Path, when: dt.datetime) -> None:
    hold = Hold(5.0, 15.0, 6.0, 0.5, 0.5, 0.3)
    result = CoachResult(
        "bird_dog", "hold", None, (SetResult(0, 0.0, 30.0, 1, holds=(hold,)),), 1, 1, 10.0
    )
    with SessionStore.open(db) as store:
        record_exercise(store, result, device="sim", started_at=when)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    program = tmp_path / "program.toml"
    save_program(PROGRAM, program)
    return tmp_path / "db.sqlite3", program


def test_fires_once_a_day_at_the_time_while_due(qtbot: QtBot, setup: tuple[Path, Path]) -> None:
    db, program = setup
    notifier = Recorder()
    clock = Clock(_at(3, 17, 59))
    reminder = ExerciseReminder(notifier, db, program, clock=clock, sound=False)
    shown: list[str] = []
    reminder.reminded.connect(shown.append)
    assert reminder.check() is None
    clock.now = _at(3, 18, 0)
    with qtbot.waitSignal(reminder.reminded, timeout=1000):
        text = reminder.check()
    assert text == "Still due today: bird_dog (1 x 1)"
    assert notifier.calls == [("Time for your exercises", text, False, True)]
    clock.now = _at(3, 21, 30)
    assert reminder.check() is None  # once a day
    clock.now = _at(4, 18, 5)
    assert reminder.check() is not None  # the next day again
    assert len(notifier.calls) == 2
    assert shown == [text, text]
    assert not db.exists()  # checking never creates the database


def test_silent_when_done_before_start_or_in_quiet_hours(setup: tuple[Path, Path]) -> None:
    db, program = setup
    notifier = Recorder()
    clock = Clock(_at(1, 19, 0))  # before the program's start date
    reminder = ExerciseReminder(notifier, db, program, clock=clock)
    assert reminder.check() is None
    _done_bird_dog(db, _at(2, 9, 0))
    clock.now = _at(2, 19, 0)
    assert reminder.check() is None  # today's exercise is done
    clock.now = _at(3, 18, 30)
    reminder.quiet = lambda now: now.hour < 20
    assert reminder.check() is None  # quiet hours: wait
    clock.now = _at(3, 20, 0)
    assert reminder.check() == "Still due today: bird_dog (1 x 1)"
    assert len(notifier.calls) == 1


def test_timer_checks_by_itself(qtbot: QtBot, setup: tuple[Path, Path]) -> None:
    db, program = setup
    notifier = Recorder()
    clock = Clock(_at(3, 17, 0))
    reminder = ExerciseReminder(notifier, db, program, clock=clock)
    reminder.start(interval_ms=10)
    assert notifier.calls == []
    clock.now = _at(3, 18, 1)
    qtbot.waitUntil(lambda: len(notifier.calls) == 1, timeout=2000)
    reminder.stop()


def test_no_reminder_key_no_reminder(tmp_path: Path) -> None:
    program = tmp_path / "program.toml"
    save_program(PROGRAM.replace('reminder = "18:00"\n', ""), program)
    notifier = Recorder()
    reminder = ExerciseReminder(
        notifier, tmp_path / "db.sqlite3", program, clock=Clock(_at(3, 23, 0))
    )
    assert reminder.check() is None
    assert notifier.calls == []


def test_once_a_day_survives_a_restart(setup: tuple[Path, Path], tmp_path: Path) -> None:
    db, program = setup
    state = tmp_path / "config" / "posture-companion" / STATE_NAME
    notifier = Recorder()
    first = ExerciseReminder(notifier, db, program, state_path=state, clock=Clock(_at(3, 18, 0)))
    assert first.check() is not None
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # the user's habits: theirs only
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    # the dashboard restarted the same evening: no second reminder
    again = ExerciseReminder(notifier, db, program, state_path=state, clock=Clock(_at(3, 21, 0)))
    assert again.last_reminded == _at(3, 0).date()
    assert again.check() is None
    assert len(notifier.calls) == 1
    # the next day it comes again
    assert ExerciseReminder(
        notifier, db, program, state_path=state, clock=Clock(_at(4, 18, 30))
    ).check() == ("Still due today: bird_dog (1 x 1)")
    assert len(notifier.calls) == 2


@pytest.mark.parametrize("content", [b"{not json", b'{"last_reminded": "yesterday"}', b"\xff\xfe"])
def test_an_unreadable_state_file_only_means_not_reminded_yet(
    setup: tuple[Path, Path], tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    db, program = setup
    state = tmp_path / STATE_NAME
    state.write_bytes(content)
    notifier = Recorder()
    reminder = ExerciseReminder(notifier, db, program, state_path=state, clock=Clock(_at(3, 18)))
    assert str(state) in caplog.text
    assert reminder.check() is not None
    assert load_last_reminded(state) == _at(3, 0).date()  # and it is written afresh


def test_a_state_file_that_cannot_be_written_keeps_the_day_in_memory(
    setup: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db, program = setup
    blocker = tmp_path / "file"
    blocker.write_text("")
    state = blocker / STATE_NAME  # its folder is a file
    notifier = Recorder()
    clock = Clock(_at(3, 18))
    reminder = ExerciseReminder(notifier, db, program, state_path=state, clock=clock)
    assert reminder.check() is not None
    assert "cannot store the reminder day" in caplog.text
    clock.now = _at(3, 19)
    assert reminder.check() is None


def test_the_dashboard_keeps_the_state_next_to_its_settings(qtbot: QtBot, tmp_path: Path) -> None:
    from host.gui.main_window import MainWindow
    from host.settings import Settings

    settings = Settings(db_path=str(tmp_path / "db.sqlite3"))
    win = MainWindow(settings, tmp_path / "cfg" / "settings.toml", notifier=Recorder())
    qtbot.addWidget(win)
    assert win.reminder.state_path == tmp_path / "cfg" / STATE_NAME
    win.close()
    quiet = MainWindow(settings, tmp_path / "s.toml", notifier=Recorder(), persist=False)
    qtbot.addWidget(quiet)
    assert quiet.reminder.state_path is None  # tests and --screenshot runs write nothing
    quiet.close()
