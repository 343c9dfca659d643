"""Simulator physics: what the IMU measures agrees with the ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from device_sim import quat
from device_sim.imu_model import BLOCK, GRAVITY_M_S2, ErrorModel, ImuModel, _Stream
from device_sim.motion import Motion


def _render(
    scenario: str, seconds: float, *, errors: ErrorModel | None, seed: int = 1, **kw: object
) -> tuple[ImuModel, object]:
    model = ImuModel(Motion(scenario, seed), seed=seed, errors=errors, **kw)  # type: ignore[arg-type]
    n_blocks = math.ceil(seconds * 100 / BLOCK)
    return model, model.render(_Stream(0, 0, 0.0, 100.0), 0, n_blocks)


def test_nominal_mount_reads_plus_g_on_x_when_upright() -> None:
    _, r = _render("upright_sitting", 8, errors=ErrorModel.ideal())
    still = slice(200, 800)
    assert np.allclose(r.accel_m_s2[still], [GRAVITY_M_S2, 0, 0], atol=1e-9)  # type: ignore[attr-defined]
    assert np.allclose(r.gyro_rad_s[still], 0.0, atol=1e-12)  # type: ignore[attr-defined]


def test_truth_up_equals_normalised_noise_free_accelerometer_when_still() -> None:
    for random_mount in (False, True):
        mount = quat.random_rotation(np.random.default_rng(9)) if random_mount else None
        _, r = _render("calibration", 60, errors=ErrorModel.ideal(), mount_q_bs=mount)
        t = r.truth.t_s  # type: ignore[attr-defined]
        still = ((t > 2) & (t < 8)) | ((t > 12.5) & (t < 15.5))
        a = r.accel_m_s2[still]  # type: ignore[attr-defined]
        up = r.truth.up_sensor[still]  # type: ignore[attr-defined]
        assert np.allclose(a / np.linalg.norm(a, axis=1)[:, None], up, atol=1e-9)
        assert np.allclose(np.linalg.norm(a, axis=1), GRAVITY_M_S2, atol=1e-9)


def test_at_rest_accel_magnitude_is_g_within_the_error_model() -> None:
    model, r = _render("upright_sitting", 9, errors=ErrorModel())
    still = slice(200, 800)
    norm = np.linalg.norm(r.accel_m_s2[still], axis=1)  # type: ignore[attr-defined]
    dev = model.device
    expected = np.linalg.norm(
        dev.accel_matrix @ np.array([GRAVITY_M_S2, 0, 0]) + dev.accel_bias_m_s2
    )
    noise_sd = 160e-6 * GRAVITY_M_S2 * math.sqrt(50)
    assert abs(norm.mean() - expected) < 4 * noise_sd / math.sqrt(600) + 1e-3
    assert norm.std() == pytest.approx(noise_sd, rel=0.2)
    # and the device's errors are within a few sigma of the model: |a| ≈ g ± 5σ
    sigma = math.hypot(0.004 * GRAVITY_M_S2, 10e-3 * GRAVITY_M_S2)
    assert abs(norm.mean() - GRAVITY_M_S2) < 5 * sigma


def _integrate(gyro: np.ndarray, dt: float) -> np.ndarray:
    """Quaternion integration with the midpoint rate of consecutive samples."""
    q = np.array([1.0, 0.0, 0.0, 0.0])
    for k in range(gyro.shape[0] - 1):
        w = 0.5 * (gyro[k] + gyro[k + 1]) * dt
        angle = np.linalg.norm(w)
        if angle > 0:
            dq = np.concatenate(([math.cos(angle / 2)], math.sin(angle / 2) * w / angle))
            q = quat.multiply(q, dq)
    return q


@pytest.mark.parametrize("scenario", ["pick_up", "walking", "sit_to_stand"])
def test_integrating_the_gyroscope_reproduces_the_orientation_change(scenario: str) -> None:
    mount = quat.random_rotation(np.random.default_rng(4))
    model, r = _render(scenario, 90, errors=ErrorModel.ideal(), mount_q_bs=mount)
    gyro = r.gyro_rad_s  # type: ignore[attr-defined]
    t_true = model.true_time(r.truth.t_s)  # type: ignore[attr-defined]
    q_ws = quat.multiply(model.motion.evaluate(t_true).q_wb, mount)
    start, stop = 2000, 9000  # 70 s of bending / walking / rising
    delta_true = quat.multiply(quat.conjugate(q_ws[start]), q_ws[stop])
    delta_gyro = _integrate(gyro[start : stop + 1], 0.01)
    error = quat.multiply(quat.conjugate(delta_true), delta_gyro)
    error_deg = math.degrees(np.linalg.norm(quat.to_rotvec(error)))
    moved_deg = math.degrees(np.linalg.norm(quat.to_rotvec(delta_true)))
    travelled_deg = math.degrees(np.abs(gyro[start:stop]).sum() * 0.01)
    assert travelled_deg > 200  # there was real motion to integrate
    assert error_deg < 0.05, (error_deg, moved_deg)  # measured ≈ 0.004°


def test_lever_arm_makes_bending_and_walking_accelerate_the_sensor() -> None:
    _, r = _render("walking", 120, errors=ErrorModel.ideal())
    a = r.accel_m_s2  # type: ignore[attr-defined]
    up = r.truth.up_sensor  # type: ignore[attr-defined]
    linear = a - GRAVITY_M_S2 * up
    walking = r.truth.activity == 2  # type: ignore[attr-defined]
    assert np.abs(linear[walking]).max() > 1.5  # step accelerations, m/s²
    assert np.abs(linear[200:800]).max() < 1e-6  # the still preamble has none


def test_noise_is_independent_of_how_blocks_are_rendered() -> None:
    model = ImuModel(Motion("walking", 3), seed=3)
    one = model.render(_Stream(0, 0, 0.0, 100.0), 0, 4)
    stream = _Stream(0, 0, 0.0, 100.0)
    parts = [model.render(stream, b) for b in range(4)]
    assert np.array_equal(one.accel_m_s2, np.concatenate([p.accel_m_s2 for p in parts]))
    assert np.array_equal(one.gyro_rad_s, np.concatenate([p.gyro_rad_s for p in parts]))  # type: ignore[arg-type]
    assert np.array_equal(one.ticks, np.concatenate([p.ticks for p in parts]))


def test_clock_error_and_jitter_show_in_the_timestamps() -> None:
    model, r = _render("upright_sitting", 600, errors=ErrorModel(clock_ppm=50.0, jitter_us=30.0))
    ticks = r.ticks  # type: ignore[attr-defined]
    steps = np.diff(ticks)
    assert np.all(steps > 0)
    assert 5 < steps.std() < 60  # µs of jitter
    # the device clock runs (1 + ε) fast: its ticks are nominal, true time is stretched
    t_true = model.true_time(r.truth.t_s)  # type: ignore[attr-defined]
    drift_ppm = (r.truth.t_s[-1] / t_true[-1] - 1.0) * 1e6  # type: ignore[attr-defined]
    assert drift_ppm == pytest.approx(model.device.clock_error * 1e6, abs=0.01)
    assert model.device.clock_error != 0.0


def test_gyroscope_optional_and_bias_drifts() -> None:
    _, r = _render("upright_sitting", 10, errors=None, gyro=False)
    assert r.gyro_rad_s is None  # type: ignore[attr-defined]
    _model, r = _render("upright_sitting", 20 * 60, errors=ErrorModel(gyro_bias_walk_dps_rts=0.01))
    g = r.gyro_rad_s  # type: ignore[attr-defined]
    early, late = g[:500].mean(axis=0), g[-500:].mean(axis=0)
    # 20 min of 0.01 °/s/√s random walk: σ ≈ 0.35 °/s per axis; sway adds ≲ 0.05 °/s
    assert np.degrees(np.abs(late - early)).max() > 0.02
