"""Synthetic back-worn IMU data with exactly known trunk angles, for tests and benchmarks (pure).

Much simpler than the project's simulator (``device_sim``): a trunk rotating about a hip pivot
with the sensor at a lever arm, optional walking accelerations of the pivot, white noise and a
constant gyroscope bias. It follows the shared conventions exactly (``docs/calibration.md``):
``R_wb = Rz(heading)·Ry(flexion)·Rx(lateral)``, ``up_body = (-sin θ, cos θ sin φ, cos θ cos φ)``,
``up_sensor = R_bsᵀ · up_body``, accelerometer ``a = R_wsᵀ (g e_z + p̈)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from calibration.model import NOMINAL_R_BS
from host.samples import SampleBlock

__all__ = ["SyntheticRecording", "desk_motion", "random_rotation", "synthesize"]

FloatArray = npt.NDArray[np.float64]
GRAVITY_M_S2 = 9.80665
LEVER_ARM_M = 0.25  # hip pivot to lumbar sensor


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticRecording:
    """Samples with their ground truth.

    Attributes:
        samples: the IMU data (sensor frame, SI).
        flexion_deg: (N,) true flexion, degrees.
        lateral_deg: (N,) true lateral bend, degrees.
        up_sensor: (N, 3) true up vector, sensor frame.
        activity: (N,) labels: ``still``, ``bending``, ``walking``.
        r_bs: (3, 3) true mounting (rows: body axes in the sensor frame).
    """

    samples: SampleBlock
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    up_sensor: FloatArray
    activity: npt.NDArray[np.str_]
    r_bs: FloatArray


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A uniformly random rotation matrix."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _smooth_step(t: FloatArray, t0: float, t1: float) -> FloatArray:
    """0 before t0, 1 after t1, a cosine ramp between."""
    u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(math.pi * u)


def desk_motion(
    duration_s: float, rate_hz: float, seed: int = 0
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.str_]]:
    """A scripted day-like motion with the project's calibration preamble.

    0–10 s upright still, 10–12 s bend to 35°, 12–16 s hold, 16–18 s return; then a repeating
    cycle (seeded amplitudes): still sitting, a slow forward bend, a lateral lean, a walk with
    turns, a slouch.

    Returns:
        ``(t_s, flexion_rad, lateral_rad, heading_rad, walking, activity)``; ``walking`` is 0..1.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    flex = np.radians(35.0) * (_smooth_step(t, 10, 12) - _smooth_step(t, 16, 18))
    lat = np.zeros_like(t)
    head = np.zeros_like(t)
    walk = np.zeros_like(t)
    activity = np.where((t >= 10) & (t < 18), "bending", "still").astype("<U8")
    start = 20.0
    while start < duration_s:

        def pulse(a: float, b: float, c: float, d: float, at: float = start) -> FloatArray:
            return _smooth_step(t, at + a, at + b) - _smooth_step(t, at + c, at + d)

        def label(a: float, b: float, what: str, at: float = start) -> None:
            activity[(t >= at + a) & (t < at + b)] = what

        flex += math.radians(rng.uniform(20, 60)) * pulse(10, 12, 16, 18)
        label(10, 18, "bending")
        lat += math.radians(rng.uniform(-20, 20)) * pulse(22, 24, 28, 30)
        label(22, 30, "bending")
        walk += pulse(35, 36, 54, 55)
        head += math.radians(rng.uniform(-180, 180)) * _smooth_step(t, start + 40, start + 43)
        label(35, 55, "walking")
        flex += math.radians(rng.uniform(10, 30)) * pulse(60, 63, 75, 78)
        label(60, 63, "bending")
        label(75, 78, "bending")
        start += 85.0
    # gait: trunk sway at the stride (0.9 Hz) and step (1.8 Hz) frequencies while walking
    flex += walk * np.radians(2.0) * np.sin(2 * math.pi * 1.8 * t)
    lat += walk * np.radians(2.0) * np.sin(2 * math.pi * 0.9 * t)
    return t, flex, lat, head, walk, activity


