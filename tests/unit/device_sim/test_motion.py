"""Ground-truth kinematics follow the scenario scripts (physics tests of the simulator)."""

from __future__ import annotations

import numpy as np
import pytest

from device_sim.motion import ACTIVITIES, SCENARIOS, Motion
from device_sim.scenarios import PREAMBLE_S


def _truth(scenario: str, seed: int, seconds: float, rate_hz: float = 100.0):  # type: ignore[no-untyped-def]
    motion = Motion(scenario, seed)
    t = np.arange(0.0, seconds, 1.0 / rate_hz)
    return motion, motion.evaluate(t)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_starts_with_the_calibration_preamble(scenario: str) -> None:
    _, k = _truth(scenario, seed=3, seconds=20.0)
    t = k.t_s
    still = (t >= 0) & (t < 10)
    bent = (t >= 12) & (t < 16)
    assert np.abs(k.flexion_deg[still]).max() < 1e-9
    assert np.abs(k.lateral_deg[still]).max() < 1e-9
    assert np.allclose(k.flexion_deg[bent], 35.0, atol=1e-9)
    assert np.abs(k.flexion_deg[(t >= 18) & (t < 18.01)]).max() < 1e-6
    # smooth: the bend takes its 2 s, no step anywhere
    assert np.abs(np.diff(k.flexion_deg)).max() < 35.0 / 2.0 * 1.9 / 100.0 + 1e-6


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_trajectories_are_smooth_and_physical(scenario: str) -> None:
    _, k = _truth(scenario, seed=1, seconds=300.0)
    rate_deg_s = np.abs(np.diff(k.flexion_deg)) * 100.0
    assert rate_deg_s.max() < 150.0  # trunk flexion velocity stays human (< 150°/s)
    accel = np.diff(k.pivot_world_m, 2, axis=0) * 100.0**2
    assert np.abs(accel).max() < 15.0  # no teleporting pivot
    assert np.all(np.isfinite(k.q_wb))
    assert np.allclose(np.linalg.norm(k.up_body, axis=1), 1.0)


def test_slouch_episodes_sit_at_their_designed_angles() -> None:
    motion, k = _truth("slouching", seed=5, seconds=20 * 60.0)
    episodes = motion.episodes(20 * 60.0)
    assert len(episodes) >= 8
    durations = [e.end_s - e.start_s for e in episodes]
    assert any(d < 22.5 for d in durations)
    assert any(d > 45 for d in durations)
    assert not any(22.5 < d < 44.5 for d in durations), "durations avoid the ambiguous band"
    for e in episodes:
        assert 22.0 <= e.design_deg <= 35.0
        inner = (k.t_s > e.start_s + 1.5) & (k.t_s < e.end_s - 1.5)
        if inner.any():
            assert k.flexion_deg[inner].min() > 20.0
            assert k.flexion_deg[inner].max() < 37.0
        assert k.slouch[(k.t_s >= e.start_s) & (k.t_s < e.end_s)].all()
    outside = ~k.slouch & (k.t_s > PREAMBLE_S + 2)
    assert k.flexion_deg[outside].max() < 38.0  # returns between episodes
    assert np.median(k.flexion_deg[outside]) < 8.0


def test_leaning_back_is_negative_flexion() -> None:
    _, k = _truth("leaning_back", seed=2, seconds=600.0)
    assert k.flexion_deg.min() < -7.0
    reclined = k.flexion_deg < -5.0
    assert 0.2 < reclined.mean() < 0.9
    assert not k.slouch.any()


def test_pick_up_bends_deep_and_briefly() -> None:
    _, k = _truth("pick_up", seed=4, seconds=300.0)
    bending = k.activity == ACTIVITIES.index("bending")
    deep = k.flexion_deg > 55.0
    assert 60.0 <= k.flexion_deg.max() <= 92.0
    assert np.all(bending[deep])  # every deep bend is labelled bending
    edges = np.diff(deep.astype(int))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths_s = (stops[: len(starts)] - starts[: len(stops)]) / 100.0
    assert len(lengths_s) >= 5
    assert lengths_s.max() < 6.0


def test_walking_bounces_at_step_frequency() -> None:
    _, k = _truth("walking", seed=6, seconds=600.0)
    walking = k.activity == ACTIVITIES.index("walking")
    assert walking.mean() > 0.5
    z = k.pivot_world_m[:, 2]
    idx = np.flatnonzero(walking)
    run = idx[(idx > idx[0] + 200)][:4096]
    spectrum = np.abs(np.fft.rfft(z[run] - z[run].mean()))
    freqs = np.fft.rfftfreq(run.size, 0.01)
    assert 1.6 < freqs[np.argmax(spectrum)] < 2.0
    vertical_accel = np.diff(z[run], 2) * 1e4
    assert 1.5 < np.abs(vertical_accel).max() < 4.0  # ≈ ±2.5 m/s² (fusion notes §5)


