"""Offline generation of a simulated recording with its ground truth (pure computation).

Renders the same samples the live :class:`~device_sim.firmware.SimDevice` would stream for the
same seed (same blocks, same noise, same int16 quantisation at ±8 g / ±2000 °/s), as one
:class:`~host.samples.SampleBlock` in SI units plus a row-aligned :class:`~device_sim.truth.Truth`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from device_sim import quat
from device_sim.firmware import SimDevice
from device_sim.imu_model import BLOCK, LEVER_ARM_BODY_M, ErrorModel, _Stream, quantise
from device_sim.truth import Truth, episodes_from_truth
from host.samples import SampleBlock

__all__ = ["CHUNK_BLOCKS", "Generated", "generate"]

CHUNK_BLOCKS = 64  # blocks rendered per step (≈11 min at 100 Hz)


@dataclass(frozen=True, slots=True, eq=False)
class Generated:
    """A generated recording: samples (SI, sensor frame), truth (same rows), sidecar metadata."""

    samples: SampleBlock
    truth: Truth
    meta: dict[str, Any]


def generate(
    scenario: str,
    *,
    seed: int = 0,
    rate_hz: int = 100,
    minutes: float | None = None,
    gyro: bool = True,
    random_mount: bool = False,
    errors: ErrorModel | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Generated:
    """Generate ``minutes`` (default: the scenario's length) of a scenario.

    Args:
        progress: called with (samples done, samples total) after each chunk.

    Raises:
        ConfigError: unknown scenario, rate outside 25–1000 Hz, non-positive minutes.
    """
    device = SimDevice(
        scenario, seed=seed, rate_hz=rate_hz, gyro=gyro, random_mount=random_mount, errors=errors
    )
    from host.errors import ConfigError

    duration_s = device.motion.default_duration_s if minutes is None else minutes * 60.0
    if not duration_s > 0 or not math.isfinite(duration_s):
        raise ConfigError(f"--minutes must be positive, not {minutes}")
    total = int(duration_s * rate_hz)
    imu = device.imu
    stream = _Stream(0, 0, 0.0, float(rate_hz))
    config = device.config()
    accel_scale, gyro_scale = config.accel_scale_m_s2, config.gyro_scale_rad_s
    accel_parts, gyro_parts, tick_parts, truth_parts = [], [], [], []
    saturated = 0
    done = 0
    block = 0
    while done < total:
        n_blocks = min(CHUNK_BLOCKS, -(-(total - done) // BLOCK))
        r = imu.render(stream, block, n_blocks)
        keep = min(total - done, n_blocks * BLOCK)
        counts, sat = quantise(r.accel_m_s2[:keep], accel_scale)
        accel_parts.append(counts.astype(np.float64) * accel_scale)
        saturated += int(sat.sum())
        if r.gyro_rad_s is not None:
            g_counts, g_sat = quantise(r.gyro_rad_s[:keep], gyro_scale)
            gyro_parts.append(g_counts.astype(np.float64) * gyro_scale)
            saturated += int(g_sat.sum())
        tick_parts.append(r.ticks[:keep])
        truth_parts.append(r.truth.select(slice(0, keep)))
        done += keep
        block += n_blocks
        if progress is not None:
            progress(done, total)
    ticks = np.concatenate(tick_parts)
    t_s = (ticks - ticks[0]) / 1e6
    samples = SampleBlock(
        t_s,
        np.concatenate(accel_parts),
        np.concatenate(gyro_parts) if gyro_parts else None,
        np.arange(total, dtype=np.int64),
    )
    truth = replace(Truth.concatenate(truth_parts), t_s=t_s)
    q_bs = imu.mount_q_bs
    meta: dict[str, Any] = {
        "scenario": scenario,
        "seed": seed,
        "rate_hz": rate_hz,
        "duration_s": total / rate_hz,
        "samples": total,
        "gyro": gyro,
        "random_mount": random_mount,
        "mount_q_bs_wxyz": (np.round(q_bs, 9) + 0.0).tolist(),
        "mount_R_bs": (np.round(quat.to_matrix(q_bs), 9) + 0.0).tolist(),
        "mount_note": "R_bs maps sensor-frame vectors to the body frame (x anterior, y left, z up)",
        "lever_arm_body_m": LEVER_ARM_BODY_M.tolist(),
        "accel_range_g": config.accel_range_g,
        "gyro_range_dps": config.gyro_range_dps,
        "accel_scale_m_s2": accel_scale,
        "gyro_scale_rad_s": gyro_scale,
        "saturated_values": saturated,
        "error_model": imu.error_model.to_dict(),
        "device_errors": imu.device.to_dict(),
        "time_note": "t is device time from the sample timestamps (clock error and jitter "
        "included); truth rows align with data rows",
        "slouch_episodes": episodes_from_truth(truth),
        "calibration_windows": {"neutral": [2.0, 8.0], "forward": [12.0, 16.0]},
    }
    return Generated(samples, truth, meta)
