"""Calibration fits from captured samples (pure: no I/O, no wall clock).

* :func:`fit_mounting`: neutral capture (still, upright) and optional forward bend → mounting.
* :func:`auto_calibration`: best effort when the wearer skipped calibration.
* :func:`fit_gyro_bias`: gyroscope bias at rest.
* :func:`fit_accel_six_position`: accelerometer offset and scale per axis from still captures in
  several orientations (six positions, or any set spanning the sphere: an axis-aligned ellipsoid
  fit).
* :func:`is_stale`: a warning when a calibration no longer seems to fit the data.

Every rejection raises :class:`~host.errors.CalibrationError` with the reason and the numbers.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime

import numpy as np
import numpy.typing as npt

from calibration.model import NOMINAL_R_BS, Calibration, Vec3
from host.errors import CalibrationError
from host.samples import SampleBlock

__all__ = [
    "MAX_ACCEL_STD_M_S2",
    "MAX_GYRO_RMS_DEG_S",
    "MIN_BEND_DEG",
    "MIN_CAPTURE_S",
    "Stillness",
    "auto_calibration",
    "check_still",
    "fit_accel_six_position",
    "fit_gyro_bias",
    "fit_mounting",
    "is_stale",
]

FloatArray = npt.NDArray[np.float64]

GRAVITY_M_S2 = 9.80665
MIN_CAPTURE_S = 1.0
MIN_CAPTURE_SAMPLES = 10
MIN_RATE_HZ = 25.0  # as host.csvio.MIN_RATE_HZ (the simulator's and the product's floor)
# Sitting still, people sway and breathe: a few °/s and < 0.1 m/s². A reach or a shift in the
# chair is tens of °/s and > 0.5 m/s². (Sensor noise: ≈ 0.02 m/s², ≈ 0.1 °/s.)
MAX_GYRO_RMS_DEG_S = 5.0
MAX_ACCEL_STD_M_S2 = 0.3
MIN_BEND_DEG = 15.0
# How far the still up vector may leave the calibrated sagittal plane before we suspect the
# sensor was re-attached (lateral lean while sitting still rarely exceeds this).
STALE_OUT_OF_PLANE_DEG = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class Stillness:
    """How still a capture was.

    Attributes:
        gyro_rms_deg_s: RMS of the angular rate about its mean, °/s (None without gyroscope).
        accel_std_m_s2: total standard deviation of the acceleration, m/s².
        duration_s: capture length, s.
    """

    gyro_rms_deg_s: float | None
    accel_std_m_s2: float
    duration_s: float


def check_still(samples: SampleBlock, what: str) -> Stillness:
    """Measure stillness and reject a capture in which the wearer moved.

    Args:
        samples: the capture.
        what: name used in messages ("neutral capture").

    Raises:
        CalibrationError: too short, moved, or not measuring gravity.
    """
    n = len(samples)
    duration_s = float(samples.t_s[-1] - samples.t_s[0]) if n else 0.0
    if n >= 2 and n < MIN_CAPTURE_SAMPLES and duration_s >= MIN_CAPTURE_S:
        # long enough, too few samples: the rate is the problem, not the wearer
        rate_hz = (n - 1) / duration_s
        raise CalibrationError(
            f"{what} has only {n} samples over {duration_s:.2f} s: the sample rate "
            f"{rate_hz:.3g} Hz is too low (need ≥ {MIN_RATE_HZ:.0f} Hz)"
        )
    if n < MIN_CAPTURE_SAMPLES or duration_s < MIN_CAPTURE_S:
        raise CalibrationError(
            f"{what} is too short: {n} samples over {duration_s:.2f} s; "
            f"hold still for at least {MIN_CAPTURE_S:.0f} s (3–5 s is best)"
        )
    acc = samples.accel_m_s2
    accel_std = float(np.sqrt(np.sum(np.var(acc, axis=0))))
    gyro_rms = None
    if samples.gyro_rad_s is not None:
        dev = samples.gyro_rad_s - samples.gyro_rad_s.mean(axis=0)
        gyro_rms = math.degrees(float(np.sqrt(np.mean(np.sum(dev * dev, axis=1)))))
    if gyro_rms is not None and gyro_rms > MAX_GYRO_RMS_DEG_S:
        raise CalibrationError(
            f"you moved during the {what}: angular rate {gyro_rms:.1f} °/s RMS "
            f"(limit {MAX_GYRO_RMS_DEG_S:.0f} °/s); hold still and try again"
        )
    if accel_std > MAX_ACCEL_STD_M_S2:
        raise CalibrationError(
            f"you moved during the {what}: acceleration varied by {accel_std:.2f} m/s² "
            f"(limit {MAX_ACCEL_STD_M_S2:.1f} m/s²); hold still and try again"
        )
    norm = float(np.linalg.norm(acc.mean(axis=0)))
    if abs(norm - GRAVITY_M_S2) > 1.5:
        raise CalibrationError(
            f"the {what} does not look like gravity: mean |acceleration| {norm:.2f} m/s² "
            f"(expected ≈ {GRAVITY_M_S2:.2f}); is the accelerometer in m/s²?"
        )
    return Stillness(gyro_rms, accel_std, duration_s)


def _mean_up(samples: SampleBlock) -> FloatArray:
    mean = samples.accel_m_s2.mean(axis=0)
    return np.asarray(mean / np.linalg.norm(mean), dtype=np.float64)


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def _axes_from_anterior(u0: FloatArray, anterior: FloatArray) -> FloatArray | None:
    """R_bs with z = u0 and x = ``anterior`` made orthogonal to it (None if nearly parallel)."""
    x = anterior - float(anterior @ u0) * u0
    if np.linalg.norm(x) < 0.2:  # anterior within ≈ 11° of vertical: no usable direction
        return None
    x = _unit(x)
    y = np.cross(u0, x)
    return np.vstack([x, y, u0])


def _tuple3(v: FloatArray) -> Vec3:
    return (float(v[0]), float(v[1]), float(v[2]))


def _calibration(r: FloatArray, u0: FloatArray, **kwargs: object) -> Calibration:
    rows = (_tuple3(r[0]), _tuple3(r[1]), _tuple3(r[2]))
    return Calibration(neutral_up_sensor=_tuple3(u0), r_body_sensor=rows, **kwargs)  # type: ignore[arg-type]


def fit_mounting(
    neutral: SampleBlock, forward: SampleBlock | None = None, *, device: str = ""
) -> Calibration:
    """Mounting calibration from a still upright capture and an optional forward bend.

    With ``forward``, the sagittal plane comes from the bend, so flexion is right for any
    mounting rotation: body y = normalize(u_bend × u0), body x = y × u0. Without it, body x is the
    nominal anterior direction (−z_sensor) made orthogonal to u0.

    Args:
        neutral: samples while sitting or standing upright and still.
        forward: samples while holding a forward bend (≥ 15°, 20–40° is best), or None.
        device: device identifier stored in the calibration.

    Raises:
        CalibrationError: a capture is too short, the wearer moved, the bend is too small or
            sideways, or (without ``forward``) the sensor is mounted so that the nominal anterior
            axis is vertical.
    """
    still = check_still(neutral, "neutral capture")
    u0 = _mean_up(neutral)
    bend_deg = None
    if forward is not None:
        check_still(forward, "forward-bend capture")
        u_bend = _mean_up(forward)
        bend_deg = math.degrees(math.acos(float(np.clip(u_bend @ u0, -1.0, 1.0))))
        if bend_deg < MIN_BEND_DEG:
            raise CalibrationError(
                f"bend forward further: the forward-bend capture is only {bend_deg:.1f}° from "
                f"upright; at least {MIN_BEND_DEG:.0f}° is needed (20–40° works best)"
            )
        y = _unit(np.cross(u_bend, u0))
        x = np.cross(y, u0)
        r = np.vstack([x, y, u0])
        method = "neutral+forward"
    else:
        maybe = _axes_from_anterior(u0, np.array(NOMINAL_R_BS[0]))
        if maybe is None:
            raise CalibrationError(
                "the sensor's nominal forward axis (−z) points up or down in the neutral capture, "
                "so the forward direction is unknown: add a forward-bend capture (--forward)"
            )
        r = maybe
        method = "neutral"
    return _calibration(
        r,
        u0,
        device=device,
        method=method,
        gyro_bias_rad_s=None
        if neutral.gyro_rad_s is None
        else _tuple3(neutral.gyro_rad_s.mean(axis=0)),
        neutral_gyro_rms_deg_s=still.gyro_rms_deg_s,
        neutral_accel_std_m_s2=still.accel_std_m_s2,
        forward_bend_deg=bend_deg,
    )


def fit_gyro_bias(samples: SampleBlock) -> Vec3:
    """Gyroscope bias (rad/s, sensor frame): the mean rate over a still capture.

    Raises:
        CalibrationError: no gyroscope, or the sensor moved.
    """
    if samples.gyro_rad_s is None:
        raise CalibrationError("this sensor has no gyroscope, so there is no gyro bias to fit")
    check_still(samples, "gyro-bias capture")
    return _tuple3(samples.gyro_rad_s.mean(axis=0))


def fit_accel_six_position(captures: list[SampleBlock]) -> tuple[Vec3, Vec3]:
    """Accelerometer offset and scale per axis from still captures in different orientations.

    Fits ``|(a - offset) / scale| = g`` (an axis-aligned ellipsoid) to the capture means by linear
    least squares on ``Σ k_i a_i² + Σ l_i a_i = 1``. Six captures with each axis up and down
    (the classic six-position method) determine it well; any set spanning all axes works.

    Returns:
        ``(offset_m_s2, scale)``.

    Raises:
        CalibrationError: a capture moved, fewer than six captures, or the orientations do not
            span every axis in both directions.
    """
    if len(captures) < 6:
        raise CalibrationError(
            f"six-position calibration needs 6 still captures (each axis up and down), "
            f"got {len(captures)}"
        )
    means = []
    for i, cap in enumerate(captures, start=1):
        check_still(cap, f"position {i} capture")
        means.append(cap.accel_m_s2.mean(axis=0))
    a = np.array(means)
    up = a / np.linalg.norm(a, axis=1, keepdims=True)
    for axis, name in enumerate("xyz"):
        if up[:, axis].max() < 0.7 or up[:, axis].min() > -0.7:
            raise CalibrationError(
                f"the captures do not put the {name} axis both up and down (within 45°); "
                "turn the sensor so each axis points up once and down once"
            )
    design = np.hstack([a * a, a])
    coef, *_ = np.linalg.lstsq(design, np.ones(len(a)), rcond=None)
    k, lin = coef[:3], coef[3:]
    if np.any(k <= 0):
        raise CalibrationError("six-position fit failed: the captures are inconsistent")
    offset = -lin / (2.0 * k)
    radius_sq = 1.0 + float(np.sum(k * offset * offset))
    scale = np.sqrt(radius_sq / k) / GRAVITY_M_S2
    return _tuple3(offset), _tuple3(scale)


# ----------------------------------------------------------------------------- automatic

AUTO_SEARCH_S = 300.0  # look for the neutral posture in the first minutes
_BIN_S = 0.5
_MIN_STILL_RUN_S = 2.0
_UPRIGHT_TOLERANCE_DEG = 35.0
_MAX_BIN_STEP_DEG = 0.5  # posture change between consecutive still bins (1 °/s)


@dataclasses.dataclass(frozen=True, slots=True)
class _Bins:
    """Per-bin (0.5 s) means and stillness of a recording."""

    up: FloatArray  # (B, 3) unit mean up vector
    still: npt.NDArray[np.bool_]  # (B,)
    start: npt.NDArray[np.intp]  # (B,) first sample index of each bin
    stop: npt.NDArray[np.intp]


def _bins(samples: SampleBlock, t_end_s: float | None = None) -> _Bins:
    t = samples.t_s
    if t_end_s is not None:
        t = t[t <= t_end_s]
    edges = np.arange(float(t[0]), float(t[-1]) + _BIN_S, _BIN_S)
    idx = np.searchsorted(t, edges)
    start, stop = idx[:-1], idx[1:]
    keep = stop - start >= 3
    start, stop = start[keep], stop[keep]
    if start.size == 0:
        return _Bins(np.zeros((0, 3)), np.zeros(0, bool), start, stop)
    acc = samples.accel_m_s2[: int(stop[-1])]
    counts = (stop - start)[:, None]
    csum = np.vstack([np.zeros(3), np.cumsum(acc, axis=0)])
    csq = np.vstack([np.zeros(3), np.cumsum(acc * acc, axis=0)])
    mean = (csum[stop] - csum[start]) / counts
    var = np.maximum((csq[stop] - csq[start]) / counts - mean * mean, 0.0)
    still = np.sqrt(var.sum(axis=1)) <= MAX_ACCEL_STD_M_S2
    if samples.gyro_rad_s is not None:
        g = samples.gyro_rad_s[: int(stop[-1])]
        gsum = np.vstack([np.zeros(3), np.cumsum(g, axis=0)])
        gsq = np.vstack([np.zeros(3), np.cumsum(g * g, axis=0)])
        gmean = (gsum[stop] - gsum[start]) / counts
        gvar = np.maximum((gsq[stop] - gsq[start]) / counts - gmean * gmean, 0.0)
        still &= np.degrees(np.sqrt(gvar.sum(axis=1))) <= MAX_GYRO_RMS_DEG_S
    norms = np.linalg.norm(mean, axis=1)
    still &= np.abs(norms - GRAVITY_M_S2) < 1.5
    up = mean / norms[:, None]
    # a slow posture change is still within each bin but not from one bin to the next
    steady = np.ones(len(up), bool)
    if len(up) > 1:
        cos_step = np.einsum("ij,ij->i", up[1:], up[:-1])
        moved = cos_step < math.cos(math.radians(_MAX_BIN_STEP_DEG))
        steady[1:] &= ~moved
        steady[:-1] &= ~moved
    return _Bins(up, still & steady, start, stop)


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) of runs of True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(change[::2], change[1::2], strict=True)]


def auto_calibration(samples: SampleBlock, *, device: str = "") -> Calibration:
    """Best-effort mounting calibration when the wearer skipped the guided one.

    Neutral: the longest still run (≥ 2 s) in the first :data:`AUTO_SEARCH_S` seconds, preferring
    runs within 35° of the nominal upright (+x_sensor up). Sagittal plane: the direction in which
    the up vector moves most over those minutes (trunk flexion dominates everyday motion), with
    the sign that makes the larger excursions forward (people bend forward far more than back);
    when the up vector barely moves, the nominal mounting's anterior axis.

    Raises:
        CalibrationError: fewer than two samples, or no still run long enough.
    """
    if len(samples) < 2:
        raise CalibrationError("too few samples for an automatic calibration")
    bins = _bins(samples, float(samples.t_s[0]) + AUTO_SEARCH_S)
    min_bins = round(_MIN_STILL_RUN_S / _BIN_S)
    runs = [r for r in _runs(bins.still) if r[1] - r[0] >= min_bins]
    if not runs:
        raise CalibrationError(
            f"no still period of {_MIN_STILL_RUN_S:.0f} s in the first "
            f"{AUTO_SEARCH_S / 60:.0f} minutes; calibrate while sitting upright and still"
        )
    nominal_up = np.array(NOMINAL_R_BS[2])
    cos_tol = math.cos(math.radians(_UPRIGHT_TOLERANCE_DEG))

    def run_up(run: tuple[int, int]) -> FloatArray:
        return _unit(bins.up[run[0] : run[1]].mean(axis=0))

    # preference: near the nominal upright first, then longer
    ranked = sorted(runs, key=lambda r: (float(run_up(r) @ nominal_up) < cos_tol, -(r[1] - r[0])))
    neutral = None
    still = None
    for run in ranked:
        candidate = samples.slice(int(bins.start[run[0]]), int(bins.stop[run[1] - 1]))
        try:
            still = check_still(candidate, "automatic neutral capture")
        except CalibrationError:
            continue
        neutral = candidate
        break
    if neutral is None or still is None:
        raise CalibrationError(
            "no still period passed the stillness check in the first minutes; "
            "calibrate while sitting upright and still"
        )
    u0 = _mean_up(neutral)
    disp = bins.up - np.outer(bins.up @ u0, u0)  # excursion of up, in the plane ⟂ u0
    eigval, eigvec = np.linalg.eigh(disp.T @ disp / len(disp))
    spread = math.sqrt(max(float(eigval[-1]), 0.0))
    nominal_x = np.array(NOMINAL_R_BS[0])
    r = None
    if spread > math.sin(math.radians(5.0)):
        e = _unit(eigvec[:, -1] - float(eigvec[:, -1] @ u0) * u0)
        s = disp @ e
        # forward flexion moves up towards -x_body: make the larger excursions negative along x
        back, front = float(np.percentile(s, 98)), float(-np.percentile(s, 2))
        x = e if front >= back else -e
        ambiguous = min(front, back) > 0.8 * max(front, back)
        if ambiguous and abs(float(nominal_x @ x)) > 0.8:
            # excursions nearly symmetric: the nominal mounting's sign is the better guess
            x = x if float(nominal_x @ x) > 0 else -x
        r = np.vstack([x, np.cross(u0, x), u0])
    if r is None:
        r = _axes_from_anterior(u0, nominal_x)
    if r is None:  # nominal anterior vertical: any horizontal axis, flexion sign unknown
        r = _axes_from_anterior(u0, np.array([1.0, 0.0, 0.0]))
        if r is None:
            r = _axes_from_anterior(u0, np.array([0.0, 1.0, 0.0]))
    if r is None:  # cannot happen: u0 cannot be parallel to both x and y
        raise CalibrationError("automatic calibration found no horizontal axis")
    return _calibration(
        r,
        u0,
        device=device,
        method="auto",
        neutral_gyro_rms_deg_s=still.gyro_rms_deg_s,
        neutral_accel_std_m_s2=still.accel_std_m_s2,
    )


def is_stale(
    calibration: Calibration,
    samples: SampleBlock,
    *,
    now: datetime | None = None,
    max_age_days: float = 30.0,
    min_still_s: float = 30.0,
) -> str | None:
    """A warning when the calibration no longer seems to fit (None when it looks fine).

    Checks: calibration older than ``max_age_days`` (only when ``now`` is given and the
    calibration has a ``created`` time); the up vector during still periods (≥ ``min_still_s``
    in total) lying off the calibrated sagittal plane by more than 10° in the median, which
    happens when the sensor was re-attached at a different angle.
    """
    if now is not None and calibration.created:
        try:
            created = datetime.fromisoformat(calibration.created)
        except ValueError:
            created = None
        if created is not None and created.tzinfo is not None and now.tzinfo is not None:
            age_days = (now - created).total_seconds() / 86400.0
            if age_days > max_age_days:
                return (
                    f"the calibration is {age_days:.0f} days old (made {calibration.created}); "
                    "re-calibrate if the sensor has been taken off since"
                )
    if len(samples) < 10:
        return None
    bins = _bins(samples)
    if float(np.sum(bins.still)) * _BIN_S < min_still_s:
        return None
    body = calibration.to_body(bins.up[bins.still])
    out_of_plane_deg = float(np.degrees(np.arcsin(np.clip(np.median(body[:, 1]), -1.0, 1.0))))
    if abs(out_of_plane_deg) > STALE_OUT_OF_PLANE_DEG:
        return (
            f"while still, the sensor's tilt is {abs(out_of_plane_deg):.0f}° off the calibrated "
            "front-back plane: was the sensor re-attached? Re-calibrate (sit upright and still, "
            "then bend forward)"
        )
    return None
