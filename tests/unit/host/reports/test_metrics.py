"""Statistics on synthetic days whose answers are known by construction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from host.recording.summary import summarize_seconds
from host.recording.synthetic import SITTING, STANDING, WALKING, Segment, synthesize
from host.reports.metrics import AlertMark, SessionData, compute, maht_s

TZ = timezone(timedelta(hours=1))

# (duration s, activity, flexion deg); totals: 4340 s, 4190 sitting, 30 standing, 120 walking
DAY = [
    Segment(600, SITTING, 5.0),
    Segment(300, SITTING, 30.0),  # episode 1: 300 s at 30° (> MAHT 195 s)
    Segment(30, STANDING, 2.0),  # < 60 s: does not break the sitting bout
    Segment(1200, SITTING, 15.0),
    Segment(120, WALKING, 5.0),  # a break
    Segment(90, SITTING, 65.0),  # episode 2: > 60°, never acceptable
    Segment(2000, SITTING, 8.0),
]


def _session(
    sid: int = 1, start: datetime | None = None, alerts: tuple[AlertMark, ...] = ()
) -> SessionData:
    _, posture = synthesize(DAY, rate_hz=10.0)
    return SessionData(
        sid, start or datetime(2026, 11, 2, 9, 0, tzinfo=TZ), summarize_seconds(posture), alerts
    )


def test_known_day() -> None:
    stats = compute([_session()])
    o = stats.overall
    assert (o.span_s, o.wear_s, o.valid_s, o.gaps) == (4340, 4340, 4340, 0)
    assert o.activity_s["sitting"] == 4190
    assert o.activity_s["standing"] == 30
    assert o.activity_s["walking"] == 120
    assert o.iso_zone_s == {"<0": 0, "0-20": 3950, "20-60": 300, ">60": 90}
    assert o.zone_s["upright"] == 600 + 30 + 120 + 2000
    assert o.zone_s["mild"] == 1200
    assert o.zone_s["slouched"] == 300
    assert o.zone_s["deep"] == 90
    assert o.percentiles_deg == pytest.approx({"P10": 5.0, "P50": 8.0, "P90": 15.0})
    assert o.episodes == 2
    assert (o.episode_total_s, o.episode_longest_s, o.episodes_over_maht) == (390, 300, 2)
    assert o.sitting_bouts == 2
    assert o.bout_hist == {"<20 min": 0, "20-30 min": 0, "30-60 min": 2, ">60 min": 0}
    assert o.longest_bout_s == 2130
    assert o.breaks == 1
    assert o.shifts == 5
    assert o.shifts_per_15min == pytest.approx(5 / (4340 / 900))
    # EVA: 300 s at 20-45° in the 5-10 min class; 90 s > 60° in 1-5 min
    assert stats.eva_angle_labels == ["20-45°", "45-60°", ">60°"]
    assert stats.eva_duration_labels == ["<1 min", "1-5 min", "5-10 min", ">10 min"]
    assert o.eva_s == [[0, 0, 300, 0], [0, 0, 0, 0], [0, 90, 0, 0]]
    assert o.low_wear
    assert [e.start_s for e in stats.episodes] == [600, 2250]


def test_alert_correction() -> None:
    alerts = (AlertMark(720.0, "slouch"), AlertMark(895.0, "slouch"), AlertMark(4200.0, "sitting"))
    stats = compute([_session(alerts=alerts)])
    a, b, c = stats.alerts
    assert (a.corrected, a.time_to_correct_s) == (False, None)
    assert (b.corrected, b.time_to_correct_s) == (True, 5.0)
    assert c.corrected is False  # still sitting at 8° for the whole window
    assert stats.overall.alerts == 3
    assert stats.overall.alerts_corrected == 1
    assert stats.overall.alerts_by_kind == {"slouch": 2, "sitting": 1}


def test_days_and_weeks_split_at_local_midnight() -> None:
    late = _session(1, datetime(2026, 11, 1, 23, 0, tzinfo=TZ))  # a Sunday
    other = _session(2, datetime(2026, 11, 3, 9, 0, tzinfo=TZ))
    stats = compute([other, late])
    assert [d.label for d in stats.days] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert [d.span_s for d in stats.days] == [3600, 740, 4340]
    assert [w.label for w in stats.weeks] == ["2026-W44", "2026-W45"]
    assert stats.weeks[1].wear_s == 740 + 4340
    # run-type events belong to the day they started
    assert stats.days[0].episodes == 2
    assert stats.days[1].episodes == 0
    assert sum(d.sitting_bouts for d in stats.days) == stats.overall.sitting_bouts == 4
    assert sum(d.shifts for d in stats.days) == stats.overall.shifts == 10
    assert [s.label for s in stats.sessions] == ["session 1", "session 2"]


def test_gaps_and_invalid_seconds() -> None:
    data = _session()
    s = data.summaries
    keep = (s.sec < 1000) | (s.sec >= 1010)
    s = s.select(keep)
    s.flexion_deg[5:15] = np.nan  # no estimate for 10 s
    stats = compute([SessionData(1, data.started_at, s)])
    o = stats.overall
    assert (o.gaps, o.gap_s, o.span_s, o.wear_s, o.valid_s) == (1, 10, 4340, 4330, 4320)
    assert o.valid_fraction == pytest.approx(4320 / 4340)


def test_empty_and_json() -> None:
    stats = compute([])
    assert stats.overall.wear_s == 0
    assert stats.days == []
    text = json.dumps(compute([_session()]).to_dict())
    assert '"P50": 8.0' in text


def test_maht_line() -> None:
    assert maht_s(10) == float("inf")
    assert maht_s(20) == 240
    assert maht_s(60) == 60
    assert maht_s(40) == 150
    assert maht_s(61) == 0
