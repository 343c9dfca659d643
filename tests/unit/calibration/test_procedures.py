"""Calibration fits: random mountings, stillness rejection, six-position, auto, staleness."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from calibration.model import NOMINAL_R_BS
from calibration.procedures import (
    auto_calibration,
    fit_accel_six_position,
    fit_gyro_bias,
    fit_mounting,
    is_stale,
)
from calibration.synthetic import desk_motion, random_rotation, synthesize
from host.errors import CalibrationError
from host.samples import SampleBlock

RATE_HZ = 100.0


def _window(block: SampleBlock, t0: float, t1: float) -> SampleBlock:
    idx = np.flatnonzero((block.t_s >= t0) & (block.t_s <= t1))
    return block.slice(int(idx[0]), int(idx[-1]) + 1)


def _day(seed: int, *, mount: np.ndarray | None = None, noise: bool = True, gyro: bool = True):  # type: ignore[no-untyped-def]
    t, flex, lat, head, walk, act = desk_motion(120.0, RATE_HZ, seed=seed)
    kwargs = {} if noise else {"accel_noise_m_s2": 0.0, "gyro_noise_rad_s": 0.0}
    return synthesize(
        t, flex, lat, head, r_bs=mount, walking=walk, gyro=gyro, seed=seed, activity=act, **kwargs
    )


@pytest.mark.parametrize("seed", range(8))
def test_random_mounting_is_recovered_exactly(seed: int) -> None:
    """Noise-free still windows: the fitted R_bs equals the true mounting, and the true up
    vectors map back to the true angles exactly."""
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(seed))
    rec = _day(seed, mount=mount, noise=False)
    cal = fit_mounting(_window(rec.samples, 2, 8), _window(rec.samples, 12.1, 15.9), device="x")
    np.testing.assert_allclose(cal.r_bs, mount, atol=1e-9)
    flex, lat = cal.angles(rec.up_sensor)
    np.testing.assert_allclose(flex, rec.flexion_deg, atol=1e-6)
    np.testing.assert_allclose(lat, rec.lateral_deg, atol=1e-6)
    assert cal.method == "neutral+forward"
    assert cal.forward_bend_deg == pytest.approx(35.0, abs=1e-6)
    assert cal.device == "x"


def test_noisy_capture_recovers_mounting_within_a_fraction_of_a_degree() -> None:
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(42))
    rec = _day(42, mount=mount)
    cal = fit_mounting(_window(rec.samples, 2, 8), _window(rec.samples, 12, 16))
    flex, lat = cal.angles(rec.up_sensor)
    assert np.abs(flex - rec.flexion_deg).max() < 0.3
    assert np.abs(lat - rec.lateral_deg).max() < 0.5
    assert cal.neutral_gyro_rms_deg_s is not None
    assert cal.neutral_gyro_rms_deg_s < 1.0
    assert cal.gyro_bias_rad_s is not None


def test_neutral_only_assumes_the_nominal_forward_axis() -> None:
    rec = _day(1, noise=False)  # nominal mounting
    cal = fit_mounting(_window(rec.samples, 2, 8))
    assert cal.method == "neutral"
    flex, lat = cal.angles(rec.up_sensor)
    np.testing.assert_allclose(flex, rec.flexion_deg, atol=1e-6)
    np.testing.assert_allclose(lat, rec.lateral_deg, atol=1e-6)


def test_moving_during_the_neutral_capture_is_rejected_with_the_reason() -> None:
    rec = _day(2)
    with pytest.raises(CalibrationError, match=r"you moved during the neutral capture: angular"):
        fit_mounting(_window(rec.samples, 5, 15))  # includes the bend at 10–12 s
    no_gyro = SampleBlock(rec.samples.t_s, rec.samples.accel_m_s2)
    with pytest.raises(CalibrationError, match=r"acceleration varied by \d"):
        fit_mounting(_window(no_gyro, 5, 15))


def test_moving_during_the_forward_capture_is_rejected() -> None:
    rec = _day(3)
    with pytest.raises(CalibrationError, match="forward-bend capture"):
        fit_mounting(_window(rec.samples, 2, 8), _window(rec.samples, 9, 17))


def test_too_small_a_bend_is_rejected() -> None:
    t = np.arange(0.0, 20.0, 1 / RATE_HZ)
    flex = np.radians(8.0) * (t > 10)
    rec = synthesize(t, flex, np.zeros_like(t))
    with pytest.raises(CalibrationError, match=r"bend forward further.*8\.0°"):
        fit_mounting(_window(rec.samples, 2, 8), _window(rec.samples, 12, 18))


def test_too_short_capture_is_rejected() -> None:
    rec = _day(4)
    with pytest.raises(CalibrationError, match="too short"):
        fit_mounting(_window(rec.samples, 2, 2.5))


def test_a_long_capture_with_few_samples_blames_the_rate_not_the_wearer() -> None:
    """6 samples over 5 s is not "too short: hold still for at least 1 s" but a 1 Hz rate."""
    from calibration.procedures import MIN_RATE_HZ
    from host.csvio import MIN_RATE_HZ as CSV_MIN_RATE_HZ

    rec = _day(4)
    every_second = np.arange(200, 701, 100)  # t = 2..7 s at 100 Hz
    s = rec.samples
    assert s.gyro_rad_s is not None
    slow = SampleBlock(s.t_s[every_second], s.accel_m_s2[every_second], s.gyro_rad_s[every_second])
    with pytest.raises(CalibrationError) as info:
        fit_mounting(slow)
    message = str(info.value)
    assert "only 6 samples over 5.00 s: the sample rate 1 Hz is too low (need ≥ 25 Hz)" in message
    assert "too short" not in message
    assert MIN_RATE_HZ == CSV_MIN_RATE_HZ


def test_not_gravity_is_rejected() -> None:
    n = 300
    block = SampleBlock(np.arange(n) / RATE_HZ, np.tile([1.0, 0.0, 0.0], (n, 1)))
    with pytest.raises(CalibrationError, match="does not look like gravity"):
        fit_mounting(block)


def test_gyro_bias_at_rest() -> None:
    rng = np.random.default_rng(0)
    n = 500
    bias = np.array([0.01, -0.02, 0.005])
    block = SampleBlock(
        np.arange(n) / RATE_HZ,
        np.tile([9.81, 0.0, 0.0], (n, 1)) + rng.normal(0, 0.02, (n, 3)),
        bias + rng.normal(0, 0.002, (n, 3)),
    )
    np.testing.assert_allclose(fit_gyro_bias(block), bias, atol=3e-4)
    with pytest.raises(CalibrationError, match="no gyroscope"):
        fit_gyro_bias(SampleBlock(block.t_s, block.accel_m_s2))


def test_six_position_fit_recovers_offset_and_scale() -> None:
    rng = np.random.default_rng(1)
    offset = np.array([0.3, -0.2, 0.15])
    scale = np.array([1.02, 0.98, 1.01])
    captures = []
    for axis in range(3):
        for sign in (1.0, -1.0):
            up = np.zeros(3)
            up[axis] = sign
            up = up + rng.normal(0, 0.05, 3)  # not perfectly aligned, as by hand
            up /= np.linalg.norm(up)
            n = 300
            acc = 9.80665 * up * scale + offset + rng.normal(0, 0.01, (n, 3))
            captures.append(SampleBlock(np.arange(n) / RATE_HZ, acc))
    fit_offset, fit_scale = fit_accel_six_position(captures)
    np.testing.assert_allclose(fit_offset, offset, atol=0.01)
    np.testing.assert_allclose(fit_scale, scale, atol=0.002)
    with pytest.raises(CalibrationError, match="6 still captures"):
        fit_accel_six_position(captures[:5])
    with pytest.raises(CalibrationError, match="axis both up and down"):
        fit_accel_six_position([captures[0]] * 6)


@pytest.mark.parametrize("gyro", [True, False])
def test_auto_calibration_finds_neutral_and_sagittal_plane(gyro: bool) -> None:
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(11))
    rec = _day(11, mount=mount, gyro=gyro)
    cal = auto_calibration(rec.samples)
    assert cal.method == "auto"
    flex, lat = cal.angles(rec.up_sensor)
    assert np.sqrt(np.mean((flex - rec.flexion_deg) ** 2)) < 1.0
    assert np.sqrt(np.mean((lat - rec.lateral_deg) ** 2)) < 1.5


def test_auto_calibration_needs_a_still_period() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    block = SampleBlock(np.arange(n) / RATE_HZ, rng.normal(0, 3.0, (n, 3)) + np.array([9.81, 0, 0]))
    with pytest.raises(CalibrationError, match="no still period"):
        auto_calibration(block)


def test_staleness() -> None:
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(5))
    rec = _day(5, mount=mount)
    cal = fit_mounting(_window(rec.samples, 2, 8), _window(rec.samples, 12, 16))
    assert is_stale(cal, rec.samples) is None
    # the sensor re-attached rotated 25° about its own axis
    angle = np.radians(25.0)
    turn = np.array(
        [[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]
    )
    moved = _day(5, mount=mount @ turn)
    assert "re-attached" in (is_stale(cal, moved.samples) or "")
    old = cal.__class__.from_dict({**cal.to_dict(), "created": "2026-01-01T00:00:00+00:00"})
    message = is_stale(old, rec.samples, now=datetime(2026, 11, 30, tzinfo=UTC))
    assert message is not None
    assert "days old" in message
