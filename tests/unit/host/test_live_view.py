"""The terminal live view's plain output: wording, alert times, rate limit, no calibration."""

from __future__ import annotations

import io

import numpy as np
import pytest

import host.live_view as live_view
from host.alerts import Alert
from host.engine import LiveUpdate
from host.live_view import LiveView, alert_line, link_line, sensor_time
from host.posture import PostureBlock
from host.transports.base import LinkEvent, LinkState


@pytest.mark.parametrize(
    ("t_s", "text"),
    [(0.0, "0 s"), (59.9, "59 s"), (770.0, "12 min 50 s"), (3725.0, "1 h 02 min 05 s")],
)
def test_sensor_time_in_words(t_s: float, text: str) -> None:
    assert sensor_time(t_s) == text


def test_alert_and_link_lines() -> None:
    alert = Alert(770.0, "slouch", 650.0, 30.0, "flexion above 18° for 2 min 00 s")
    assert alert_line(alert) == (
        "ALERT slouch at 12 min 50 s (sensor time): flexion above 18° for 2 min 00 s"
    )
    event = LinkEvent(LinkState.CONNECTING, "connecting to sim:desk_day")
    assert link_line(event) == "link: connecting… (connecting to sim:desk_day)"
    assert link_line(LinkEvent(LinkState.CONNECTED, "")) == "link: connected"


def _update(t0_s: float, n: int, flexion_deg: float) -> LiveUpdate:
    t = t0_s + np.arange(n) / 50.0
    block = PostureBlock(
        t_s=t,
        flexion_deg=np.full(n, flexion_deg),
        lateral_deg=np.full(n, flexion_deg),
        zone=np.full(n, 1, dtype=np.int8),
        activity=np.zeros(n, dtype=np.int8),
        dwell_s=np.zeros(n),
        confidence=np.ones(n),
    )
    return LiveUpdate(block, None)


def test_plain_lines_are_limited_by_wall_time_not_sensor_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(live_view.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    view = LiveView("sim", out)
    for second in range(50):  # 50 s of sensor time within 0.5 s of wall time
        view.on_update(_update(float(second), 50, 10.0))
        now[0] += 0.01
    view.on_alert(Alert(49.0, "slouch", 30.0, 30.0, "test"))  # events are never held back
    view.on_link(LinkEvent(LinkState.RECONNECTING, "link lost"))
    lines = out.getvalue().splitlines()
    status = [line for line in lines if line.startswith("t=")]
    assert len(status) == 1
    assert any(line.startswith("ALERT slouch at 49 s") for line in lines)
    assert "link: reconnecting… (link lost)" in lines
    now[0] += 1.0
    view.on_update(_update(50.0, 50, 10.0))
    assert len([x for x in out.getvalue().splitlines() if x.startswith("t=")]) == 2


def test_without_calibration_says_so_instead_of_n_a() -> None:
    out = io.StringIO()
    view = LiveView("sim", out)
    view.on_update(_update(0.0, 10, float("nan")))
    text = out.getvalue()
    assert "not calibrated: angles not shown" in text
    assert "n/a" not in text
