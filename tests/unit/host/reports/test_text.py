"""``posture stats`` text: plurals, what the valid share is a share of, aligned rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from host.recording.summary import summarize_seconds
from host.recording.synthetic import SITTING, Segment, synthesize
from host.reports.metrics import SessionData, compute
from host.reports.text import format_stats

TZ = timezone(timedelta(hours=1))


def test_one_gap_one_session_and_valid_share_of_recorded_time() -> None:
    _, posture = synthesize([Segment(600, SITTING, 10), Segment(600, SITTING, 30)], rate_hz=5.0)
    s = summarize_seconds(posture)
    s = s.select((s.sec < 100) | (s.sec >= 1000))  # a 900 s gap: 300 s recorded over 1200 s
    text = format_stats(compute([SessionData(1, datetime(2026, 11, 2, 9, tzinfo=TZ), s)]))
    assert text.startswith("== 1 session, 1 day ==")
    assert "1 gap," in text
    assert "1 gaps" not in text
    assert "5 min 00 s recorded over 20 min 00 s" in text
    assert "100.0 % of the recorded time" in text  # not 25 % of the span
    lines = text.splitlines()
    labels = [ln for ln in lines if ln.startswith(("wear time", "sustained", "flexion  "))]
    assert len({len(ln) - len(ln[17:].lstrip()) for ln in labels}) == 1  # values in one column
    head = next(i for i, ln in enumerate(lines) if ln.startswith("day "))
    row = lines[head + 1]
    for word in ("wear", "valid", "episodes", "alerts"):  # right-aligned over their values
        end = lines[head].index(word) + len(word)
        assert row[end - 1] != " ", (word, lines[head], row)
        assert end == len(row) or row[end] == " "
