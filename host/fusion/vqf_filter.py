"""Gyroscope + accelerometer fusion on ``vqf`` (the only module that imports it).

VQF (Laidig & Seel, Information Fusion 91:187–204, 2023, doi:10.1016/j.inffus.2022.10.014) is
the most accurate and among the fastest 6-axis filters measured on the BROAD benchmark
(``../shared/notes/fusion.md``). We use its 6D quaternion only (no magnetometer) and reduce it to
the up vector.

* :class:`VqfFilter`: causal, streaming (``VQF.updateBatch`` per block). ``updateBatch`` runs the
  same C++ per-sample update as ``update``, so any chunking gives bit-identical output.
* :func:`offline_vqf`: ``offlineVQF`` (forward-backward, non-causal) for re-processing recordings.

Gaps (time steps > :data:`~host.fusion.base.GAP_FACTOR` periods): VQF always integrates with the
nominal period, so a gap can never inject a huge ``dt``. A gap longer than
:data:`~host.fusion.base.RESEED_GAP_S` re-seeds the filter: its state is reset (the accelerometer
low-pass re-initialises from the running mean of the new samples) but the gyroscope bias estimate
is kept. Offline, the recording is cut at such gaps and each part is processed on its own.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from vqf import VQF, offlineVQF

from host.fusion.base import RESEED_GAP_S, OrientationBlock, quat_to_up
from host.samples import SampleBlock

__all__ = ["DEFAULT_PARAMS", "OFFLINE_PARAMS", "VqfFilter", "offline_vqf"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

# VQF defaults except a tighter prior on the gyroscope bias drift during motion (library default
# 0.1 °/s): a back-worn sensor rests for long stretches and moves slowly, so the bias learnt at
# rest deserves some more trust while moving. Measured side by side (bench/bench_fusion.py):
# online 0.05 °/s: BROAD mean inclination RMSE 0.574° → 0.559° (../shared/data/broad, the test
#   data itself, so read it as "not worse" rather than as a tuned gain); simulated desk days with
#   broadband sway (2 h, seeds 11/12) flexion RMSE 0.108°/0.117° → 0.107°/0.119°, i.e. equal.
#   0.02 was chosen first, against the simulator's earlier smooth sum-of-sinusoids sway, where it
#   looked far better (0.39° → 0.16°); with realistic broadband sway it is worse than raw
#   (0.113°/0.132°, bending 0.27° vs 0.19-0.23°), so that gain was an artefact of the sway model.
# offline 0.05 °/s: the forward-backward pass already uses the future; tighter priors make BROAD
#   worse than raw offlineVQF (0.02: 0.397° vs 0.396°), 0.05 gives 0.395°.
DEFAULT_PARAMS: Mapping[str, float | bool] = {"biasSigmaMotion": 0.05}
OFFLINE_PARAMS: Mapping[str, float | bool] = {"biasSigmaMotion": 0.05}


def _params(
    params: Mapping[str, float | bool] | None,
    default: Mapping[str, float | bool] = DEFAULT_PARAMS,
) -> dict[str, float | bool]:
    return dict(default if params is None else params)


def _reseed_starts(t_s: FloatArray, last_t_s: float | None, reseed_gap_s: float) -> list[int]:
    """Indices where a gap longer than ``reseed_gap_s`` ends (0 if the block starts after one)."""
    if t_s.shape[0] == 0:
        return []
    if last_t_s is not None and float(t_s[-1]) - last_t_s <= reseed_gap_s:
        return []  # the whole block spans less than a gap (the usual live case): no scan
    if last_t_s is None:
        steps = np.diff(t_s)
        return [int(i) + 1 for i in np.flatnonzero(steps > reseed_gap_s)]
    steps = np.diff(t_s, prepend=last_t_s)
    return [int(i) for i in np.flatnonzero(steps > reseed_gap_s)]


def _ones(n: int) -> FloatArray:
    """``np.ones(n)`` (a fresh array) at a fraction of its per-call cost for live blocks."""
    out = np.empty(n)
    out.fill(1.0)
    return out


class VqfFilter:
    """Causal 6-axis VQF, fed block by block.

    Args:
        rate_hz: nominal sample rate of the stream, Hz.
        params: VQF parameters (``VQFParams`` names); None uses :data:`DEFAULT_PARAMS`, ``{}``
            the library defaults (raw vqf).
        reseed_gap_s: gaps longer than this re-seed the estimate from the accelerometer.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        params: Mapping[str, float | bool] | None = None,
        reseed_gap_s: float = RESEED_GAP_S,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, not {rate_hz}")
        self.period_s = 1.0 / rate_hz
        self.params = _params(params)
        self.reseed_gap_s = reseed_gap_s
        self._vqf = VQF(self.period_s, **self.params)
        self._last_t_s: float | None = None
        self.reseeds = 0

    def reset(self) -> None:
        """Forget everything, as if newly created."""
        self._vqf = VQF(self.period_s, **self.params)
        self._last_t_s = None
        self.reseeds = 0

    @property
    def gyro_bias_rad_s(self) -> FloatArray:
        """Current gyroscope bias estimate (3,), rad/s, sensor frame."""
        bias, _sigma = self._vqf.getBiasEstimate()
        return np.asarray(bias, dtype=np.float64)

    def update(self, block: SampleBlock) -> OrientationBlock:
        """Process the next block (see :class:`~host.fusion.base.OrientationFilter`).

        Raises:
            ValueError: the block has no gyroscope data (use the tilt filter).
        """
        if block.gyro_rad_s is None:
            raise ValueError("VqfFilter needs gyroscope data; use host.fusion.tilt.TiltFilter")
        n = len(block)
        if n == 0:
            return OrientationBlock.empty()
        gyr = np.ascontiguousarray(block.gyro_rad_s, dtype=np.float64)
        acc = np.ascontiguousarray(block.accel_m_s2, dtype=np.float64)
        t_s = block.t_s
        last_t_s = self._last_t_s
        end_t_s = float(t_s[-1])
        self._last_t_s = end_t_s
        if last_t_s is not None and end_t_s - last_t_s <= self.reseed_gap_s:
            # the usual live case: the whole block spans less than a gap, nothing to scan
            out = self._vqf.updateBatch(gyr, acc)
            return OrientationBlock(t_s, quat_to_up(out["quat6D"]), _ones(n), out["restDetected"])
        starts = _reseed_starts(t_s, last_t_s, self.reseed_gap_s)
        if not starts:
            out = self._vqf.updateBatch(gyr, acc)
            return OrientationBlock(t_s, quat_to_up(out["quat6D"]), _ones(n), out["restDetected"])
        quats: list[FloatArray] = []
        rests: list[npt.NDArray[np.bool_]] = []
        bounds = sorted({0, *starts, n})
        for lo, hi in itertools.pairwise(bounds):
            if lo in starts:
                self._reseed(float(block.t_s[lo]))
            out = self._vqf.updateBatch(gyr[lo:hi], acc[lo:hi])
            quats.append(out["quat6D"])
            rests.append(out["restDetected"])
        return OrientationBlock(
            t_s, quat_to_up(np.concatenate(quats)), _ones(n), np.concatenate(rests)
        )

    def _reseed(self, t_s: float) -> None:
        bias, sigma = self._vqf.getBiasEstimate()
        self._vqf.resetState()
        self._vqf.setBiasEstimate(np.ascontiguousarray(bias, dtype=np.float64), float(sigma))
        self.reseeds += 1
        logger.info("gap in the data before t=%.3f s: orientation re-seeded", t_s)


