"""Fusion: IMU samples → the up vector (direction opposite gravity) in the sensor frame.

``create_filter`` gives the causal filter the live pipeline uses (VQF 6D with a gyroscope, the
motion-gated tilt filter without); ``estimate_offline`` re-processes a whole recording
non-causally (offlineVQF, or without gyroscope a zero-phase lever-arm compensation followed by
forward and backward tilt-filter passes).
"""

from __future__ import annotations

import numpy as np

from host.fusion.base import OrientationBlock, OrientationFilter, quat_to_up
from host.fusion.tilt import TiltFilter, tilt_offline
from host.fusion.vqf_filter import VqfFilter, offline_vqf
from host.samples import SampleBlock

__all__ = [
    "OrientationBlock",
    "OrientationFilter",
    "TiltFilter",
    "VqfFilter",
    "create_filter",
    "estimate_offline",
    "nominal_rate_hz",
    "quat_to_up",
]


def create_filter(rate_hz: float, *, gyro: bool) -> OrientationFilter:
    """The causal filter for a live stream.

    Args:
        rate_hz: nominal sample rate of the stream, Hz.
        gyro: whether the stream has gyroscope data.
    """
    if gyro:
        return VqfFilter(rate_hz)
    return TiltFilter(rate_hz)


def nominal_rate_hz(t_s: np.ndarray) -> float:
    """Nominal sample rate from sample times: 1 / median step (robust to gaps and jitter),
    snapped to the nearest integer when within 0.1 %.

    Raises:
        ValueError: fewer than two samples.
    """
    if t_s.shape[0] < 2:
        raise ValueError("need at least two samples to know the sample rate")
    rate = 1.0 / float(np.median(np.diff(t_s)))
    # devices announce integer rates (protocol: u16 Hz); snapping to it makes a re-analysed
    # recording use the very period the live filter used
    nearest = round(rate)
    return float(nearest) if nearest > 0 and abs(rate - nearest) <= 1e-3 * rate else rate


def estimate_offline(block: SampleBlock, rate_hz: float | None = None) -> OrientationBlock:
    """Non-causal estimate over a whole recording (better than live; not what live showed).

    Args:
        block: the recording (gyroscope optional).
        rate_hz: nominal sample rate, Hz; default: from the sample times.
    """
    if len(block) == 0:
        return OrientationBlock.empty()
    if rate_hz is None:
        # a single sample has no rate; any value gives the same (accelerometer) estimate
        rate_hz = nominal_rate_hz(block.t_s) if len(block) > 1 else 100.0
    rate = rate_hz
    if block.gyro_rad_s is not None:
        return offline_vqf(block, rate)
    return tilt_offline(block, rate)
