"""Accelerometer-only inclination for sensors without a gyroscope (pure numpy).

An accelerometer measures gravity plus the body's own acceleration; only the first tells us the
inclination. Without a gyroscope we cannot separate them while moving, so live we:

* **gate on sustained motion**: a motion energy ``e = (dev/σ_dev)²`` from the deviation of
  ``|a|`` from g (linear acceleration changes the magnitude; optionally plus ``(jerk/σ_jerk)²``),
  low-passed over ``motion_tau_s`` (1 s), gives the stillness weight ``w = exp(-½ ē)``. Walking
  keeps ``ē`` high; a bend or standing up is too brief to raise it much, so the estimate keeps
  following the accelerometer instead of lagging behind it;
* **low-pass adaptively**: ``y_k = (1-α_k) y_{k-1} + α_k a_k`` with a short time constant when
  still (``tau_fast_s``: follows posture changes without lag) and a long one while moving
  (``tau_slow_s``: averages walking accelerations out instead of following them);
* **report confidence**: ``min(exp(-½ e_k), w_k)``, which drops at once when motion starts and
  recovers as the motion energy decays after it stops.

Offline, :func:`tilt_offline` first removes the lever-arm error of trunk rotation (a zero-phase
``1/(1 + ω²r/g)``, see there) and then averages a forward and a backward gated pass.

Why live bending stays near the raw accelerometer: on a trunk turning about the hip the sensor
feels ``α × r``, so the measured angle is ``θ − (r/g)·θ̈`` (fitted on simulated bends: −0.027 s²,
r/g for r = 0.27 m), plus the hip's own acceleration when standing up. Inverting that needs the
next ≈ 0.2 s (the inverse is two-sided); causal approximations (derivative lead, a steady-state
Kalman filter with this measurement model) measured worse than the raw accelerometer. With a
gyroscope VQF has no such limit.

Parameters (:data:`ONLINE_PARAMS`, :data:`OFFLINE_PARAMS`, :data:`LEVER_ARM_M`) were chosen on
simulated 60-min desk days, seeds 101–103 (``device_sim``, random mounting, calibrated from the
preamble); reported on seed 11 (the 120-min day of ``bench/bench_fusion.py``), flexion RMSE,
previous filter → this one (raw normalised accelerometer):

=============  ===============  ===============  ======
split          online           offline          raw
=============  ===============  ===============  ======
still          0.16° → 0.16°    0.15° → 0.10°    0.17°
walking        1.86° → 1.44°    1.05° → 0.83°    4.75°
bending        2.21° → 2.03°    1.88° → 0.63°    1.98°
all            0.40° → 0.34°    0.28° → 0.19°    0.86°
=============  ===============  ===============  ======

Seeds 104–106 agree (online bending 2.64° → 2.19°, offline 2.05° → 0.58°). These figures were
measured with the simulator's earlier smooth sway (4–5 sinusoids below 0.5 Hz). With its broadband
sway (to 3 Hz, commit 0bd28c0) seed 11 gives online still 0.33° (raw 0.35°), bending 2.03°
(1.98°), outside walking 0.37° (0.38°); offline still 0.10°, bending 0.63°. Still is now limited by
the sway's own lever-arm acceleration, which no accelerometer-only filter can tell from tilt: a
slower fast time constant (0.05–0.2 s) trades 0.02–0.07° of still error for 0.5–3.5° of bending.

The lever arm is anatomy, not a fitted value: 0.27 m is also the simulator's sensor-to-hip
distance, so real wearers will differ; assuming 0.2 or 0.35 m instead changes offline bending
by −0.05…+0.25° on these days. BROAD (hand-held, fast rotations) defeats any accelerometer-only
estimate; online mean 34.4° → 33.6° (raw 22.8°).

Streaming and batch give identical output for any chunking: the motion-energy low-pass is
:func:`host.iir.lfilter` with carried state (bit-exact for any block size), and the time-varying
recursion is evaluated in closed form over internal chunks of :data:`_CHUNK` samples whose
boundaries depend only on the sample index since the last (re)seed, and every prefix sum is a
sequential ``cumsum`` continued from carried state, so the floating-point operations are the same
whatever the block boundaries.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from host import iir
from host.fusion.base import RESEED_GAP_S, OrientationBlock
from host.samples import SampleBlock

__all__ = ["LEVER_ARM_M", "OFFLINE_PARAMS", "ONLINE_PARAMS", "TiltFilter", "tilt_offline"]

FloatArray = npt.NDArray[np.float64]

GRAVITY_M_S2 = 9.80665
# The closed form divides by the accumulated decay; renormalising every 256 samples keeps it
# far inside double range (decay per sample ≥ 0.5, so ≤ 2^256 ≈ 1e77).
_CHUNK = 256
_MAX_ALPHA = 0.5
_JERK_BASELINE_S = 0.05
_NO_INDEX = np.zeros(0, np.intp)
_SMALL = 16  # live blocks up to this size run in plain floats (_update_small)

# Chosen on simulated desk days with seeds 101-103 (tuning set), reported on seed 11 (the
# benchmark's day) and 104-105; see the module docstring and bench/bench_fusion.py.
ONLINE_PARAMS: Mapping[str, float] = {
    "tau_fast_s": 0.01,
    "tau_slow_s": 1.0,
    "accel_dev_m_s2": 0.5,
    "jerk_m_s3": math.inf,
    "motion_tau_s": 1.0,
}
OFFLINE_PARAMS: Mapping[str, float] = {
    "tau_fast_s": 0.01,
    "tau_slow_s": 1.0,
    "accel_dev_m_s2": 0.7,
    "jerk_m_s3": math.inf,
    "motion_tau_s": 1.0,
}
# Hip joint to a lower-back sensor: the sensor sits on the lumbar spine ≈ 0.25 m above the hip
# joint centres and ≈ 0.1 m behind them (device_sim.imu_model uses the same anatomy).
LEVER_ARM_M = 0.27


class TiltFilter:
    """Causal accelerometer-only up-vector estimator with motion gating.

    Args:
        rate_hz: nominal sample rate, Hz.
        tau_fast_s: low-pass time constant when still, s.
        tau_slow_s: low-pass time constant while moving, s.
        accel_dev_m_s2: scale σ_dev of ``| |a| - g |`` in the motion energy, m/s².
        jerk_m_s3: scale σ_jerk of the jerk over 50 ms in the motion energy, m/s³; ``inf`` (the
            default) leaves the jerk out: it penalises turning as much as shaking, and turning
            is exactly when the accelerometer direction must be followed.
        motion_tau_s: time constant of the motion-energy low-pass, s: brief movements (a bend,
            standing up) hardly raise it, sustained ones (walking) do.
        rest_confidence: confidence above which a sample counts as "at rest".
        reseed_gap_s: after a longer gap the estimate restarts from the next sample.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        tau_fast_s: float = ONLINE_PARAMS["tau_fast_s"],
        tau_slow_s: float = ONLINE_PARAMS["tau_slow_s"],
        accel_dev_m_s2: float = ONLINE_PARAMS["accel_dev_m_s2"],
        jerk_m_s3: float = ONLINE_PARAMS["jerk_m_s3"],
        motion_tau_s: float = ONLINE_PARAMS["motion_tau_s"],
        rest_confidence: float = 0.9,
        reseed_gap_s: float = RESEED_GAP_S,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, not {rate_hz}")
        self.rate_hz = float(rate_hz)
        period_s = 1.0 / rate_hz
        self._alpha_fast = min(_MAX_ALPHA, 1.0 - math.exp(-period_s / tau_fast_s))
        self._alpha_slow = min(_MAX_ALPHA, 1.0 - math.exp(-period_s / tau_slow_s))
        keep = math.exp(-period_s / motion_tau_s)
        # one-pole low-pass y_k = keep·y_{k-1} + (1-keep)·x_k in lfilter form (b padded to len(a))
        self._energy_b = np.array([1.0 - keep, 0.0])
        self._energy_a = np.array([1.0, -keep])
        self._energy_coeffs = (self._energy_b.tolist(), self._energy_a.tolist())
        self._inv_dev = 1.0 / accel_dev_m_s2
        self._inv_jerk = 1.0 / jerk_m_s3  # 0 for inf: no jerk term
        # jerk over a 50 ms baseline: sample-to-sample differences would be dominated by noise
        # (0.02 m/s² at 100 Hz is already ≈ 5 m/s³), a longer baseline keeps motion and not noise
        self._lag = max(1, round(rate_hz * _JERK_BASELINE_S))
        self.rest_confidence = rest_confidence
        self.reseed_gap_s = reseed_gap_s
        self.reset()

    def reset(self) -> None:
        """Forget everything, as if newly created."""
        self._last_t_s: float | None = None
        self._history: FloatArray | None = None  # the last _lag samples (jerk baseline)
        self._energy_z = [0.0]  # state of the motion-energy low-pass
        # recursion state of the filtered acceleration (x, y, z, m/s²), as plain floats: live
        # blocks of a few samples run in plain floats (see _update_small)
        self._y = [0.0, 0.0, 0.0]
        self._pos = 0  # index within the current internal chunk
        self._y_base = [0.0, 0.0, 0.0]
        self._log_decay = 0.0
        self._sum = [0.0, 0.0, 0.0]

    def update(self, block: SampleBlock) -> OrientationBlock:
        """Process the next block; gyroscope data, if any, is ignored."""
        acc = np.asarray(block.accel_m_s2, dtype=np.float64)
        return self._update(block.t_s, acc, acc)

    def _update(self, t_s: FloatArray, acc: FloatArray, target: FloatArray) -> OrientationBlock:
        """Gate on the motion seen in ``acc`` and low-pass ``target`` (``acc`` itself live; the
        offline estimate passes a lever-arm-compensated copy)."""
        n = t_s.shape[0]
        if n == 0:
            return OrientationBlock.empty()
        last_t_s = self._last_t_s
        spans_no_gap = n == 1 or float(t_s[-1] - t_s[0]) <= self.reseed_gap_s
        if (
            n <= _SMALL
            and spans_no_gap
            and last_t_s is not None
            and float(t_s[0]) - last_t_s <= self.reseed_gap_s
            and self._inv_jerk == 0.0
        ):
            return self._update_small(t_s, acc, target)
        seeds = np.zeros(n, bool)
        if last_t_s is None:
            seeds[0] = True
        else:
            seeds[0] = t_s[0] - last_t_s > self.reseed_gap_s
        if not spans_no_gap:  # else no step can be a gap
            seeds[1:] = np.diff(t_s) > self.reseed_gap_s
        # written out (not einsum) so that _update_small can repeat the very same operations
        ax, ay, az = acc[:, 0], acc[:, 1], acc[:, 2]
        scaled = np.abs(np.sqrt(ax * ax + ay * ay + az * az) - GRAVITY_M_S2) * self._inv_dev
        energy = scaled * scaled
        if self._inv_jerk > 0.0:
            energy += (self._jerk(acc, seeds) * self._inv_jerk) ** 2
        smooth = self._smooth_energy(energy, seeds)
        weight = np.exp(-0.5 * smooth)
        alpha = self._alpha_slow + weight * (self._alpha_fast - self._alpha_slow)
        lp = self._filter(target, alpha, seeds)
        # confidence drops at once when motion starts (instantaneous energy) and recovers as the
        # motion energy decays after it stops
        confidence = np.minimum(np.exp(-0.5 * energy), weight)
        self._last_t_s = float(t_s[-1])
        lx, ly, lz = lp[:, 0], lp[:, 1], lp[:, 2]
        norms = np.sqrt(lx * lx + ly * ly + lz * lz)
        up = lp / norms[:, None]
        return OrientationBlock(t_s, up, confidence, confidence > self.rest_confidence)

    def _update_small(
        self, t_s: FloatArray, acc: FloatArray, target: FloatArray
    ) -> OrientationBlock:
        """:meth:`_update` for a live block without gaps or jerk term, in plain floats.

        Every operation is the one the vectorised path performs, in the same order (IEEE
        arithmetic is exact to repeat); the transcendental functions still run in numpy, whose
        implementations may differ from libm's, so the output is bit-identical to a batch run.
        """
        n = t_s.shape[0]
        g, inv_dev = GRAVITY_M_S2, self._inv_dev
        energy: list[float] = []
        for ax, ay, az in acc.tolist():
            scaled = abs(math.sqrt(ax * ax + ay * ay + az * az) - g) * inv_dev
            energy.append(scaled * scaled)
        smooth, self._energy_z = iir.lfilter_floats(
            self._energy_coeffs[0], self._energy_coeffs[1], energy, self._energy_z
        )
        # one numpy call for exp(-½ ē) (the weight) and exp(-½ e) (the confidence's other half)
        halves = np.exp([v * -0.5 for v in smooth + energy]).tolist()
        weight, instant = halves[:n], halves[n:]
        fast, slow = self._alpha_fast, self._alpha_slow
        alpha = [slow + w * (fast - slow) for w in weight]
        log_keep = np.log1p([-a for a in alpha]).tolist()
        rows = acc.tolist() if target is acc else target.tolist()
        y0, y1, y2 = self._y
        flat: list[float] = []
        i = 0
        while i < n:
            if self._pos == 0:
                self._y_base = [y0, y1, y2]
                self._log_decay = 0.0
                self._sum = [0.0, 0.0, 0.0]
            stop = min(n, i + _CHUNK - self._pos)
            logs: list[float] = []
            decay = self._log_decay
            for k in range(i, stop):
                decay = decay + log_keep[k]
                logs.append(decay)
            m = stop - i
            # exp(L) and exp(-L) in one call
            both = np.exp(logs + [-v for v in logs]).tolist()
            s0, s1, s2 = self._sum
            b0, b1, b2 = self._y_base
            for j in range(m):
                a = alpha[i + j]
                x0, x1, x2 = rows[i + j]
                e_inv = both[m + j]
                s0 = s0 + (a * x0) * e_inv
                s1 = s1 + (a * x1) * e_inv
                s2 = s2 + (a * x2) * e_inv
                e = both[j]
                y0 = e * (b0 + s0)
                y1 = e * (b1 + s1)
                y2 = e * (b2 + s2)
                norm = math.sqrt(y0 * y0 + y1 * y1 + y2 * y2)
                if norm == 0.0:  # all-zero readings: numpy's 0/0 is NaN, Python's raises
                    flat.extend((math.nan, math.nan, math.nan))
                else:
                    flat.extend((y0 / norm, y1 / norm, y2 / norm))
            self._log_decay = decay
            self._sum = [s0, s1, s2]
            self._pos = (self._pos + m) % _CHUNK
            i = stop
        self._y = [y0, y1, y2]
        self._last_t_s = float(t_s[-1])
        # np.minimum: NaN if either is NaN
        conf = [c if c < w or c != c else w for c, w in zip(instant, weight, strict=True)]
        confidence = np.array(conf, dtype=np.float64)
        up = np.array(flat, dtype=np.float64).reshape(n, 3)
        return OrientationBlock(t_s, up, confidence, confidence > self.rest_confidence)

    def _smooth_energy(self, energy: FloatArray, seeds: npt.NDArray[np.bool_]) -> FloatArray:
        """Motion energy low-passed with carried state; a (re)seed starts it at that sample."""
        b, a = self._energy_b, self._energy_a
        z = np.array(self._energy_z)
        if not seeds.any():
            out, z = iir.lfilter(b, a, energy, z)
            self._energy_z = z.tolist()
            return out
        out = np.empty_like(energy)
        bounds = [0, *np.flatnonzero(seeds).tolist(), energy.shape[0]]
        for lo, hi in itertools.pairwise(bounds):
            if lo == hi:
                continue
            if seeds[lo]:
                z = iir.lfilter_zi(b, a) * energy[lo]
            out[lo:hi], z = iir.lfilter(b, a, energy[lo:hi], z)
        self._energy_z = z.tolist()
        return out

    def _jerk(self, acc: FloatArray, seeds: npt.NDArray[np.bool_]) -> FloatArray:
        """``|a_k - a_{k-m}| / (m·Δt)``; after a (re)seed the baseline is the seed sample."""
        m = self._lag
        history = np.tile(acc[0], (m, 1)) if self._history is None else self._history
        ext = np.concatenate((history, acc))
        base = ext[: acc.shape[0]].copy()  # ext[k] is a_{k-m}
        seed_idx = np.flatnonzero(seeds) if seeds.any() else _NO_INDEX
        for s in seed_idx:
            base[s : s + m] = acc[s]
        diff = acc - base
        history = ext[-m:].copy()
        if seed_idx.size:
            # rows of the carried history from before the last seed act as the seed sample, so
            # the next block sees the same baseline as one long block would
            last = int(seed_idx[-1])
            rows = np.arange(acc.shape[0] - m, acc.shape[0])
            history[rows < last] = acc[last]
        self._history = history
        jerk: FloatArray = np.sqrt(np.einsum("ij,ij->i", diff, diff)) * (self.rate_hz / m)
        return jerk

    def _filter(self, x: FloatArray, gains: FloatArray, seeds: npt.NDArray[np.bool_]) -> FloatArray:
        """``y_k = (1-g_k) y_{k-1} + g_k x_k`` per column of ``x``, in closed form per segment.

        Within an internal chunk starting from ``y_base``: ``L_k = Σ log(1-g_j)``,
        ``S_k = Σ g_j x_j e^{-L_j}``, ``y_k = e^{L_k} (y_base + S_k)``. At a seed ``y = x``.
        """
        n = x.shape[0]
        out = np.empty_like(x)
        any_seeds = bool(seeds.any())
        if any_seeds:
            gains = gains.copy()
            gains[seeds] = 0.0  # a seed sample starts a chunk with y_base = x, so y = x exactly
        log_keep = np.log1p(-gains)[:, None]
        weighted = gains[:, None] * x
        i = 0
        while i < n:
            if seeds[i]:
                self._pos = 0
                self._y = x[i].tolist()
            if self._pos == 0:
                self._y_base = list(self._y)
                self._log_decay = 0.0
                self._sum = [0.0] * x.shape[1]
            stop = min(n, i + _CHUNK - self._pos)
            if any_seeds:
                later_seeds = np.flatnonzero(seeds[i + 1 : stop])
                if later_seeds.size:
                    stop = i + 1 + int(later_seeds[0])
            logs = np.cumsum(np.concatenate(([[self._log_decay]], log_keep[i:stop])), axis=0)[1:]
            terms = weighted[i:stop] * np.exp(-logs)
            sums = np.cumsum(np.concatenate(([self._sum], terms)), axis=0)[1:]
            seg = np.exp(logs) * (np.array(self._y_base) + sums)
            out[i:stop] = seg
            self._log_decay = float(logs[-1, 0])
            self._sum = sums[-1].tolist()
            self._y = seg[-1].tolist()
            self._pos = (self._pos + stop - i) % _CHUNK
            i = stop
        return out