def _rot_z(a: FloatArray) -> FloatArray:
    c, s = np.cos(a), np.sin(a)
    m = np.zeros((a.shape[0], 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1], m[:, 2, 2] = c, -s, s, c, 1.0
    return m


def _rot_y(a: FloatArray) -> FloatArray:
    c, s = np.cos(a), np.sin(a)
    m = np.zeros((a.shape[0], 3, 3))
    m[:, 0, 0], m[:, 0, 2], m[:, 2, 0], m[:, 2, 2], m[:, 1, 1] = c, s, -s, c, 1.0
    return m


def _rot_x(a: FloatArray) -> FloatArray:
    c, s = np.cos(a), np.sin(a)
    m = np.zeros((a.shape[0], 3, 3))
    m[:, 1, 1], m[:, 1, 2], m[:, 2, 1], m[:, 2, 2], m[:, 0, 0] = c, -s, s, c, 1.0
    return m


def _log_so3(m: FloatArray) -> FloatArray:
    """Rotation vectors of (N, 3, 3) rotation matrices (small-to-moderate angles)."""
    cos = np.clip((np.trace(m, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    axis = np.stack([m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], 1)
    sin = np.sin(angle)
    factor = np.where(sin > 1e-9, angle / (2.0 * np.where(sin > 1e-9, sin, 1.0)), 0.5)
    return axis * factor[:, None]


def synthesize(
    t_s: FloatArray,
    flexion_rad: FloatArray,
    lateral_rad: FloatArray,
    heading_rad: FloatArray | None = None,
    *,
    r_bs: FloatArray | None = None,
    walking: FloatArray | None = None,
    gyro: bool = True,
    seed: int = 0,
    accel_noise_m_s2: float = 0.02,
    gyro_noise_rad_s: float = 0.002,
    gyro_bias_rad_s: float = 0.005,
    activity: npt.NDArray[np.str_] | None = None,
) -> SyntheticRecording:
    """IMU samples of a sensor on the lower back following the given trunk angles.

    Args:
        t_s: (N,) uniform sample times, s.
        flexion_rad, lateral_rad, heading_rad: (N,) trunk angles, rad.
        r_bs: true mounting (rows: body axes in the sensor frame); default nominal.
        walking: (N,) 0..1 gait intensity: adds pivot accelerations (≈1.8 Hz ±2.5 m/s² vertical,
            ±1.5 m/s² antero-posterior, 0.9 Hz ±0.8 m/s² medio-lateral).
        gyro: include gyroscope data.
        seed: noise seed.
    """
    rng = np.random.default_rng(seed)
    n = t_s.shape[0]
    heading = np.zeros(n) if heading_rad is None else heading_rad
    r_bs = np.array(NOMINAL_R_BS) if r_bs is None else r_bs
    r_wb = _rot_z(heading) @ _rot_y(flexion_rad) @ _rot_x(lateral_rad)
    r_ws = r_wb @ r_bs  # sensor → world: v_world = R_wb · (R_bs · v_sensor)
    dt = float(t_s[1] - t_s[0])
    # sensor position: pivot + lever arm along the body z axis
    pos = LEVER_ARM_M * r_wb[:, :, 2]
    acc_w = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0)
    if walking is not None:
        w = 2 * math.pi * 1.8 * t_s
        local = np.stack(
            [1.5 * np.sin(w), 0.8 * np.sin(0.5 * w + 0.3), 2.5 * np.sin(w + 1.0)], axis=1
        )
        acc_w += walking[:, None] * (_rot_z(heading) @ local[:, :, None])[:, :, 0]
    acc_w[:, 2] += GRAVITY_M_S2
    accel = np.einsum("nji,nj->ni", r_ws, acc_w) + rng.normal(0, accel_noise_m_s2, (n, 3))
    gyro_rad_s = None
    if gyro:
        rel = np.einsum("nji,njk->nik", r_ws[:-2], r_ws[2:])  # R_k-1ᵀ R_k+1, sensor frame
        omega = np.empty((n, 3))
        omega[1:-1] = _log_so3(rel) / (2 * dt)
        omega[0], omega[-1] = omega[1], omega[-2]
        bias = rng.normal(0, gyro_bias_rad_s, 3)
        gyro_rad_s = omega + bias + rng.normal(0, gyro_noise_rad_s, (n, 3))
    up_body = np.stack(
        [
            -np.sin(flexion_rad),
            np.cos(flexion_rad) * np.sin(lateral_rad),
            np.cos(flexion_rad) * np.cos(lateral_rad),
        ],
        axis=1,
    )
    up_sensor = up_body @ r_bs  # R_bsᵀ · up_body, row-wise
    labels = np.full(n, "still") if activity is None else activity
    return SyntheticRecording(
        SampleBlock(np.ascontiguousarray(t_s), np.ascontiguousarray(accel), gyro_rad_s),
        np.degrees(flexion_rad),
        np.degrees(lateral_rad),
        up_sensor,
        labels,
        r_bs,
    )
