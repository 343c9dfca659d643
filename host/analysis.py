"""Samples → up vector → trunk angles: the one pipeline shared by live use and offline analysis
(pure: no I/O, no wall clock).

:class:`LiveAnalyzer` is what the live engine feeds block by block; :func:`analyze` runs a whole
recording. Without ``offline`` it *is* a LiveAnalyzer fed the recording as one block, and since
the filters give identical output for any chunking, ``posture analyze`` writes exactly what the
live pipeline showed. With ``offline`` it uses the non-causal estimators (better, not live).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from calibration.model import Calibration
from host.fusion import OrientationBlock, create_filter, estimate_offline, nominal_rate_hz
from host.samples import SampleBlock

__all__ = ["Analysis", "LiveAnalyzer", "analyze"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Analysis:
    """Trunk angles per sample.

    Attributes:
        orientation: the fusion output (times, up vector in the sensor frame, confidence, rest).
        flexion_deg: (N,) forward flexion relative to the calibrated neutral, degrees; NaN
            without a calibration.
        lateral_deg: (N,) lateral bend, positive to the wearer's right, degrees; NaN without a
            calibration.
    """

    orientation: OrientationBlock
    flexion_deg: FloatArray
    lateral_deg: FloatArray

    def __len__(self) -> int:
        return len(self.orientation)

    @property
    def t_s(self) -> FloatArray:
        """(N,) sample times, s."""
        return self.orientation.t_s

    @staticmethod
    def concatenate(parts: list[Analysis]) -> Analysis:
        """Join analyses of consecutive blocks."""
        if len(parts) == 1:
            return parts[0]
        return Analysis(
            OrientationBlock.concatenate([p.orientation for p in parts]),
            np.concatenate([p.flexion_deg for p in parts]) if parts else np.zeros(0),
            np.concatenate([p.lateral_deg for p in parts]) if parts else np.zeros(0),
        )


def _corrected(block: SampleBlock, calibration: Calibration | None) -> SampleBlock:
    """Apply the calibration's sensor corrections (accelerometer offset/scale, gyro bias)."""
    if calibration is None or not calibration.has_sensor_corrections:
        return block
    gyro = None if block.gyro_rad_s is None else calibration.correct_gyro(block.gyro_rad_s)
    return SampleBlock(block.t_s, calibration.correct_accel(block.accel_m_s2), gyro, block.seq)


def _angles(
    orientation: OrientationBlock, calibration: Calibration | None
) -> tuple[FloatArray, FloatArray]:
    if calibration is None:
        nan = np.full(len(orientation), np.nan)
        return nan, nan.copy()
    return calibration.angles(orientation.up_sensor)


class LiveAnalyzer:
    """Causal per-block analysis, as the live engine runs it.

    Args:
        rate_hz: nominal sample rate of the stream, Hz.
        gyro: use the gyroscope (VQF); False selects the accelerometer-only tilt filter.
        calibration: mounting (and sensor) calibration; None gives NaN angles.
    """

    def __init__(self, rate_hz: float, *, gyro: bool, calibration: Calibration | None) -> None:
        self.rate_hz = rate_hz
        self.gyro = gyro
        self.calibration = calibration
        self._filter = create_filter(rate_hz, gyro=gyro)

    def update(self, block: SampleBlock) -> Analysis:
        """Analyse the next block (times continue the previous block's).

        Raises:
            ValueError: ``gyro`` was requested but the block has no gyroscope data.
        """
        orientation = self._filter.update(_corrected(block, self.calibration))
        flexion_deg, lateral_deg = _angles(orientation, self.calibration)
        return Analysis(orientation, flexion_deg, lateral_deg)

    def set_calibration(self, calibration: Calibration | None) -> None:
        """Use another calibration from the next block on (the fusion state is kept)."""
        self.calibration = calibration

    def reset(self) -> None:
        """Restart the fusion filter (e.g. a new session on the same analyzer)."""
        self._filter.reset()


def analyze(
    samples: SampleBlock,
    calibration: Calibration | None,
    *,
    offline: bool = False,
    rate_hz: float | None = None,
) -> Analysis:
    """Analyse a whole recording.

    Args:
        samples: the recording (gyroscope optional: without it the tilt filter is used).
        calibration: mounting calibration, or None (angles are NaN).
        offline: use the non-causal estimators (offlineVQF / forward-backward tilt) instead of
            reproducing the live pipeline.
        rate_hz: nominal sample rate, Hz; default: 1 / median sample step.
    """
    if len(samples) == 0:
        empty = OrientationBlock.empty()
        return Analysis(empty, np.zeros(0), np.zeros(0))
    if rate_hz is None:
        rate_hz = nominal_rate_hz(samples.t_s) if len(samples) > 1 else 100.0
    if offline:
        orientation = estimate_offline(_corrected(samples, calibration), rate_hz)
        flexion_deg, lateral_deg = _angles(orientation, calibration)
        return Analysis(orientation, flexion_deg, lateral_deg)
    analyzer = LiveAnalyzer(rate_hz, gyro=samples.has_gyro, calibration=calibration)
    return analyzer.update(samples)
