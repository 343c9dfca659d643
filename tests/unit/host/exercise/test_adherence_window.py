"""Adherence counts only the program's days (start date to today) and judges sets against the
program's prescription, not the flags a run was started with."""

from __future__ import annotations

import datetime as dt

import pytest

from host.exercise.adherence import complete_sets, daily, weekly
from host.exercise.program import parse_program
from host.exercise.summary import ExerciseDay

START = dt.date(2026, 11, 25)  # a Wednesday
TODAY = dt.date(2026, 11, 30)  # the next Monday
PROGRAM = parse_program(
    f"""
[program]
title = "t"
start_date = {START.isoformat()}
days_per_week = 5
[[exercise]]
name = "bridge"
sets = 1
reps = 10
hold_s = 10
"""
)


def _bridge(day: dt.date, *holds: tuple[float, ...], complete: bool = True) -> ExerciseDay:
    n = len(holds)
    reps = sum(len(h) for h in holds)
    return ExerciseDay(day, "bridge", n, n if complete else 0, reps, 0, 0, 0.0, 80.0, holds)


def test_days_before_the_start_and_after_today_are_left_out() -> None:
    done = _bridge(START, (10.0,) * 10)
    days = daily(PROGRAM, [done], dt.date(2026, 11, 1), dt.date(2026, 12, 10), today=TODAY)
    assert [d.day for d in days] == [START + dt.timedelta(days=i) for i in range(6)]
    assert days[0].fraction == 1.0
    assert days[1].fraction == 0.0


def test_weeks_outside_the_program_are_left_out_and_cut_weeks_prescribe_fewer_days() -> None:
    records = [_bridge(START + dt.timedelta(days=i), (10.0,) * 10) for i in range(3)]
    weeks = weekly(PROGRAM, records, dt.date(2026, 11, 1), dt.date(2026, 12, 31), today=TODAY)
    assert [w.monday for w in weeks] == [dt.date(2026, 11, 23), dt.date(2026, 11, 30)]
    # Wed–Sun of the first week: 5 days of the program, 3 done of 5 prescribed
    assert weeks[0].days == {"bridge": (3, 5)}
    # today's week has one day so far: one day prescribed, not done yet
    assert weeks[1].days == {"bridge": (0, 1)}
    assert weeks[1].fraction == 0.0
    late = weekly(PROGRAM, records, dt.date(2026, 12, 1), dt.date(2026, 12, 10), today=TODAY)
    # whole weeks count, so today's week is there (its days up to today); no 0 % future weeks
    assert [w.monday for w in late] == [dt.date(2026, 11, 30)]


def test_the_program_prescription_judges_the_sets() -> None:
    nine = _bridge(START, (10.0,) * 9)  # run with --reps 9: complete by its own target
    short = _bridge(START + dt.timedelta(days=1), (3.0,) * 10)  # held 3 s of 10
    almost = _bridge(START + dt.timedelta(days=2), (7.6,) * 10)  # ≥ 80 % of 10 s less 0.5 s: counts
    done = complete_sets(PROGRAM, [nine, short, almost])
    assert done[(START, "bridge")] == 0
    assert done[(START + dt.timedelta(days=1), "bridge")] == 0
    assert done[(START + dt.timedelta(days=2), "bridge")] == 1
    days = daily(PROGRAM, [nine, short, almost], START, START + dt.timedelta(days=2), today=TODAY)
    assert [d.fraction for d in days] == pytest.approx([0.0, 0.0, 1.0])


def test_sets_without_events_keep_their_stored_verdict() -> None:
    old = _bridge(START)  # an old record: no per-set hold times
    assert complete_sets(PROGRAM, [old])[(START, "bridge")] == 0
    old_done = ExerciseDay(START, "bridge", 1, 1, 10, 0, 0, 0.0, 80.0)
    assert complete_sets(PROGRAM, [old_done])[(START, "bridge")] == 1


def test_stored_sessions_carry_the_hold_of_every_rep_per_set() -> None:
    from dataclasses import dataclass

    import numpy as np

    from host.exercise.coach import CoachResult, ScoredRep, SetResult
    from host.exercise.counting import Rep
    from host.exercise.library import get_exercise
    from host.exercise.records import set_events
    from host.exercise.scoring import score_rep
    from host.exercise.summary import SessionEvents, exercise_days

    @dataclass
    class Event:
        kind: str
        data: dict[str, object]

    spec = get_exercise("bridge")
    t = np.linspace(0.0, 8.0, 801)
    sig = 25.0 * np.sin(np.pi * t / 8.0) ** 2
    reps = [Rep(8.0 * i, 8.0 * i + 8.0, 25.0, 25.0, h, False, t, sig, 0 * t) for i, h in
            enumerate((10.0, 4.0))]  # fmt: skip
    scored = tuple(ScoredRep(r, score_rep(r, spec, hold_target_s=10.0), i + 1)
                   for i, r in enumerate(reps))  # fmt: skip
    result = CoachResult("bridge", "reps", None, (SetResult(0, 0.0, 16.0, 2, scored, (), 10.0),),
                         1, 2, 10.0)  # fmt: skip
    events = set_events(result)
    stored = next(d for _, k, d in events if k == "exercise_set")
    assert (stored["reps"], stored["counted"], stored["complete"]) == (2, 1, False)
    when = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    days = exercise_days(
        [SessionEvents(when, "exercise:bridge", [Event(k, d) for _, k, d in events])]
    )
    assert days[0].set_holds == ((10.0, 4.0),)
