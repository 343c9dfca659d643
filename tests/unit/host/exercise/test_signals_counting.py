"""Exercise signals and counters on synthetic, exactly known motion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from device_sim.script import min_jerk
from host.exercise.counting import HoldConfig, HoldDetector, RepConfig, RepCounter, held_time
from host.exercise.signals import (
    StartPosture,
    StartWatch,
    classify_posture,
    relative_signals,
    up_from_angles,
)

RATE = 100.0


def _up_body(theta_deg: np.ndarray, phi_deg: np.ndarray) -> np.ndarray:
    th, ph = np.radians(theta_deg), np.radians(phi_deg)
    return np.stack([-np.sin(th), np.cos(th) * np.sin(ph), np.cos(th) * np.cos(ph)], axis=-1)


def test_up_from_angles_inverts_the_shared_formulas() -> None:
    rng = np.random.default_rng(1)
    up = rng.normal(size=(500, 3))
    up /= np.linalg.norm(up, axis=1)[:, None]
    flex = np.degrees(np.arcsin(-up[:, 0]))
    lat = np.degrees(np.arctan2(up[:, 1], up[:, 2]))
    assert np.allclose(up_from_angles(flex, lat), up, atol=1e-12)


@pytest.mark.parametrize("base", [0.0, 90.0, -90.0])
def test_pitch_is_continuous_through_horizontal_and_forward_positive(base: float) -> None:
    theta = base + np.linspace(-30.0, 30.0, 61)
    start = StartPosture.capture(np.zeros(1), _up_body(np.array([base]), np.zeros(1)), "standing")
    pitch = relative_signals(_up_body(theta, np.zeros_like(theta)), start)["pitch"]
    assert np.allclose(pitch, theta - base, atol=1e-9)


def test_lateral_and_tilt_relative_to_start() -> None:
    start = StartPosture.capture(np.zeros(1), _up_body(np.zeros(1), np.zeros(1)), "standing")
    sig = relative_signals(_up_body(np.zeros(3), np.array([-10.0, 0.0, 20.0])), start)
    assert np.allclose(sig["lateral"], [-10.0, 0.0, 20.0], atol=1e-9)
    assert np.allclose(sig["tilt"], [10.0, 0.0, 20.0], atol=1e-9)


def test_classify_posture() -> None:
    assert classify_posture(np.array([0.0, 0.0, 1.0])) == "standing"
    assert classify_posture(np.array([-1.0, 0.1, 0.0])) == "quadruped"
    assert classify_posture(np.array([0.95, 0.0, 0.2])) == "supine"


def _reps(amps: list[float], move_s: float, hold_s: float, pause_s: float) -> tuple:
    """Min-jerk reps (rise, hold, fall, pause) with their true hold windows."""
    t = np.arange(0.0, 2.0 + len(amps) * (2 * move_s + hold_s + pause_s) + 2.0, 1.0 / RATE)
    x = np.zeros_like(t)
    t0 = 2.0
    holds = []
    for a in amps:
        x += a * min_jerk((t - t0) / move_s) - a * min_jerk((t - t0 - move_s - hold_s) / move_s)
        holds.append((t0 + move_s, t0 + move_s + hold_s))
        t0 += 2 * move_s + hold_s + pause_s
    return t, x, holds


def test_counts_full_and_partial_reps_and_times_holds() -> None:
    amps = [20.0, 21.0, 8.0, 19.0, 14.0, 20.0]  # 8° = 40 %: partial; 14° = 70 %: counted
    t, x, holds = _reps(amps, 1.5, 2.0, 1.0)
    counter = RepCounter(RepConfig(20.0), direction=1.0)
    found = counter.update(t, x)
    assert counter.count == 5
    assert counter.partials == 1
    assert [r.partial for r in found] == [False, False, True, False, False, False]
    for rep, a, (h0, h1) in zip(found, amps, holds, strict=True):
        assert rep.peak_deg == pytest.approx(a, abs=0.3)
        assert rep.hold_s == pytest.approx(h1 - h0, abs=0.1)


def test_direction_and_chunking_do_not_change_the_count() -> None:
    t, x, _ = _reps([15.0] * 7, 1.0, 0.5, 0.5)
    whole = RepCounter(RepConfig(15.0), direction=-1.0)
    whole.update(t, -x)
    chunked = RepCounter(RepConfig(15.0), direction=-1.0)
    for i in range(0, t.size, 7):
        chunked.update(t[i : i + 7], -x[i : i + 7])
    assert whole.count == chunked.count == 7
    assert [r.peak_deg for r in whole.reps] == [r.peak_deg for r in chunked.reps]


def test_sway_and_spikes_make_no_phantom_reps() -> None:
    rng = np.random.default_rng(4)
    t = np.arange(0.0, 120.0, 1.0 / RATE)
    x = 1.2 * np.sin(2 * math.pi * 0.2 * t) + rng.normal(0, 0.3, t.size)
    x[3000:3020] += 12.0  # a 0.2 s glitch: far shorter than any rep
    counter = RepCounter(RepConfig(15.0))
    counter.update(t, x)
    assert counter.count == 0
    assert counter.partials == 0
    assert counter.rejected == 1


def test_baseline_follows_slow_drift_between_reps() -> None:
    t, x, _ = _reps([15.0] * 5, 1.5, 0.5, 6.0)
    drift = 0.05 * t  # 0.05°/s: ≈2.5° over the set
    counter = RepCounter(RepConfig(15.0))
    counter.update(t, x + drift)
    assert counter.count == 5
    assert all(r.peak_deg == pytest.approx(15.0, abs=1.0) for r in counter.reps)


def test_hold_detector_times_holds_and_ignores_brief_shifts() -> None:
    t, x, holds = _reps([6.0, 6.0, 5.0], 1.5, 10.0, 4.0)
    t2, brief, _ = _reps([6.0], 1.0, 0.5, 2.0)  # a 0.5 s shift is no hold
    t_all = np.concatenate([t, t[-1] + 0.01 + t2])
    x_all = np.concatenate([x, brief])
    detector = HoldDetector(HoldConfig(6.0))
    found = detector.update(t_all, x_all, x_all, np.zeros_like(x_all))
    assert len(found) == 3
    assert detector.too_short == 1
    for hold, (h0, h1) in zip(found, holds, strict=True):
        assert hold.hold_s == pytest.approx(h1 - h0, abs=0.1)
        assert hold.sway_ml_deg == 0.0


def test_held_time_of_a_clean_excursion() -> None:
    t, x, holds = _reps([30.0], 2.0, 3.0, 0.0)
    level, start, end = held_time(t, x)
    assert level == pytest.approx(30.0)
    assert (start, end) == pytest.approx(holds[0], abs=0.02)


def test_start_watch_needs_stillness_in_the_right_posture() -> None:
    t = np.arange(0.0, 10.0, 1.0 / RATE)
    theta = np.where(t < 5.0, 0.0, 90.0)  # upright first (wrong), then quadruped
    theta = theta + np.where((t > 6.0) & (t < 6.5), 10.0, 0.0)  # a movement at 6.0-6.5 s
    watch = StartWatch("quadruped")
    start, used = watch.update(t, _up_body(theta, np.zeros_like(t)))
    assert start is not None
    assert start.t_s == pytest.approx(8.5, abs=0.1)
    assert used == round(start.t_s * RATE) + 1
    assert watch.wrong_posture_s < 5.0


def test_leaving_the_position_is_not_a_rep() -> None:
    t, x, _ = _reps([15.0, 40.0, 15.0], 2.0, 3.0, 2.0)  # 40° = sitting back on the heels
    counter = RepCounter(RepConfig(15.0))
    counter.update(t, x)
    assert counter.count == 2
    assert counter.out_of_range == 1
