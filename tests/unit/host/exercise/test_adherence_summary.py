"""Adherence arithmetic, therapist summaries from stored events, and records in the store."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from host.exercise.adherence import daily, due_today, weekly
from host.exercise.coach import Coach, CoachResult, ScoredRep, SetResult
from host.exercise.counting import Hold, Rep
from host.exercise.library import get_exercise
from host.exercise.program import parse_program
from host.exercise.records import record_exercise, record_rom, set_events
from host.exercise.rom import RomResult, norms_deg
from host.exercise.scoring import score_rep, sparc
from host.exercise.summary import ExerciseDay, SessionEvents, exercise_days, rom_trends
from host.recording.store import SessionStore

PROGRAM = parse_program(
    """
[program]
title = "t"
days_per_week = 3
[[exercise]]
name = "cat_camel"
sets = 2
reps = 10
[[exercise]]
name = "bridge"
sets = 1
reps = 8
days_per_week = 2
"""
)
MON = dt.date(2026, 11, 23)


def _day(offset: int, name: str, complete: int) -> ExerciseDay:
    return ExerciseDay(
        MON + dt.timedelta(days=offset), name, complete, complete, 10, 0, 0, 0.0, 80.0
    )


def test_daily_fraction_is_mean_of_capped_set_ratios() -> None:
    records = [_day(0, "cat_camel", 1), _day(0, "bridge", 3), _day(1, "cat_camel", 2)]
    days = daily(PROGRAM, records, MON, MON + dt.timedelta(days=2))
    assert days[0].sets == {"cat_camel": (1, 2), "bridge": (3, 1)}
    assert days[0].fraction == pytest.approx((0.5 + 1.0) / 2)
    assert days[1].fraction == pytest.approx(0.5)
    assert days[2].fraction == 0.0


def test_weekly_counts_done_days_against_days_per_week() -> None:
    records = [
        _day(0, "cat_camel", 2), _day(2, "cat_camel", 2), _day(4, "cat_camel", 1),  # 2 done days
        _day(0, "bridge", 1), _day(3, "bridge", 1), _day(5, "bridge", 1),  # 3 ≥ 2
        _day(8, "cat_camel", 2),  # next week
    ]  # fmt: skip
    weeks = weekly(PROGRAM, records, MON + dt.timedelta(days=2), MON + dt.timedelta(days=8))
    assert [w.monday for w in weeks] == [MON, MON + dt.timedelta(days=7)]
    assert weeks[0].days == {"cat_camel": (2, 3), "bridge": (3, 2)}
    assert weeks[0].fraction == pytest.approx((2 / 3 + 1.0) / 2)
    assert weeks[1].days == {"cat_camel": (1, 3), "bridge": (0, 2)}


def test_due_today() -> None:
    records = [_day(0, "bridge", 1), _day(1, "bridge", 1), _day(2, "cat_camel", 1)]
    due = due_today(PROGRAM, records, MON + dt.timedelta(days=2))
    assert [(d.exercise, d.sets_left, d.days_left_this_week) for d in due] == [("cat_camel", 1, 3)]
    late = parse_program(
        "[program]\ntitle='t'\nstart_date=2027-01-01\ndays_per_week=3\n"
        "[[exercise]]\nname='bridge'\n"
    )
    assert due_today(late, [], MON) == []


def _rep(t0: float, peak: float, partial: bool = False) -> Rep:
    t = np.linspace(t0, t0 + 4.0, 401)
    s = peak * np.sin(np.pi * (t - t0) / 4.0) ** 2
    return Rep(t0, t0 + 4.0, peak, peak, 1.0, partial, t, s, np.zeros_like(t))


def _result() -> CoachResult:
    spec = get_exercise("cat_camel")
    reps = [_rep(10.0 * i, 15.0) for i in range(3)] + [_rep(40.0, 5.0, partial=True)]
    scored = tuple(
        ScoredRep(r, score_rep(r, spec), 0 if r.partial else i + 1) for i, r in enumerate(reps)
    )
    sets = (SetResult(0, 0.0, 45.0, 3, scored), SetResult(1, 60.0, 70.0, 10, scored[:1]))
    return CoachResult("cat_camel", "reps", None, sets, 2, 10, 0.0)


@dataclass
class _Event:
    kind: str
    data: dict[str, object]


def test_events_and_summaries() -> None:
    result = _result()
    events = set_events(result)
    kinds = [k for _, k, _ in events]
    assert kinds.count("exercise_set") == 2
    assert kinds.count("rep") == 5
    assert [t for t, _, _ in events] == sorted(t for t, _, _ in events)
    when = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    session = SessionEvents(when, "exercise:cat_camel", [_Event(k, d) for _, k, d in events])
    days = exercise_days([session, SessionEvents(when, "live", [])])
    assert len(days) == 1
    d = days[0]
    assert (d.exercise, d.sets, d.sets_complete, d.reps, d.partials) == ("cat_camel", 2, 1, 4, 1)
    assert 0 < d.quality <= 100


def test_records_round_trip_through_the_store(tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        sid = record_exercise(store, _result(), device="sim:ex_cat_camel")
        rom = [
            (5.0, RomResult("flexion", 61.0, "deg", (58.0, 61.0), 60.0)),
            (9.0, RomResult("sts", math.nan, "s", detail={"cycles": 3.0})),
        ]
        rid = record_rom(store, rom, device="sim:rom_all", age_years=40)
        info = {s.id: s for s in store.sessions()}
        assert info[sid].source == "exercise:cat_camel"
        assert info[rid].source == "rom"
        sessions = [
            SessionEvents(s.started_at, s.source, store.events(s.id)) for s in info.values()
        ]
    assert exercise_days(sessions)[0].reps == 4
    trends = rom_trends(sessions)
    assert list(trends) == ["flexion"]  # the NaN 5xSTS is left out
    assert trends["flexion"][0].value == 61.0
    assert trends["flexion"][0].norm == 60.0


def test_norms_interpolate_troke() -> None:
    assert norms_deg(16) == {"flexion": 72.0, "extension": 29.0, "lateral": 29.0}
    assert norms_deg(90) == {"flexion": 40.0, "extension": 6.0, "lateral": 15.0}
    mid = norms_deg(53)
    assert mid["flexion"] == pytest.approx(56.0)
    assert norms_deg(5) == norms_deg(16)


def test_sparc_prefers_smooth_movement() -> None:
    t = np.linspace(0.0, 3.0, 301)
    one_bell = np.sin(np.pi * t / 3.0) ** 2  # one smooth move
    stop_start = np.abs(np.sin(3 * np.pi * t / 3.0)) ** 2  # the same path in three jerks
    assert sparc(one_bell, 100.0) > sparc(stop_start, 100.0)
    assert sparc(np.zeros(10), 100.0) == 0.0


def test_coach_feedback_sequence_on_synthetic_reps() -> None:
    spec = get_exercise("bridge")
    rate = 100.0
    t = np.arange(0.0, 70.0, 1.0 / rate)
    theta = np.full_like(t, -90.0)

    def minjerk(x: np.ndarray) -> np.ndarray:  # a human move's profile (Flash & Hogan 1985)
        x = np.clip(x, 0.0, 1.0)
        return np.asarray(x**3 * (10.0 - 15.0 * x + 6.0 * x**2))

    for i in range(3):  # three 25° bridges with 3 s holds (2 s moves), then stillness
        t0 = 5.0 + 8.0 * i
        ramp = minjerk((t - t0) / 2.0) - minjerk((t - t0 - 5.0) / 2.0)
        theta -= 25.0 * ramp
    up = np.stack([-np.sin(np.radians(theta)), np.zeros_like(t), np.cos(np.radians(theta))], 1)
    coach = Coach(spec, sets=2, reps=3)
    lines = coach.update(t, up)
    texts = [f.text for f in lines]
    assert texts[0] == "set 1/2: 3 reps"
    assert "rep 3/3" in texts
    assert "rest 45 s" in texts
    result = coach.finish()
    assert result.total_reps == 3
    assert result.sets[0].complete
    assert isinstance(result.sets[0].holds, tuple)
    assert not any(isinstance(h, Hold) for h in result.sets[0].holds)


def test_report_section_prescribed_vs_done(tmp_path: Path) -> None:
    from host.exercise.records import load_sessions
    from host.exercise.report import exercise_section, format_html, format_text

    day = dt.datetime.now(dt.UTC).astimezone()
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        record_exercise(store, _result(), device="sim", started_at=day)
        rom = [(5.0, RomResult("flexion", 61.0, "deg", (61.0,), 60.0))]
        record_rom(store, rom, device="sim", started_at=day)
        sessions = load_sessions(store, day.date(), day.date())
        assert load_sessions(store, day.date() + dt.timedelta(days=1)) == []
    section = exercise_section(sessions, PROGRAM, day.date() - dt.timedelta(days=6), day.date())
    rows = {r.exercise: r for r in section.rows}
    assert rows["cat_camel"].reps == 4
    assert rows["cat_camel"].days_done == 0  # one complete set of two prescribed
    assert rows["cat_camel"].days_prescribed == 3
    assert rows["bridge"].sets == 0
    assert section.rom["flexion"][0].value == 61.0
    text = format_text(section)
    assert "Cat–camel" in text  # the library title, not the id
    assert "population reference" in text
    page = format_html(section)
    assert (
        '<table border="0.5" cellspacing="0" cellpadding="3" width="100%">' in page
    )  # as the others
    assert "61.0°" in page
    empty = exercise_section([], None, day.date(), day.date())
    assert empty.empty
    assert format_html(empty) == ""


def test_report_html_for_a_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from host.exercise.records import report_html

    monkeypatch.setenv("POSTURE_PROGRAM", str(tmp_path / "none.toml"))
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        assert report_html(store) == ""
        day = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
        record_exercise(store, _result(), device="sim", started_at=day)
        page = report_html(store)
        assert "Home exercise" in page
        assert "Cat–camel" in page
        later = day.date() + dt.timedelta(days=3)
        assert report_html(store, later, later) == ""
