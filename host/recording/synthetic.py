"""Synthetic wear days with known answers, for tests and benchmarks (pure, seeded).

A day is a list of :class:`Segment` s (activity, constant flexion, duration). From it come raw
samples a perfectly mounted sensor would produce (nominal lumbar mounting, docs/protocol.md:
sensor x up the spine, z out of the back, so at flexion θ the accelerometer reads
g·(cos θ, 0, sin θ) plus noise) and the per-sample posture the pipeline should output. Because
every figure of a segment list is known exactly (time per activity, per zone, episode lengths),
statistics can be checked against it. For physically realistic motion use ``device_sim``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from host.posture import PostureBlock, PostureConfig, zone_of
from host.samples import SampleBlock

__all__ = ["Segment", "desk_day", "slice_posture", "synthesize"]

FloatArray = npt.NDArray[np.float64]
GRAVITY_M_S2 = 9.80665
SITTING, STANDING, WALKING = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of constant posture: ``duration_s`` seconds of ``activity`` at ``flexion_deg``."""

    duration_s: float
    activity: int
    flexion_deg: float


def slice_posture(posture: PostureBlock, start: int, stop: int) -> PostureBlock:
    """Samples ``start:stop`` of a posture block (views)."""
    return PostureBlock(*(getattr(posture, f)[start:stop] for f in PostureBlock.__slots__))


def synthesize(
    segments: list[Segment], *, rate_hz: float = 100.0, seed: int = 0, gyro: bool = True
) -> tuple[SampleBlock, PostureBlock]:
    """Raw samples and posture for a segment list starting at t = 0.

    Args:
        segments: the day.
        rate_hz: sample rate, Hz.
        seed: noise seed.
        gyro: include gyroscope channels.
    """
    counts = [round(s.duration_s * rate_hz) for s in segments]
    n = int(sum(counts))
    t = np.arange(n) / rate_hz
    flex = np.repeat([s.flexion_deg for s in segments], counts).astype(np.float64)
    activity = np.repeat([s.activity for s in segments], counts).astype(np.int8)
    rng = np.random.default_rng(seed)
    theta = np.radians(flex)
    accel = GRAVITY_M_S2 * np.stack([np.cos(theta), np.zeros(n), np.sin(theta)], axis=1)
    accel += rng.normal(0.0, 0.02, (n, 3))
    walking = activity == WALKING
    accel[walking, 0] += 1.5 * np.sin(2 * np.pi * 1.8 * t[walking])
    gyro_rad_s = rng.normal(0.0, 0.005, (n, 3)) if gyro else None
    starts = np.repeat(np.cumsum([0, *counts[:-1]]), counts)
    dwell = (np.arange(n) - starts) / rate_hz
    # zones exactly as the live tracker draws them (without its hysteresis: values are constant)
    zone = zone_of(flex, PostureConfig())
    posture = PostureBlock(t, flex, np.zeros(n), zone, activity, dwell, np.ones(n))  # fmt: skip
    return SampleBlock(t, accel, gyro_rad_s, np.arange(n, dtype=np.int64)), posture


def desk_day(hours: float = 8.0, seed: int = 0) -> list[Segment]:
    """A plausible office day of exactly ``hours``: sitting bouts at various flexions, breaks
    standing and walking (the last segment is cut to fit)."""
    rng = np.random.default_rng(seed)
    segments: list[Segment] = []
    total, limit = 0.0, hours * 3600.0

    def add(segment: Segment) -> None:
        nonlocal total
        d = min(segment.duration_s, limit - total)
        if d > 0:
            segments.append(Segment(d, segment.activity, segment.flexion_deg))
            total += d

    while total < limit:
        left = float(rng.choice([12.0, 25.0, 40.0, 75.0])) * 60.0
        while left > 0:
            d = float(min(left, rng.uniform(60.0, 600.0)))
            add(Segment(d, SITTING, float(rng.choice([2.0, 8.0, 15.0, 25.0, 35.0, 50.0]))))
            left -= d
        add(Segment(float(rng.uniform(60, 240)), STANDING, 3.0))
        add(Segment(float(rng.uniform(60, 300)), WALKING, 5.0))
    return segments
