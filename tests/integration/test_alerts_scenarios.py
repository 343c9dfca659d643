"""Simulator scenarios with ground truth → calibration → live analysis → posture → alerts.

Each prolonged slouch is alerted once, at true onset + hold (±2 s); brief slouches, bends,
walking and leaning back raise nothing; the offline contract (``posture analyze --alerts``)
writes what the live engine raises.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from device_sim.generate import Generated, generate
from host.alerts import Alert, AlertConfig, AlertPolicy, evaluate_recording
from host.analysis import Analysis, analyze
from host.cli import main
from host.commands.calibrate import calibration_from_windows
from host.csvio import write_csv
from host.posture import Activity, PostureTracker

SIMPLE = AlertConfig.simple(20.0, 30.0)


@cache
def recording(
    scenario: str, seed: int, minutes: float, gyro: bool = True
) -> tuple[Generated, Analysis]:
    g = generate(scenario, seed=seed, minutes=minutes, gyro=gyro, random_mount=True)
    calibration = calibration_from_windows(g.samples, "2:8", "12:16", device=f"sim-{seed}")
    return g, analyze(g.samples, calibration)


def due_times(g: Generated, threshold: float = 20.0, hold: float = 30.0) -> list[float]:
    """true onset + hold of every designed slouch still above the threshold at that time."""
    t, f = g.truth.t_s, g.truth.flexion_deg
    out = []
    for ep in g.meta["slouch_episodes"]:
        above = np.flatnonzero((t >= ep["start_s"]) & (t <= ep["end_s"]) & (f > threshold))
        if above.size and t[above[-1]] >= t[above[0]] + hold:
            out.append(float(t[above[0]]) + hold)
    return out


def assert_matches(alerts: list[Alert], due: list[float], tol_s: float = 2.0) -> None:
    times = sorted(a.t_s for a in alerts)
    assert len(times) == len(due), (times, due)
    for t, d in zip(times, sorted(due), strict=True):
        assert abs(t - d) <= tol_s, (t, d)


@pytest.mark.parametrize("gyro", [True, False])
def test_each_prolonged_slouch_alerted_once_at_the_right_time(gyro: bool) -> None:
    g, analysis = recording("slouching", 3, 20.0, gyro)
    due = due_times(g)
    brief = len(g.meta["slouch_episodes"]) - len(due)
    assert len(due) >= 3
    assert brief >= 1  # the scenario also has brief slouches, which must stay silent
    alerts = evaluate_recording(g.samples, analysis, SIMPLE)
    assert {a.kind for a in alerts} == {"slouch"}
    assert_matches(alerts, due)


def test_default_policy_on_slouching_waits_two_minutes_and_explains() -> None:
    g, analysis = recording("slouching", 3, 20.0)
    alerts = evaluate_recording(g.samples, analysis, AlertConfig(stillness_s=None, sitting_s=None))
    assert alerts
    for a in alerts:
        assert a.t_s - a.start_s == pytest.approx(120.0, abs=0.05)
        assert "15°" in a.reason
        assert "2 min" in a.reason
    gaps = np.diff([a.t_s for a in alerts])
    assert (gaps >= 600.0).all()  # minimum gap


@pytest.mark.parametrize(
    ("scenario", "minutes"), [("walking", 10.0), ("leaning_back", 10.0), ("pick_up", 5.0)]
)
def test_no_alerts_for_walking_leaning_back_or_bends(scenario: str, minutes: float) -> None:
    g, analysis = recording(scenario, 5, minutes)
    assert evaluate_recording(g.samples, analysis, SIMPLE) == []
    assert evaluate_recording(g.samples, analysis, AlertConfig.simple(15.0, 10.0)) == []


def test_activity_matches_the_simulated_wearer() -> None:
    g, analysis = recording("desk_day", 8, 90.0)
    posture = PostureTracker().update(g.samples, analysis)
    names = g.truth.activity_names()
    act = posture.activity
    for label, expected, minimum in [
        ("sitting", Activity.SITTING, 0.97),
        ("walking", Activity.WALKING, 0.85),
        ("standing", Activity.STANDING, 0.75),
    ]:
        mask = names == label
        assert mask.sum() > 500, label
        share = float((act[mask] == expected).mean())
        assert share >= minimum, (label, share)


@pytest.mark.parametrize("seed", [21, 22])
def test_desk_day_random_mount_gyro_less(seed: int) -> None:
    g, analysis = recording("desk_day", seed, 60.0, False)
    assert_matches(evaluate_recording(g.samples, analysis, SIMPLE), due_times(g))


@pytest.mark.slow
def test_live_sized_chunks_give_the_same_alerts_and_fast_path_is_exact() -> None:
    g, analysis = recording("desk_day", 8, 90.0)
    config = AlertConfig(stillness_s=900.0)
    whole = evaluate_recording(g.samples, analysis, config)
    assert whole
    assert evaluate_recording(g.samples, analysis, config, chunk=997) == whole
    # live-like: random block sizes, down to single samples
    rng = np.random.default_rng(0)
    tracker, policy = PostureTracker(), AlertPolicy(config)
    chunked: list[Alert] = []
    i = 0
    while i < len(g.samples):
        j = min(len(g.samples), i + int(rng.choice([1, 5, 20, 400])))
        chunked += policy.update(tracker.update(g.samples.slice(i, j), _cut(analysis, i, j)))
        i = j
    assert chunked == whole
    posture = PostureTracker().update(g.samples, analysis)
    stepping = AlertPolicy(config)
    stepping._fast = False
    assert stepping.update(posture) == whole


def _cut(a: Analysis, i: int, j: int) -> Analysis:
    o = a.orientation
    return Analysis(
        type(o)(o.t_s[i:j], o.up_sensor[i:j], o.confidence[i:j], o.rest[i:j]),
        a.flexion_deg[i:j],
        a.lateral_deg[i:j],
    )


def test_offline_contract_through_the_cli(tmp_path: Path) -> None:
    g, _ = recording("slouching", 3, 20.0)
    data = tmp_path / "slouching.csv"
    write_csv(data, g.samples)
    out = tmp_path / "angles.csv"
    alerts_path = tmp_path / "alerts.json"
    argv = [
        "analyze",
        str(data),
        "-o",
        str(out),
        "--neutral",
        "2:8",
        "--forward",
        "12:16",
        "--alerts",
        str(alerts_path),
        "--threshold",
        "20",
        "--hold",
        "30",
    ]
    assert main(argv) == 0
    written = json.loads(alerts_path.read_text())
    assert written
    for item in written:
        assert {"t", "kind", "start", "peak_deg"} <= item.keys()
    assert_matches(
        [Alert(x["t"], x["kind"], x["start"], x["peak_deg"], x["reason"]) for x in written],
        due_times(g),
    )
    assert (alerts_path.stat().st_mode & 0o077) == 0  # health data: user only


def test_sit_to_stand_scenario_flips_sitting_and_standing() -> None:
    g, analysis = recording("sit_to_stand", 6, 3.0)
    posture = PostureTracker().update(g.samples, analysis)
    names = g.truth.activity_names()
    act = posture.activity
    steady = (names == "sitting") | (names == "standing")
    expected = np.where(names[steady] == "sitting", Activity.SITTING, Activity.STANDING)
    agree = float((act[steady] == expected).mean())
    assert agree >= 0.9, agree
    flips = np.count_nonzero(np.diff(act[np.isin(act, [Activity.SITTING, Activity.STANDING])]))
    truth_flips = np.count_nonzero(np.diff(g.truth.activity[steady]))
    assert truth_flips >= 4
    assert flips == truth_flips