def offline_vqf(
    block: SampleBlock,
    rate_hz: float,
    *,
    params: Mapping[str, float | bool] | None = None,
    reseed_gap_s: float = RESEED_GAP_S,
) -> OrientationBlock:
    """Non-causal (forward-backward) VQF over a whole recording.

    Args:
        block: the recording; must have gyroscope data.
        rate_hz: nominal sample rate, Hz.
        params: VQF parameters; None uses :data:`OFFLINE_PARAMS`, ``{}`` the library defaults.
        reseed_gap_s: the recording is processed in independent parts split at longer gaps.

    Raises:
        ValueError: no gyroscope data.
    """
    if block.gyro_rad_s is None:
        raise ValueError("offline_vqf needs gyroscope data")
    n = len(block)
    if n == 0:
        return OrientationBlock.empty()
    period_s = 1.0 / rate_hz
    gyr = np.ascontiguousarray(block.gyro_rad_s, dtype=np.float64)
    acc = np.ascontiguousarray(block.accel_m_s2, dtype=np.float64)
    bounds = [0, *_reseed_starts(block.t_s, None, reseed_gap_s), n]
    quats: list[FloatArray] = []
    rests: list[npt.NDArray[np.bool_]] = []
    par = _params(params, OFFLINE_PARAMS)
    for lo, hi in itertools.pairwise(bounds):
        out = offlineVQF(gyr[lo:hi], acc[lo:hi], None, period_s, par)
        quats.append(out["quat6D"])
        rests.append(out["restDetected"])
    return OrientationBlock(
        block.t_s, quat_to_up(np.concatenate(quats)), np.ones(n), np.concatenate(rests)
    )
