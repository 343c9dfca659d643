"""Unit tests for host.posture on synthetic IMU streams with known motion."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from host.analysis import Analysis
from host.errors import ConfigError
from host.fusion.base import OrientationBlock
from host.posture import Activity, PostureBlock, PostureConfig, PostureTracker, Zone, zone_of
from host.samples import SampleBlock

RATE_HZ = 100.0
G = 9.80665
FloatArray = npt.NDArray[np.float64]


def synth(
    flexion_deg: FloatArray,
    *,
    vertical_m_s2: FloatArray | None = None,
    t0: float = 0.0,
    noise_m_s2: float = 0.0,
    seed: int = 0,
) -> tuple[SampleBlock, Analysis]:
    """A sensor aligned with the body frame: up = (−sin θ, 0, cos θ); accel = up·(g + a_z)."""
    n = flexion_deg.shape[0]
    t = t0 + np.arange(n) / RATE_HZ
    th = np.radians(flexion_deg)
    up = np.stack([-np.sin(th), np.zeros(n), np.cos(th)], axis=1)
    az = np.zeros(n) if vertical_m_s2 is None else vertical_m_s2
    accel = up * (G + az)[:, None]
    if noise_m_s2:
        accel = accel + np.random.default_rng(seed).normal(0.0, noise_m_s2, accel.shape)
    samples = SampleBlock(t, accel, np.zeros((n, 3)))
    orientation = OrientationBlock(t, up, np.ones(n), np.zeros(n, bool))
    return samples, Analysis(orientation, flexion_deg.astype(np.float64), np.zeros(n))


def smooth_step(n: int) -> FloatArray:
    x = np.linspace(0.0, 1.0, n)
    return x * x * (3.0 - 2.0 * x)


def rise(height_m: float, duration_s: float) -> FloatArray:
    """Vertical acceleration of a minimum-jerk rise of ``height_m`` over ``duration_s``."""
    n = round(duration_s * RATE_HZ)
    x = np.linspace(0.0, 1.0, n)
    # z = h (10x³ − 15x⁴ + 6x⁵) → z'' = h (60x − 180x² + 120x³) / T²
    return height_m * (60 * x - 180 * x**2 + 120 * x**3) / duration_s**2


def track(
    samples: SampleBlock, analysis: Analysis, config: PostureConfig | None = None
) -> PostureBlock:
    return PostureTracker(config or PostureConfig()).update(samples, analysis)


# ---------------------------------------------------------------------- zones and dwell


def test_zone_boundaries() -> None:
    cfg = PostureConfig()
    f = np.array([-30, -10.0, -9.9, 0, 10, 10.1, 20, 20.1, 60, 60.1, 90, np.nan])
    expected = [0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 9]
    assert zone_of(f, cfg).tolist() == expected


def test_zone_hysteresis_stops_flicker_at_a_boundary() -> None:
    rng = np.random.default_rng(1)
    f = np.r_[np.zeros(200), 10.0 + rng.normal(0, 0.5, 2000), np.full(200, 25.0)]
    s, a = synth(f)
    p = track(s, a)
    assert set(p.zone[200:2200].tolist()) == {Zone.UPRIGHT}
    assert p.zone[-1] == Zone.SLOUCHED
    assert p.dwell_s[2199] == pytest.approx(21.99)  # never reset by noise


def test_dwell_counts_time_in_zone_across_blocks() -> None:
    f = np.r_[np.zeros(500), np.full(700, 30.0)]
    s, a = synth(f)
    tracker = PostureTracker()
    p1 = tracker.update(s.slice(0, 800), _cut(a, 0, 800))
    p2 = tracker.update(s.slice(800, 1200), _cut(a, 800, 1200))
    assert p1.dwell_s[499] == pytest.approx(4.99)
    assert p1.dwell_s[500] == 0.0
    assert p2.dwell_s[-1] == pytest.approx(6.99)


def test_unknown_zone_for_nan_flexion() -> None:
    s, a = synth(np.zeros(300))
    a = Analysis(a.orientation, np.full(300, np.nan), np.full(300, np.nan))
    p = track(s, a)
    assert set(p.zone.tolist()) == {Zone.UNKNOWN}
    assert np.isnan(p.flexion_deg).all()


# ---------------------------------------------------------------------- activity


def _walking(seconds: float, freq_hz: float = 1.8, amp: float = 2.5) -> FloatArray:
    t = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    return amp * np.sin(2 * np.pi * freq_hz * t)


def test_walking_is_detected_and_implies_standing() -> None:
    az = np.r_[np.zeros(1000), _walking(20.0), np.zeros(1500)]
    f = np.full(az.shape[0], 3.0)
    s, a = synth(f, vertical_m_s2=az, noise_m_s2=0.05)
    p = track(s, a)
    act = p.activity
    assert act[900] == Activity.SITTING
    walking = np.flatnonzero(act == Activity.WALKING)
    assert walking.size > 0.8 * 2000
    assert 10.0 <= p.t_s[walking[0]] <= 13.0  # confirmed within ~2 s of the first step
    assert act[-1] == Activity.STANDING


@pytest.mark.parametrize(("freq_hz", "amp"), [(0.5, 2.5), (1.8, 0.15), (6.0, 3.0)])
def test_not_walking_outside_the_step_band_or_too_weak(freq_hz: float, amp: float) -> None:
    az = _walking(20.0, freq_hz, amp)
    s, a = synth(np.zeros(az.shape[0]), vertical_m_s2=az)
    assert not (track(s, a).activity == Activity.WALKING).any()


def test_fast_bend_is_a_transition_and_slow_slouch_is_not() -> None:
    bend = np.r_[
        np.zeros(300),
        70 * smooth_step(100),
        np.full(200, 70.0),
        70 * smooth_step(100)[::-1],
        np.zeros(300),
    ]
    s, a = synth(bend)
    act = track(s, a).activity
    assert (act == Activity.TRANSITION).any()
    assert act[0] == Activity.SITTING
    assert act[-1] == Activity.SITTING  # no net rise: still sitting
    slouch = np.r_[np.zeros(300), 25 * smooth_step(500), np.full(500, 25.0)]
    s, a = synth(slouch)
    assert not (track(s, a).activity == Activity.TRANSITION).any()


def test_sit_to_stand_and_back() -> None:
    lean = 35 * np.sin(np.linspace(0, np.pi, 250))  # 2.5 s forward-and-back trunk motion
    lift = np.r_[np.zeros(80), rise(0.45, 1.5), np.zeros(20)]
    quiet = np.zeros(500)
    f = np.r_[quiet, lean, quiet, lean, quiet]
    az = np.r_[quiet, lift, quiet, -lift, quiet]
    s, a = synth(f, vertical_m_s2=az, noise_m_s2=0.03)
    act = track(s, a).activity
    assert act[400] == Activity.SITTING
    assert (act[500:750] == Activity.TRANSITION).any()
    assert act[1200] == Activity.STANDING
    assert act[-1] == Activity.SITTING


# ---------------------------------------------------------------------- streaming


def _cut(a: Analysis, i: int, j: int) -> Analysis:
    o = a.orientation
    return Analysis(
        OrientationBlock(o.t_s[i:j], o.up_sensor[i:j], o.confidence[i:j], o.rest[i:j]),
        a.flexion_deg[i:j],
        a.lateral_deg[i:j],
    )


def _mixed() -> tuple[SampleBlock, Analysis]:
    lean = 35 * np.sin(np.linspace(0, np.pi, 250))
    lift = np.r_[np.zeros(80), rise(0.45, 1.5), np.zeros(20)]
    rng = np.random.default_rng(7)
    f = np.r_[
        np.zeros(300), lean, np.full(300, 2.0), np.full(1500, 3.0), 22 + rng.normal(0, 2, 800)
    ]
    az = np.r_[np.zeros(300), lift, np.zeros(300), _walking(15.0), np.zeros(800)]
    return synth(f, vertical_m_s2=az, noise_m_s2=0.05)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_chunking_gives_identical_output(seed: int) -> None:
    s, a = _mixed()
    whole = track(s, a)
    tracker = PostureTracker()
    parts = []
    rng = np.random.default_rng(seed)
    i = 0
    n = len(s)
    while i < n:
        j = min(n, i + int(rng.integers(1, 60 if seed else 3)))
        parts.append(tracker.update(s.slice(i, j), _cut(a, i, j)))
        i = j
    for name in ("zone", "activity", "dwell_s", "flexion_deg", "t_s"):
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
    assert {Activity.WALKING, Activity.TRANSITION, Activity.STANDING} <= set(
        whole.activity.tolist()
    )


def test_gap_restarts_the_filters_without_false_activity() -> None:
    s, a = synth(np.full(1000, 2.0))
    t = s.t_s.copy()
    t[500:] += 120.0  # two minutes of lost samples
    s2 = SampleBlock(
        t, s.accel_m_s2 + np.r_[np.zeros((500, 3)), np.full((500, 3), 0.05)], s.gyro_rad_s
    )
    a2 = Analysis(
        OrientationBlock(t, a.orientation.up_sensor, a.orientation.confidence, a.orientation.rest),
        a.flexion_deg,
        a.lateral_deg,
    )
    p = track(s2, a2)
    assert set(p.activity.tolist()) == {Activity.SITTING}


def test_configured_rate_and_validation() -> None:
    s, a = _mixed()
    inferred = track(s, a)
    given = track(s, a, PostureConfig(rate_hz=RATE_HZ))
    assert (inferred.activity[20:] == given.activity[20:]).mean() > 0.99
    with pytest.raises(ConfigError):
        PostureConfig(upright_max_deg=25.0)
    with pytest.raises(ConfigError):
        PostureConfig(zone_hysteresis_deg=6.0)
    with pytest.raises(ConfigError):
        PostureConfig(rate_hz=4.0)
