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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from host.exercise.adherence import WeekAdherence, complete_sets, weekly
from host.exercise.program import Program
from host.exercise.rom import NORM_NOTE, RESULT_TITLES
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
        title: the library's title ("Cat–camel"), else the name.
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
    title: str = ""


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


def _library_titles() -> dict[str, str]:
    from host.exercise.library import load_library

    return {name: spec.title for name, spec in load_library().items()}


def exercise_section(
    sessions: Sequence[SessionEvents],
    program: Program | None,
    first: dt.date,
    last: dt.date,
    *,
    today: dt.date | None = None,
    titles: Mapping[str, str] | None = None,
) -> ExerciseSection:
    """The exercise section for ``first``…``last`` (local dates, inclusive).

    Prescribed days count only from the program's start date to ``today`` (None: no limit);
    ``titles`` names the exercises (default: the library's titles).
    """
    titles = _library_titles() if titles is None else titles
    days = [d for d in exercise_days(sessions) if first <= d.day <= last]
    names = [p.name for p in program.exercises] if program else []
    names += sorted({d.exercise for d in days} - set(names))
    lo = max(first, program.start_date) if program and program.start_date else first
    hi = min(last, today) if today is not None else last
    n_days = max(0, (hi - lo).days + 1)
    complete = complete_sets(program, days) if program else {}
    rows = []
    for name in names:
        mine = [d for d in days if d.exercise == name]
        p = program.prescription(name) if program else None
        done = sum(
            1 for d in mine if (complete.get((d.day, name), 0) >= p.sets if p else d.sets > 0)
        )
        q = [d.quality for d in mine if math.isfinite(d.quality)]
        rows.append(
            ExerciseRow(
                name,
                ""
                if p is None
                else f"{p.sets} x {p.reps}"
                + (f", hold {p.hold_s:.0f} s" if p.hold_s >= 1.0 else "")
                + f", {p.days_per_week} d/wk",
                done,
                None if p is None else round(p.days_per_week * n_days / 7.0),
                sum(d.sets for d in mine),
                sum(d.reps for d in mine),
                sum(d.partials for d in mine),
                sum(d.holds for d in mine),
                sum(d.hold_s for d in mine),
                _weighted_quality(mine) if q else math.nan,
                titles.get(name, name),
            )
        )
    weeks = tuple(weekly(program, days, first, last, today=today)) if program else ()
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


def _pain_row(p: PainPoint, titles: Mapping[str, str]) -> tuple[str, str, str, str, str]:
    def nrs(v: int | None) -> str:
        return "-" if v is None else str(v)

    change = "-" if p.change is None else f"{p.change:+d}"
    day = p.started_at.astimezone().strftime("%d %b %H:%M")
    return day, titles.get(p.exercise, p.exercise), nrs(p.before), nrs(p.after), change


def _weighted_quality(days: Sequence[ExerciseDay]) -> float:
    total = sum(d.reps for d in days if math.isfinite(d.quality))
    if total == 0:
        return math.nan
    return sum(d.quality * d.reps for d in days if math.isfinite(d.quality)) / total


def _value(p: RomPoint) -> str:
    return f"{p.value:.1f}{'°' if p.unit == 'deg' else ' s'}"


def _trend(points: list[RomPoint]) -> str:
    return " → ".join(f"{p.day.strftime('%d %b')} {_value(p)}" for p in points)


def rom_title(test: str) -> str:
    """A stored ROM result's name for people ("lateral bend right", "5× sit-to-stand")."""
    return RESULT_TITLES.get(test, test.replace("_", " "))


def _norm(points: list[RomPoint]) -> float | None:
    """The age norm of the latest result that had one (a later run without --age keeps it)."""
    return next((p.norm for p in reversed(points) if p.norm is not None), None)


def _titles(section: ExerciseSection) -> dict[str, str]:
    return {r.exercise: r.title or r.exercise for r in section.rows}