def test_sit_to_stand_rises_and_flexes_forward() -> None:
    _, k = _truth("sit_to_stand", seed=8, seconds=300.0)
    z = k.pivot_world_m[:, 2]
    assert z.min() == pytest.approx(0.5, abs=0.01)
    assert z.max() == pytest.approx(0.92, abs=0.01)
    transition = k.activity == ACTIVITIES.index("transition")
    assert transition.any()
    assert k.flexion_deg[transition].max() > 28.0


def test_same_seed_same_motion_and_lazy_extension_is_consistent() -> None:
    a, b = Motion("desk_day", 11), Motion("desk_day", 11)
    t = np.arange(0.0, 3600.0, 0.37)
    whole = a.evaluate(t)
    parts = [b.evaluate(t[i : i + 1000]) for i in range(0, t.size, 1000)]
    assert np.array_equal(whole.flexion_deg, np.concatenate([p.flexion_deg for p in parts]))
    assert np.array_equal(whole.activity, np.concatenate([p.activity for p in parts]))
    other = Motion("desk_day", 12).evaluate(t)
    assert not np.array_equal(whole.flexion_deg, other.flexion_deg)


def test_desk_day_is_a_plausible_office_day() -> None:
    motion = Motion("desk_day", 0)
    t = np.arange(0.0, 8 * 3600.0, 1.0)
    k = motion.evaluate(t)
    share = {name: float(np.mean(k.activity == i)) for i, name in enumerate(ACTIVITIES)}
    assert 0.75 < share["sitting"] < 0.97
    assert 0.01 < share["walking"] < 0.15
    assert share["transition"] > 0
    assert share["bending"] > 0
    episodes = motion.episodes(8 * 3600.0)
    long_ones = [e for e in episodes if e.end_s - e.start_s > 30]
    brief = [e for e in episodes if e.end_s - e.start_s <= 30]
    assert 8 <= len(long_ones) <= 40  # a few per hour, not dozens
    assert len(brief) >= 5
    assert k.slouch.mean() < 0.4
    assert k.flexion_deg.min() < -5  # reclines happen
    walking_runs = np.diff(np.flatnonzero(np.diff((k.activity == 2).astype(int)) != 0))
    assert walking_runs.max() >= 120  # a lunch walk of minutes


def test_a_pose_request_interrupts_a_scenario_which_then_resumes() -> None:
    motion = Motion("desk_day", 2)
    motion.evaluate(np.array([100.0]))
    motion.request(100.0, "forward_bend")
    k = motion.evaluate(np.arange(100.0, 3600.0, 0.5))
    assert k.flexion_deg[k.t_s == 102.5][0] == pytest.approx(35.0, abs=2.5)  # sway continues
    later = k.t_s > 1000
    assert np.ptp(k.flexion_deg[later]) > 10  # the day goes on: slouches, reaches, breaks
    with pytest.raises(KeyError):
        motion.request(200.0, "somersault")


def test_postural_sway_is_broadband_with_most_power_below_one_hertz() -> None:
    """The sway is a stochastic-like 1/f-ish process, not a few smooth sinusoids: the same RMS
    per channel as before, most power below 1 Hz, but a real share above 0.5 Hz; different
    seeds give different wearers; evaluating in blocks or at scattered times gives the same
    values (random access)."""
    t = np.arange(0.0, 1800.0, 0.01)
    shares = []
    for seed in range(3):
        osc = Motion("standing", seed)._osc
        for channel, rms in (("flexion_deg", 0.5), ("lateral_deg", 0.35), ("axial_deg", 0.6)):
            x = osc.sway_deg(channel, t)
            assert float(np.std(x)) == pytest.approx(rms, rel=0.25)
            f = np.fft.rfftfreq(x.size, 0.01)
            power = np.abs(np.fft.rfft(x - x.mean())) ** 2
            shares.append((power[f < 1.0].sum() / power.sum(), power[f > 0.5].sum() / power.sum()))
    below_1hz, above_half = np.array(shares).T
    assert np.all(below_1hz > 0.8)
    assert np.all(above_half > 0.04)  # the old 4-5 sinusoids had none above 0.5 Hz
    a = Motion("standing", 0)._osc.sway_deg("flexion_deg", t[:20000])
    b = Motion("standing", 1)._osc.sway_deg("flexion_deg", t[:20000])
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.5
    osc = Motion("standing", 0)._osc
    blocks = np.concatenate([osc.sway_deg("flexion_deg", t[i : i + 7]) for i in range(0, 3000, 7)])
    assert np.array_equal(blocks[:3000], a[:3000])
    scattered = np.array([123.456, 7.0, 99.99])
    whole = osc.sway_deg("flexion_deg", np.arange(0.0, 200.0, 0.001))
    assert osc.sway_deg("flexion_deg", scattered) == pytest.approx(
        whole[np.rint(scattered * 1000).astype(int)], abs=1e-12
    )
    # smooth and exact enough for a gyroscope: the rate follows the sum of sinusoids itself
    omega, amp, phase = osc.sway["flexion_deg"]
    mid = np.arange(0.0005, 199.999, 0.001)
    exact_rate = np.cos(np.multiply.outer(mid, omega) + phase) @ (amp * omega)
    rate = np.diff(whole) / 0.001
    assert np.abs(rate - exact_rate).max() < 0.01 * np.std(exact_rate)
