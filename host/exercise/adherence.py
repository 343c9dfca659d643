"""Adherence: done vs prescribed, per day and per week, and what is due today (pure).

Definitions (ours, documented in docs/exercises.md):

* A **set is complete** when its reps (or holds) held as the *program* prescribes reach the
  program's reps: each full-range rep or hold counts when it lasted ≥ 80 % of the program's
  ``hold_s`` less 0.5 s (:func:`~host.exercise.scoring.held_enough`). A run with ``--reps 9``
  against a program of 10, or ``--hold 5`` against 10 s, does not complete the program's day.
  Sets stored without their rep/hold events fall back on their own ``complete`` flag.
* A **day is done** for an exercise when its complete sets that day reach the prescribed sets.
* Only days of the program count: from its ``start_date`` to ``today`` (the caller's date).
  Days before the start or after today are left out (not 0 %); a week cut by either is
  judged against the days of it that count (at most the prescribed days per week).
* **Daily adherence** of an exercise = min(1, complete sets / prescribed sets) on a training
  day; the day's figure is the mean over the program's exercises.
* **Weekly adherence** (ISO weeks, Monday first) of an exercise = min(1, days done /
  prescribed days per week); the week's figure is the mean over exercises. This mirrors the
  "frequency adherence" of Medina-Mirapeix 2009 (domain notes §9).
* **Due today**: exercises not yet done today whose week is not yet complete.
* **Reminder**: once a day, at or after the program's ``reminder`` time (local), while something
  is due; the caller passes the time (no clock here) and the day it last reminded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from host.exercise.program import Prescription, Program
from host.exercise.scoring import held_enough
from host.exercise.summary import ExerciseDay

__all__ = [
    "DayAdherence",
    "Due",
    "WeekAdherence",
    "complete_sets",
    "daily",
    "due_today",
    "reminder_due",
    "reminder_text",
    "weekly",
]


@dataclass(frozen=True, slots=True)
class DayAdherence:
    """One day: per exercise (complete sets, prescribed sets), and the mean fraction 0–1."""

    day: dt.date
    sets: dict[str, tuple[int, int]]
    fraction: float


@dataclass(frozen=True, slots=True)
class WeekAdherence:
    """One ISO week (``monday``): per exercise (days done, days prescribed), fraction 0–1."""

    monday: dt.date
    days: dict[str, tuple[int, int]]
    fraction: float


@dataclass(frozen=True, slots=True)
class Due:
    """An exercise still to do today: sets left, and days left to do this week."""

    exercise: str
    sets_left: int
    reps: int
    days_left_this_week: int


def _sets_meeting(record: ExerciseDay, p: Prescription | None) -> int:
    """Sets of a day's record complete under the program's prescription ``p``."""
    if p is None or not record.set_holds:
        return record.sets_complete
    return sum(
        1 for held in record.set_holds if sum(held_enough(h, p.hold_s) for h in held) >= p.reps
    )


def complete_sets(
    program: Program, records: Sequence[ExerciseDay]
) -> dict[tuple[dt.date, str], int]:
    """Complete sets per (day, exercise), judged against the program's prescription."""
    out: dict[tuple[dt.date, str], int] = {}
    for r in records:
        n = _sets_meeting(r, program.prescription(r.exercise))
        out[(r.day, r.exercise)] = out.get((r.day, r.exercise), 0) + n
    return out


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _counts(program: Program, day: dt.date, today: dt.date | None) -> bool:
    """Whether ``day`` is a day of the program: not before its start, not after today."""
    start = program.start_date
    return (start is None or day >= start) and (today is None or day <= today)


def daily(
    program: Program,
    records: Sequence[ExerciseDay],
    first: dt.date,
    last: dt.date,
    *,
    today: dt.date | None = None,
) -> list[DayAdherence]:
    """Adherence for every day of the program from ``first`` to ``last`` (inclusive): days
    before the program's start date or after ``today`` are left out."""
    done = complete_sets(program, records)
    out = []
    for day in _days(first, last):
        if not _counts(program, day, today):
            continue
        sets = {p.name: (done.get((day, p.name), 0), p.sets) for p in program.exercises}
        fracs = [min(1.0, d / n) for d, n in sets.values()]
        out.append(DayAdherence(day, sets, sum(fracs) / len(fracs) if fracs else 0.0))
    return out


def weekly(
    program: Program,
    records: Sequence[ExerciseDay],
    first: dt.date,
    last: dt.date,
    *,
    today: dt.date | None = None,
) -> list[WeekAdherence]:
    """Adherence for every ISO week touching ``first``…``last`` (whole weeks are counted, but
    only their days from the program's start date to ``today``; weeks without such a day are
    left out, and a cut week prescribes at most as many days as it has)."""
    done = complete_sets(program, records)
    monday = first - dt.timedelta(days=first.weekday())
    out = []
    while monday <= last:
        week = [
            d for d in _days(monday, monday + dt.timedelta(days=6)) if _counts(program, d, today)
        ]
        if not week:
            monday += dt.timedelta(days=7)
            continue
        days: dict[str, tuple[int, int]] = {}
        for p in program.exercises:
            n = sum(1 for d in week if done.get((d, p.name), 0) >= p.sets)
            days[p.name] = (n, min(p.days_per_week, len(week)))
        fracs = [min(1.0, d / n) for d, n in days.values()]
        out.append(WeekAdherence(monday, days, sum(fracs) / len(fracs) if fracs else 0.0))
        monday += dt.timedelta(days=7)
    return out


def due_today(program: Program, records: Sequence[ExerciseDay], today: dt.date) -> list[Due]:
    """What is still due ``today`` (nothing before the program's start date)."""
    if program.start_date is not None and today < program.start_date:
        return []
    done = complete_sets(program, records)
    monday = today - dt.timedelta(days=today.weekday())
    week = _days(monday, today - dt.timedelta(days=1))
    out = []
    for p in program.exercises:
        today_sets = done.get((today, p.name), 0)
        if today_sets >= p.sets:
            continue
        days_done = sum(1 for d in week if done.get((d, p.name), 0) >= p.sets)
        left = p.days_per_week - days_done
        if left <= 0:
            continue
        out.append(Due(p.name, p.sets - today_sets, p.reps, left))
    return out


def reminder_due(
    program: Program,
    records: Sequence[ExerciseDay],
    now: dt.datetime,
    last_reminded: dt.date | None,
) -> list[Due]:
    """What to remind of at ``now`` (local wall time, given by the caller); empty when the
    program has no reminder, it is not yet the reminder time today, today's reminder was
    already given (``last_reminded``), or nothing is due."""
    if program.reminder is None:
        return []
    today = now.date()
    if last_reminded is not None and last_reminded >= today:
        return []
    if now.time().replace(tzinfo=None) < program.reminder:
        return []
    return due_today(program, records, today)


def reminder_text(due: Sequence[Due]) -> str:
    """One line for the notification: what is still due today."""
    return "Still due today: " + ", ".join(f"{d.exercise} ({d.sets_left} x {d.reps})" for d in due)