def format_text(section: ExerciseSection) -> str:
    """Plain-text section (terminal, CSV-minded readers)."""
    lines = [f"Home exercise {section.first.isoformat()} to {section.last.isoformat()}"]
    if section.program_title:
        lines[0] += f" (program: {section.program_title})"
    titles = _titles(section)
    for r in section.rows:
        days = (
            f"{r.days_done}/{r.days_prescribed} days"
            if r.days_prescribed
            else f"{r.days_done} day" + ("" if r.days_done == 1 else "s")
        )
        work = f"{r.holds} holds, {r.hold_s:.0f} s" if r.holds else f"{r.reps} reps"
        q = "" if math.isnan(r.quality) else f", quality {r.quality:.0f}/100"
        lines.append(
            f"  {r.title or r.exercise:20} "
            + (f"{r.prescribed:22} " if section.program_title else "")
            + f"{days:12} {r.sets} set{'' if r.sets == 1 else 's'}, {work}, "
            f"{r.partials} partial{q}"
        )
    for w in section.weeks:
        lines.append(f"  week of {w.monday.isoformat()}: adherence {100 * w.fraction:.0f} %")
    if section.pain:
        lines.append("Pain (0-10) before and after exercise: " + pain_trend(section.pain))
        for p in section.pain:
            day, name, before, after, change = _pain_row(p, titles)
            lines.append(f"  {day:14} {name:20} {before:>2} → {after:>2}  ({change})")
    if section.rom:
        lines.append("Range of motion and tests (" + NORM_NOTE + ")")
        for test, points in section.rom.items():
            norm = _norm(points)
            lines.append(
                f"  {rom_title(test):20} {_trend(points)}"
                + (f"  (age norm {norm:.0f}°)" if norm else "")
            )
    return "\n".join(lines)


_TABLE = '<table border="0.5" cellspacing="0" cellpadding="3" width="100%">'


def _html_table(header: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> str:
    """A table styled like the report's others; ``header`` is (title, width %) per column."""
    e = html.escape
    head = "".join(f'<th bgcolor="#eeeeee" width="{w}%">{e(h)}</th>' for h, w in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"{_TABLE}<tr>{head}</tr>{body}</table>"


def format_html(section: ExerciseSection) -> str:
    """HTML fragment for the PDF/HTML report (tables styled like the report's others, on a
    page of its own so no heading is left at the foot of a page); "" when nothing to show."""
    if section.empty:
        return ""
    e = html.escape
    titles = _titles(section)
    period = f"{section.first:%d %b %Y} – {section.last:%d %b %Y}"
    out = ['<h2 style="page-break-before: always">Home exercise</h2>']
    program = f"Program: {e(section.program_title)}; " if section.program_title else ""
    out.append(f"<p>{program}{e(period)}</p>")
    if section.rows:
        rows = []
        for r in section.rows:
            days = f"{r.days_done}/{r.days_prescribed}" if r.days_prescribed else str(r.days_done)
            holds = f"{r.holds} ({r.hold_s:.0f} s)" if r.holds else "–"
            q = "–" if math.isnan(r.quality) else f"{r.quality:.0f}"
            rows.append(
                (r.title or r.exercise, r.prescribed or "–", days, str(r.sets), str(r.reps),
                 str(r.partials), holds, q)
            )  # fmt: skip
        header = (("exercise", 22), ("prescribed", 18), ("days done", 10), ("sets", 8),
                  ("reps", 8), ("partial", 9), ("holds", 14), ("quality", 11))  # fmt: skip
        out.append(_html_table(header, rows))
    if section.weeks:
        weeks = ", ".join(
            f"{w.monday.strftime('%d %b')}: {100 * w.fraction:.0f} %" for w in section.weeks
        )
        out.append(f"<p>Weekly adherence (weeks starting): {e(weeks)}</p>")
    if section.pain:
        out.append("<h3>Pain before and after exercise (0–10)</h3>")
        pain_header = (("session", 22), ("exercise", 30), ("before", 16), ("after", 16),
                  ("change", 16))  # fmt: skip
        out.append(_html_table(pain_header, [_pain_row(p, titles) for p in section.pain]))
        out.append(f"<p>Trend: {e(pain_trend(section.pain))}</p>")
    if section.rom:
        out.append("<h3>Range of motion and tests</h3>")
        rom_rows = []
        for test, points in section.rom.items():
            norm = _norm(points)
            rom_rows.append(
                (rom_title(test), _trend(points), "–" if norm is None else f"{norm:.0f}°")
            )
        out.append(_html_table((("test", 24), ("results", 60), ("age norm", 16)), rom_rows))
        out.append(f"<p><small>Age norm: {e(NORM_NOTE)}</small></p>")
    return "\n".join(out)
