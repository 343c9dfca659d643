"""Therapist numbers from recorded exercise and ROM sessions (pure).

Exercise sessions are stored as sessions with ``source = "exercise:<name>"`` and events
``exercise_set`` (one per set), ``rep`` and ``hold``; ROM checks as ``source = "rom"`` with
``rom`` events (see :mod:`host.exercise.records`). These functions take the sessions' start
times and events as plain values (any object with ``kind`` and ``data``), so the report and the
dashboard can use them without touching the database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from host.exercise.coach import CoachResult

__all__ = [
    "EventLike",
    "ExerciseDay",
    "PainPoint",
    "RomPoint",
    "SessionEvents",
    "exercise_days",
    "pain_points",
    "result_heading",
    "rom_trends",
    "set_lines",
]


class EventLike(Protocol):
    """What the functions read of a stored event (host.recording.store.StoredEvent)."""

    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> Mapping[str, object]: ...


@dataclass(frozen=True, slots=True)
class SessionEvents:
    """One stored session: when it started (local date counts), its source and events."""

    started_at: dt.datetime
    source: str
    events: Sequence[EventLike]


@dataclass(frozen=True, slots=True)
class ExerciseDay:
    """What was done of one exercise on one day.

    Attributes:
        day: local date.
        exercise: library name.
        sets: sets recorded; sets_complete: of those, the ones that reached their target.
        reps: counted repetitions; partials: partial repetitions.
        holds: holds; hold_s: their total time, s.
        quality: mean repetition quality 0–100 (NaN without counted reps).
        set_holds: per set, the time held (s) of each full-range rep or each hold, from the
            ``rep``/``hold`` events: adherence judges these against the program's prescription
            (the run's own flags may have asked for less). Empty for sets without events.
    """

    day: dt.date
    exercise: str
    sets: int
    sets_complete: int
    reps: int
    partials: int
    holds: int
    hold_s: float
    quality: float
    set_holds: tuple[tuple[float, ...], ...] = ()


def _num(value: object, default: float = 0.0) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def exercise_days(sessions: Sequence[SessionEvents]) -> list[ExerciseDay]:
    """Per day and exercise, from ``exercise_set`` events (sorted by day, then name)."""
    acc: dict[tuple[dt.date, str], list[float]] = {}
    quality: dict[tuple[dt.date, str], list[float]] = {}
    held: dict[tuple[dt.date, str], list[tuple[float, ...]]] = {}
    for session in sessions:
        if not session.source.startswith("exercise:"):
            continue
        name = session.source.partition(":")[2]
        key = (session.started_at.astimezone().date(), name)
        per_set: dict[int, list[float]] = {}
        for event in session.events:
            d = event.data
            if event.kind in ("rep", "hold") and not d.get("partial"):
                per_set.setdefault(int(_num(d.get("set"))), []).append(_num(d.get("hold_s")))
        for event in session.events:
            if event.kind != "exercise_set":
                continue
            d = event.data
            row = acc.setdefault(key, [0.0] * 6)  # a session without sets is no day's work
            row[0] += 1
            row[1] += 1 if d.get("complete") else 0
            held.setdefault(key, []).append(tuple(per_set.get(int(_num(d.get("set"))), [])))
            row[2] += _num(d.get("reps"))
            row[3] += _num(d.get("partials"))
            row[4] += _num(d.get("holds"))
            row[5] += _num(d.get("hold_s_total"))
            q = _num(d.get("mean_quality"), math.nan)
            if math.isfinite(q) and _num(d.get("reps")) > 0:
                quality.setdefault(key, []).extend([q] * int(_num(d.get("reps"))))
    out = []
    for (day, name), r in sorted(acc.items()):
        qs = quality.get((day, name), [])
        out.append(
            ExerciseDay(
                day,
                name,
                int(r[0]),
                int(r[1]),
                int(r[2]),
                int(r[3]),
                int(r[4]),
                r[5],
                sum(qs) / len(qs) if qs else math.nan,
                tuple(held.get((day, name), [])),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class RomPoint:
    """One stored ROM result: date, value (degrees or seconds), unit and norm (or None)."""

    day: dt.date
    test: str
    value: float
    unit: str
    norm: float | None


def rom_trends(sessions: Sequence[SessionEvents]) -> dict[str, list[RomPoint]]:
    """ROM and clinical-test results by test, oldest first (NaN results left out)."""
    out: dict[str, list[RomPoint]] = {}
    for session in sorted(sessions, key=lambda s: s.started_at):
        if session.source != "rom":
            continue
        day = session.started_at.astimezone().date()
        for event in session.events:
            if event.kind != "rom":
                continue
            d = event.data
            value = _num(d.get("value"), math.nan)
            if not math.isfinite(value):
                continue
            norm = d.get("norm")
            out.setdefault(str(d.get("test")), []).append(
                RomPoint(
                    day,
                    str(d.get("test")),
                    value,
                    str(d.get("unit", "")),
                    None if norm is None else _num(norm, math.nan),
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class PainPoint:
    """Pain (NRS 0–10) given before and after one exercise session; None when skipped."""

    started_at: dt.datetime
    exercise: str
    before: int | None
    after: int | None

    @property
    def change(self) -> int | None:
        """after − before (negative: less pain after), None unless both were given."""
        return None if self.before is None or self.after is None else self.after - self.before


def _nrs(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10:
        return value
    return None


def pain_points(sessions: Sequence[SessionEvents]) -> list[PainPoint]:
    """Exercise sessions with a pain rating, oldest first (``pain`` events, see records)."""
    out = []
    for session in sorted(sessions, key=lambda s: s.started_at):
        if not session.source.startswith("exercise:"):
            continue
        given: dict[str, int | None] = {"before": None, "after": None}
        for event in session.events:
            when = event.data.get("when")
            if event.kind == "pain" and isinstance(when, str) and when in given:
                given[when] = _nrs(event.data.get("nrs"))
        if given["before"] is None and given["after"] is None:
            continue
        name = session.source.partition(":")[2]
        out.append(PainPoint(session.started_at, name, given["before"], given["after"]))
    return out


def result_heading(result: CoachResult) -> str:
    """The first line of a finished exercise's summary: "bridge: 2 of 3 set(s)"."""
    return f"{result.exercise}: {len(result.sets)} of {result.prescribed_sets} set(s)"


def set_lines(result: CoachResult) -> list[str]:
    """Per set, what counts under the prescription (held as prescribed) and what else was
    done, as the CLI prints it and the dashboard shows it."""
    held = f" of {result.hold_s:.0f} s" if result.hold_s >= 1.0 else ""
    out = []
    for s in result.sets:
        if result.kind == "hold":
            times = ", ".join(f"{h.hold_s:.0f}" for h in s.holds) or "none"
            out.append(f"set {s.index + 1}: {s.done}/{s.target} holds{held} (held {times} s)")
        else:
            q = s.mean_quality
            short = f", {s.short_reps} held too briefly" if s.short_reps else ""
            out.append(
                f"set {s.index + 1}: {s.done}/{s.target} reps{held}{short}, "
                f"{s.partial_reps} partial" + ("" if math.isnan(q) else f", quality {q:.0f}/100")
            )
    return out
