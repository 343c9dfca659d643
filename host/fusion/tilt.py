"""Accelerometer-only inclination for sensors without a gyroscope (pure numpy).

An accelerometer measures gravity plus the body's own acceleration; only the first tells us the
inclination. Without a gyroscope we cannot separate them while moving, so we:

* **gate on motion**: a per-sample stillness weight ``w = exp(-½((dev/σ_dev)² + (jerk/σ_jerk)²))``
  from the deviation of ``|a|`` from g (linear acceleration changes the magnitude) and the jerk
  over 50 ms
  ``|Δa|/Δt`` (turning and shaking change the vector quickly);
* **low-pass adaptively**: ``y_k = (1-α_k) y_{k-1} + α_k a_k`` with a short time constant when
  still (``tau_fast_s``: follows posture changes without lag) and a long one while moving
  (``tau_slow_s``: averages walking accelerations out instead of following them);
* **report confidence**: ``min(w_k, low-passed w)``, which drops at once when motion starts and
  recovers over ``confidence_tau_s`` after it stops.

Expect ≈ 0.2–0.3° when still and several degrees while walking or bending fast
(``../shared/notes/fusion.md`` §5). Defaults were chosen on a simulated 2-hour desk day
(``device_sim``, random mounting, calibrated; flexion RMSE, raw normalised accelerometer in
brackets): still 0.16° (0.17°), walking 1.9° (4.7°), bending 2.2° (2.0°). Hand-held fast
rotations (BROAD) defeat any accelerometer-only estimate; there the gating makes it worse than
raw. Offline, :func:`tilt_offline` averages a forward and a backward pass, which cancels most of
the low-pass lag.

Streaming and batch give identical output for any chunking: the time-varying recursion is
evaluated in closed form over internal chunks of :data:`_CHUNK` samples whose boundaries depend
only on the sample index since the last (re)seed, and every prefix sum is a sequential
``cumsum`` continued from carried state, so the floating-point operations are the same whatever
the block boundaries.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from host.fusion.base import RESEED_GAP_S, OrientationBlock
from host.samples import SampleBlock

__all__ = ["TiltFilter", "tilt_offline"]

FloatArray = npt.NDArray[np.float64]

GRAVITY_M_S2 = 9.80665
# The closed form divides by the accumulated decay; renormalising every 256 samples keeps it
# far inside double range (decay per sample ≥ 0.5, so ≤ 2^256 ≈ 1e77).
_CHUNK = 256
_MAX_ALPHA = 0.5
_JERK_BASELINE_S = 0.05
_NO_INDEX = np.zeros(0, np.intp)


class TiltFilter:
    """Causal accelerometer-only up-vector estimator with motion gating.

    Args:
        rate_hz: nominal sample rate, Hz.
        tau_fast_s: low-pass time constant when still, s.
        tau_slow_s: low-pass time constant while moving, s.
        accel_dev_m_s2: scale σ_dev of ``| |a| - g |`` in the stillness weight, m/s².
        jerk_m_s3: scale σ_jerk of the jerk in the stillness weight, m/s³.
        confidence_tau_s: recovery time constant of the confidence after motion, s.
        rest_confidence: confidence above which a sample counts as "at rest".
        reseed_gap_s: after a longer gap the estimate restarts from the next sample.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        tau_fast_s: float = 0.01,
        tau_slow_s: float = 1.0,
        accel_dev_m_s2: float = 0.5,
        jerk_m_s3: float = 15.0,
        confidence_tau_s: float = 0.5,
        rest_confidence: float = 0.9,
        reseed_gap_s: float = RESEED_GAP_S,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, not {rate_hz}")
        self.rate_hz = float(rate_hz)
        period_s = 1.0 / rate_hz
        self._alpha_fast = min(_MAX_ALPHA, 1.0 - math.exp(-period_s / tau_fast_s))
        self._alpha_slow = min(_MAX_ALPHA, 1.0 - math.exp(-period_s / tau_slow_s))
        self._beta = min(_MAX_ALPHA, 1.0 - math.exp(-period_s / confidence_tau_s))
        self._inv_dev = 1.0 / accel_dev_m_s2
        self._inv_jerk = 1.0 / jerk_m_s3
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
        # recursion state, columns: filtered acceleration (3, m/s²), confidence low-pass (1)
        self._y = np.zeros(4)
        self._pos = 0  # index within the current internal chunk
        self._y_base = np.zeros(4)
        self._log_decay = np.zeros(4)
        self._sum = np.zeros(4)

    def update(self, block: SampleBlock) -> OrientationBlock:
        """Process the next block; gyroscope data, if any, is ignored."""
        n = len(block)
        if n == 0:
            return OrientationBlock.empty()
        acc = np.asarray(block.accel_m_s2, dtype=np.float64)
        t_s = block.t_s
        seeds = np.zeros(n, bool)
        if self._last_t_s is None or self._history is None:
            seeds[0] = True
        else:
            seeds[0] = t_s[0] - self._last_t_s > self.reseed_gap_s
        if n > 1 and float(t_s[-1] - t_s[0]) > self.reseed_gap_s:  # else no step can be a gap
            seeds[1:] = np.diff(t_s) > self.reseed_gap_s
        jerk = self._jerk(acc, seeds)
        dev = np.abs(np.sqrt(np.einsum("ij,ij->i", acc, acc)) - GRAVITY_M_S2)
        weight = np.exp(-0.5 * ((dev * self._inv_dev) ** 2 + (jerk * self._inv_jerk) ** 2))
        alpha = self._alpha_slow + weight * (self._alpha_fast - self._alpha_slow)
        # one recursion for the acceleration (adaptive α) and the confidence low-pass (fixed β)
        x = np.empty((n, 4))
        x[:, :3] = acc
        x[:, 3] = weight
        gains = np.empty((n, 4))
        gains[:, :3] = alpha[:, None]
        gains[:, 3] = self._beta
        y = self._filter(x, gains, seeds)
        confidence = np.minimum(weight, y[:, 3])
        self._last_t_s = float(t_s[-1])
        lp = y[:, :3]
        norms = np.sqrt(np.einsum("ij,ij->i", lp, lp))
        up = lp / norms[:, None]
        return OrientationBlock(t_s, up, confidence, confidence > self.rest_confidence)

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
        """``y_k = (1-g_k) y_{k-1} + g_k x_k`` per column, in closed form segment by segment.

        Within an internal chunk starting from ``y_base``: ``L_k = Σ log(1-g_j)``,
        ``S_k = Σ g_j x_j e^{-L_j}``, ``y_k = e^{L_k} (y_base + S_k)``. At a seed ``y = x``.
        """
        n = x.shape[0]
        out = np.empty_like(x)
        any_seeds = bool(seeds.any())
        if any_seeds:
            gains = gains.copy()
            gains[seeds] = 0.0  # a seed sample starts a chunk with y_base = x, so y = x exactly
        log_keep = np.log1p(-gains)
        i = 0
        while i < n:
            if seeds[i]:
                self._pos = 0
                self._y = x[i].copy()
            if self._pos == 0:
                self._y_base = self._y.copy()
                self._log_decay = np.zeros(x.shape[1])
                self._sum = np.zeros(x.shape[1])
            stop = min(n, i + _CHUNK - self._pos)
            if any_seeds:
                later_seeds = np.flatnonzero(seeds[i + 1 : stop])
                if later_seeds.size:
                    stop = i + 1 + int(later_seeds[0])
            logs = np.cumsum(np.concatenate((self._log_decay[None, :], log_keep[i:stop])), axis=0)[
                1:
            ]
            terms = gains[i:stop] * np.exp(-logs) * x[i:stop]
            sums = np.cumsum(np.concatenate((self._sum[None, :], terms)), axis=0)[1:]
            seg = np.exp(logs) * (self._y_base + sums)
            out[i:stop] = seg
            self._log_decay = logs[-1].copy()
            self._sum = sums[-1].copy()
            self._y = seg[-1].copy()
            self._pos = (self._pos + stop - i) % _CHUNK
            i = stop
        return out


def tilt_offline(block: SampleBlock, rate_hz: float, **kwargs: float) -> OrientationBlock:
    """Non-causal gyro-less estimate: mean of a forward and a backward :class:`TiltFilter` pass.

    The low-pass lag of the two passes has opposite signs, so their mean follows posture
    changes with little delay; confidence is the smaller of the two.

    Args:
        block: the recording.
        rate_hz: nominal sample rate, Hz.
        **kwargs: passed to :class:`TiltFilter`.
    """
    if len(block) == 0:
        return OrientationBlock.empty()
    forward = TiltFilter(rate_hz, **kwargs).update(block)
    t_rev = block.t_s[-1] - block.t_s[::-1]
    backward = TiltFilter(rate_hz, **kwargs).update(
        SampleBlock(np.ascontiguousarray(t_rev), np.ascontiguousarray(block.accel_m_s2[::-1]))
    )
    up = forward.up_sensor + backward.up_sensor[::-1]
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    confidence = np.minimum(forward.confidence, backward.confidence[::-1])
    return OrientationBlock(block.t_s, up, confidence, forward.rest & backward.rest[::-1])
