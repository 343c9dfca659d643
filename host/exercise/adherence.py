"""Adherence: done vs prescribed, per day and per week, and what is due today (pure).

Definitions (ours, documented in docs/exercises.md):

* A **day is done** for an exercise when its complete sets that day reach the prescribed sets.
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

from host.exercise.program import Program
from host.exercise.summary import ExerciseDay

__all__ = [
    "DayAdherence",
    "Due",
    "WeekAdherence",
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


def _complete_sets(records: Sequence[ExerciseDay]) -> dict[tuple[dt.date, str], int]:
    out: dict[tuple[dt.date, str], int] = {}
    for r in records:
        out[(r.day, r.exercise)] = out.get((r.day, r.exercise), 0) + r.sets_complete
    return out


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def daily(
    program: Program, records: Sequence[ExerciseDay], first: dt.date, last: dt.date
) -> list[DayAdherence]:
    """Adherence for every day from ``first`` to ``last`` (inclusive)."""
    done = _complete_sets(records)
    out = []
    for day in _days(first, last):
        sets = {p.name: (done.get((day, p.name), 0), p.sets) for p in program.exercises}
        fracs = [min(1.0, d / n) for d, n in sets.values()]
        out.append(DayAdherence(day, sets, sum(fracs) / len(fracs) if fracs else 0.0))
    return out


def weekly(
    program: Program, records: Sequence[ExerciseDay], first: dt.date, last: dt.date
) -> list[WeekAdherence]:
    """Adherence for every ISO week touching ``first``…``last`` (whole weeks are counted)."""
    done = _complete_sets(records)
    monday = first - dt.timedelta(days=first.weekday())
    out = []
    while monday <= last:
        week = _days(monday, monday + dt.timedelta(days=6))
        days: dict[str, tuple[int, int]] = {}
        for p in program.exercises:
            n = sum(1 for d in week if done.get((d, p.name), 0) >= p.sets)
            days[p.name] = (n, p.days_per_week)
        fracs = [min(1.0, d / n) for d, n in days.values()]
        out.append(WeekAdherence(monday, days, sum(fracs) / len(fracs) if fracs else 0.0))
        monday += dt.timedelta(days=7)
    return out


def due_today(program: Program, records: Sequence[ExerciseDay], today: dt.date) -> list[Due]:
    """What is still due ``today`` (nothing before the program's start date)."""
    if program.start_date is not None and today < program.start_date:
        return []
    done = _complete_sets(records)
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