def tilt_offline(
    block: SampleBlock,
    rate_hz: float,
    *,
    lever_arm_m: float = LEVER_ARM_M,
    params: Mapping[str, float] | None = None,
) -> OrientationBlock:
    """Non-causal gyro-less estimate: lever-arm compensation, then gated forward and backward
    passes averaged.

    1. The accelerometer on a trunk turning about the hip also feels the tangential acceleration
       ``α × r`` of its lever arm ``r``; for the inclination angle that reads as
       ``θ_meas ≈ θ − (r/g)·θ̈``, i.e. ``Θ_meas(ω) = (1 + ω²r/g)·Θ(ω)``. The exact inverse,
       ``1/(1 + ω²τ²)`` with ``τ = √(r/g)``, is a first-order low-pass run forward and then
       backward (zero phase): no lag, and it removes the bending error the raw accelerometer has.
    2. :class:`TiltFilter` passes forward and backward over the compensated signal, gated on the
       motion of the *raw* accelerometer (walking is averaged out, still and bending pass),
       averaged so their lags cancel. Confidence is the smaller of the two.

    Args:
        block: the recording.
        rate_hz: nominal sample rate, Hz.
        lever_arm_m: distance from the hip joint to the sensor, m (0 disables step 1).
        params: :class:`TiltFilter` keyword arguments; None uses :data:`OFFLINE_PARAMS`.
    """
    if len(block) == 0:
        return OrientationBlock.empty()
    kwargs = dict(OFFLINE_PARAMS if params is None else params)
    reseed_gap_s = float(kwargs.get("reseed_gap_s", RESEED_GAP_S))
    acc = np.ascontiguousarray(block.accel_m_s2, dtype=np.float64)
    compensated = _lever_arm_inverse(acc, block.t_s, rate_hz, lever_arm_m, reseed_gap_s)
    forward = TiltFilter(rate_hz, **kwargs)._update(block.t_s, acc, compensated)
    t_rev = np.ascontiguousarray(block.t_s[-1] - block.t_s[::-1])
    backward = TiltFilter(rate_hz, **kwargs)._update(
        t_rev, np.ascontiguousarray(acc[::-1]), np.ascontiguousarray(compensated[::-1])
    )
    up = forward.up_sensor + backward.up_sensor[::-1]
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    confidence = np.minimum(forward.confidence, backward.confidence[::-1])
    return OrientationBlock(block.t_s, up, confidence, forward.rest & backward.rest[::-1])


def _lever_arm_inverse(
    acc: FloatArray, t_s: FloatArray, rate_hz: float, lever_arm_m: float, reseed_gap_s: float
) -> FloatArray:
    """Zero-phase ``1/(1 + ω²r/g)``: one-pole low-pass (τ = √(r/g)) forward, then backward, each
    started in steady state; parts between gaps longer than ``reseed_gap_s`` are independent."""
    if lever_arm_m <= 0:
        return acc
    keep = math.exp(-1.0 / (rate_hz * math.sqrt(lever_arm_m / GRAVITY_M_S2)))
    b, a = np.array([1.0 - keep, 0.0]), np.array([1.0, -keep])
    zi = iir.lfilter_zi(b, a)[:, None]
    out = np.empty_like(acc)
    cuts = (np.flatnonzero(np.diff(t_s) > reseed_gap_s) + 1).tolist()
    for lo, hi in itertools.pairwise([0, *cuts, acc.shape[0]]):
        part = acc[lo:hi]
        fwd, _ = iir.lfilter(b, a, part, zi * part[0])
        back, _ = iir.lfilter(b, a, np.ascontiguousarray(fwd[::-1]), zi * fwd[-1])
        out[lo:hi] = back[::-1]
    return out
