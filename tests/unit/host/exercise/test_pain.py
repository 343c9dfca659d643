"""Pain before/after exercise (NRS 0–10): validation, reading back, trend for the report."""

from __future__ import annotations

import datetime as dt

import pytest

from host.errors import ConfigError
from host.exercise.records import check_pain
from host.exercise.report import exercise_section, format_html, format_text, pain_trend
from host.exercise.summary import PainPoint, SessionEvents, pain_points
from host.recording.store import StoredEvent

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _session(day: int, before: int | None, after: int | None) -> SessionEvents:
    done = {"exercise": "bridge", "set": 1, "reps": 5, "complete": True, "mean_quality": 80.0}
    events = [StoredEvent(10.0, "exercise_set", done)]
    if before is not None:
        events.insert(0, StoredEvent(5.0, "pain", {"exercise": "bridge", "when": "before",
                                                   "nrs": before}))  # fmt: skip
    if after is not None:
        events.append(StoredEvent(20.0, "pain", {"exercise": "bridge", "when": "after",
                                                 "nrs": after}))  # fmt: skip
    return SessionEvents(T0 + dt.timedelta(days=day), "exercise:bridge", events)


@pytest.mark.parametrize("bad", [-1, 11, 2.5, True, "3", None])
def test_check_pain_names_what_is_wrong(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"^--pain-after .*0 \(none\) to 10"):
        check_pain(bad, "--pain-after")


def test_check_pain_accepts_the_scale() -> None:
    assert [check_pain(v, "x") for v in (0, 10)] == [0, 10]


def test_pain_points_and_trend() -> None:
    sessions = [_session(3, 6, 4), _session(1, 7, None), _session(2, None, None),
                _session(4, 4, 3), _session(5, 3, 3)]  # fmt: skip
    points = pain_points(sessions)
    assert [(p.before, p.after) for p in points] == [(7, None), (6, 4), (4, 3), (3, 3)]
    assert [p.change for p in points] == [None, -2, -1, 0]
    # before: first half (7, 6) → second half (4, 3); after: (4) → (3, 3)
    assert (
        pain_trend(points) == "before 6.5 → 3.5; after 4.0 → 3.0; mean change after exercise -1.0"
    )
    assert pain_trend([PainPoint(T0, "bridge", 5, None)]) == "before 5"
    assert pain_trend([]) == ""


def test_report_section_shows_pain_in_the_period_only() -> None:
    sessions = [_session(0, 6, 4), _session(10, 2, 1)]
    first = T0.astimezone().date()
    section = exercise_section(sessions, None, first, first + dt.timedelta(days=3))
    assert [(p.before, p.after) for p in section.pain] == [(6, 4)]
    text = format_text(section)
    assert "Pain (0-10) before and after exercise: before 6; after 4" in text
    assert "6 →  4  (-2)" in text
    page = format_html(section)
    assert "<td>Bridge</td><td>6</td><td>4</td><td>-2</td>" in page
