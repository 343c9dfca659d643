"""The therapist report's exercise section: prescribed vs done, reps and holds, quality, ROM
trends (pure; text and HTML fragments for ``host/reports``).

:func:`exercise_section` gathers the numbers from stored sessions (as
:class:`~host.exercise.summary.SessionEvents`) and the program (optional: without one, only
what was done is reported); :func:`format_text` and :func:`format_html` render them.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from host.exercise.adherence import WeekAdherence, weekly
from host.exercise.program import Program
from host.exercise.rom import NORM_NOTE
from host.exercise.summary import (
    ExerciseDay,
    PainPoint,
    RomPoint,
    SessionEvents,
    exercise_days,
    pain_points,
    rom_trends,
)

__all__ = [
    "ExerciseRow",
    "ExerciseSection",
    "exercise_section",
    "format_html",
    "format_text",
    "pain_trend",
]


@dataclass(frozen=True, slots=True)
class ExerciseRow:
    """One exercise over the report period.

    Attributes:
        exercise: library name.
        prescribed: "2 x 10, 5 d/wk" (empty without a program).
        days_done: days with all prescribed sets complete (or with any set without a program).
        days_prescribed: prescribed days in the period (None without a program).
        sets, reps, partials, holds: totals; hold_s: total hold time, s.
        quality: mean rep quality 0–100 (NaN without counted reps).
    """

    exercise: str
    prescribed: str
    days_done: int
    days_prescribed: int | None
    sets: int
    reps: int
    partials: int
    holds: int
    hold_s: float
    quality: float


@dataclass(frozen=True, slots=True)
class ExerciseSection:
    """Everything the report shows about home exercise and clinical tests."""

    first: dt.date
    last: dt.date
    program_title: str
    rows: tuple[ExerciseRow, ...]
    weeks: tuple[WeekAdherence, ...]
    rom: dict[str, list[RomPoint]]
    pain: tuple[PainPoint, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.rows and not self.rom and not self.pain


def exercise_section(
    sessions: Sequence[SessionEvents], program: Program | None, first: dt.date, last: dt.date
) -> ExerciseSection:
    """The exercise section for ``first``…``last`` (local dates, inclusive)."""
    days = [d for d in exercise_days(sessions) if first <= d.day <= last]
    names = [p.name for p in program.exercises] if program else []
    names += sorted({d.exercise for d in days} - set(names))
    n_days = (last - first).days + 1
    rows = []
    for name in names:
        mine = [d for d in days if d.exercise == name]
        p = program.prescription(name) if program else None
        done = sum(1 for d in mine if (d.sets_complete >= p.sets if p else d.sets > 0))
        q = [d.quality for d in mine if math.isfinite(d.quality)]
        rows.append(
            ExerciseRow(
                name,
                "" if p is None else f"{p.sets} x {p.reps}, {p.days_per_week} d/wk",
                done,
                None if p is None else round(p.days_per_week * n_days / 7.0),
                sum(d.sets for d in mine),
                sum(d.reps for d in mine),
                sum(d.partials for d in mine),
                sum(d.holds for d in mine),
                sum(d.hold_s for d in mine),
                _weighted_quality(mine) if q else math.nan,
            )
        )
    weeks = tuple(weekly(program, days, first, last)) if program else ()
    rom = {
        test: [p for p in points if first <= p.day <= last]
        for test, points in rom_trends(sessions).items()
    }
    pain = tuple(
        p for p in pain_points(sessions) if first <= p.started_at.astimezone().date() <= last
    )
    return ExerciseSection(
        first,
        last,
        program.title if program else "",
        tuple(rows),
        weeks,
        {k: v for k, v in rom.items() if v},
        pain,
    )


def _mean(values: Sequence[int]) -> float:
    return sum(values) / len(values)


def pain_trend(points: Sequence[PainPoint]) -> str:
    """Pain over the period in words: the mean rating before (and after) exercise in the first
    and the second half of the rated sessions, and the mean change after exercising.

    "" with fewer than one rating; a single session is reported as it is.
    """
    parts = []
    for when in ("before", "after"):
        values = [v for p in points if (v := getattr(p, when)) is not None]
        if not values:
            continue
        if len(values) == 1:
            parts.append(f"{when} {values[0]}")
            continue
        half = len(values) // 2
        early, late = _mean(values[:half]), _mean(values[half:])
        parts.append(f"{when} {early:.1f} → {late:.1f}")
    changes = [c for p in points if (c := p.change) is not None]
    if changes:
        parts.append(f"mean change after exercise {_mean(changes):+.1f}")
    return "; ".join(parts)


def _pain_row(p: PainPoint) -> tuple[str, str, str, str, str]:
    def nrs(v: int | None) -> str:
        return "-" if v is None else str(v)

    change = "-" if p.change is None else f"{p.change:+d}"
    day = p.started_at.astimezone().strftime("%d %b %H:%M")
    return day, p.exercise, nrs(p.before), nrs(p.after), change


def _weighted_quality(days: Sequence[ExerciseDay]) -> float:
    total = sum(d.reps for d in days if math.isfinite(d.quality))
    if total == 0:
        return math.nan
    return sum(d.quality * d.reps for d in days if math.isfinite(d.quality)) / total


def _value(p: RomPoint) -> str:
    return f"{p.value:.1f}{'°' if p.unit == 'deg' else ' s'}"


def _trend(points: list[RomPoint]) -> str:
    return " → ".join(f"{p.day.strftime('%d %b')} {_value(p)}" for p in points)


def format_text(section: ExerciseSection) -> str:
    """Plain-text section (terminal, CSV-minded readers)."""
    lines = [f"Home exercise {section.first.isoformat()} to {section.last.isoformat()}"]
    if section.program_title:
        lines[0] += f" (program: {section.program_title})"
    for r in section.rows:
        days = (
            f"{r.days_done}/{r.days_prescribed} days"
            if r.days_prescribed
            else f"{r.days_done} days"
        )
        work = f"{r.holds} holds, {r.hold_s:.0f} s" if r.holds else f"{r.reps} reps"
        q = "" if math.isnan(r.quality) else f", quality {r.quality:.0f}/100"
        lines.append(
            f"  {r.exercise:20} {r.prescribed:22} {days:12} {r.sets} sets, {work}, "
            f"{r.partials} partial{q}"
        )
    for w in section.weeks:
        lines.append(f"  week of {w.monday.isoformat()}: adherence {100 * w.fraction:.0f} %")
    if section.pain:
        lines.append("Pain (0-10) before and after exercise: " + pain_trend(section.pain))
        for p in section.pain:
            day, name, before, after, change = _pain_row(p)
            lines.append(f"  {day:14} {name:20} {before:>2} → {after:>2}  ({change})")
    if section.rom:
        lines.append("Range of motion and tests (" + NORM_NOTE + ")")
        for test, points in section.rom.items():
            norm = points[-1].norm
            lines.append(
                f"  {test:14} {_trend(points)}" + (f"  (norm {norm:.0f}°)" if norm else "")
            )
    return "\n".join(lines)


def format_html(section: ExerciseSection) -> str:
    """HTML fragment (two tables) for the PDF/HTML report; empty string when nothing to show."""
    if section.empty:
        return ""
    e = html.escape
    out = ["<h2>Home exercise</h2>"]
    if section.program_title:
        out.append(f"<p>Program: {e(section.program_title)}</p>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("exercise", "prescribed", "days done", "sets", "reps", "partial", "holds",
                  "quality")
    )  # fmt: skip
    body = []
    for r in section.rows:
        days = f"{r.days_done}/{r.days_prescribed}" if r.days_prescribed else str(r.days_done)
        holds = f"{r.holds} ({r.hold_s:.0f} s)" if r.holds else "-"
        q = "-" if math.isnan(r.quality) else f"{r.quality:.0f}"
        cells = (r.exercise, r.prescribed or "-", days, r.sets, r.reps, r.partials, holds, q)
        body.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
    out.append(f"<table><tr>{head}</tr>{''.join(body)}</table>")
    if section.weeks:
        weeks = ", ".join(
            f"{w.monday.strftime('%d %b')}: {100 * w.fraction:.0f} %" for w in section.weeks
        )
        out.append(f"<p>Weekly adherence: {e(weeks)}</p>")
    if section.pain:
        rows = "".join(
            "<tr>" + "".join(f"<td>{e(c)}</td>" for c in _pain_row(p)) + "</tr>"
            for p in section.pain
        )
        out.append(
            "<h3>Pain before and after exercise (0-10)</h3><table><tr><th>session</th>"
            "<th>exercise</th><th>before</th><th>after</th><th>change</th></tr>"
            f"{rows}</table><p>Trend: {e(pain_trend(section.pain))}</p>"
        )
    if section.rom:
        rows = "".join(
            f"<tr><td>{e(t)}</td><td>{e(_trend(p))}</td>"
            f"<td>{'-' if p[-1].norm is None else f'{p[-1].norm:.0f}°'}</td></tr>"
            for t, p in section.rom.items()
        )
        out.append(
            "<h3>Range of motion and tests</h3><table><tr><th>test</th><th>trend</th>"
            f"<th>age norm</th></tr>{rows}</table><p><small>{e(NORM_NOTE)}</small></p>"
        )
    return "\n".join(out)
