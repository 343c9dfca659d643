"""TiltFilter (gyro-less): accuracy at rest, confidence while moving, chunking, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.synthetic import desk_motion, random_rotation, synthesize
from host.fusion import create_filter, estimate_offline
from host.fusion.base import OrientationBlock
from host.fusion.tilt import TiltFilter, tilt_offline
from host.samples import SampleBlock

RATE_HZ = 100.0


@pytest.fixture(scope="module")
def day():  # type: ignore[no-untyped-def]
    t, flex, lat, head, walk, act = desk_motion(200.0, RATE_HZ, seed=7)
    mount = random_rotation(np.random.default_rng(8))
    return synthesize(
        t, flex, lat, head, r_bs=mount, walking=walk, gyro=False, seed=9, activity=act
    )


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=1), -1.0, 1.0)))


def test_created_for_gyroless_streams() -> None:
    assert isinstance(create_filter(50.0, gyro=False), TiltFilter)


def test_static_orientation_is_exact_up_to_noise() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        up = random_rotation(rng)[:, 2]
        n = 500
        acc = 9.80665 * up + rng.normal(0, 0.02, (n, 3))
        out = TiltFilter(RATE_HZ).update(SampleBlock(np.arange(n) / RATE_HZ, acc))
        assert _angle_deg(out.up_sensor[100:], np.tile(up, (n - 100, 1))).max() < 0.3
        assert np.all(out.confidence[50:] > 0.9)
        assert out.rest[50:].all()


def test_any_chunking_gives_identical_output(day) -> None:  # type: ignore[no-untyped-def]
    block = day.samples
    batch = TiltFilter(RATE_HZ).update(block)
    rng = np.random.default_rng(2)
    filt = TiltFilter(RATE_HZ)
    parts, i = [], 0
    while i < len(block):
        size = int(rng.integers(1, 700))  # across the 256-sample internal chunks
        parts.append(filt.update(block.slice(i, i + size)))
        i += size
    chunked = OrientationBlock.concatenate(parts)
    assert np.array_equal(chunked.up_sensor, batch.up_sensor)
    assert np.array_equal(chunked.confidence, batch.confidence)
    assert np.array_equal(chunked.rest, batch.rest)


def test_confidence_drops_while_walking_and_recovers(day) -> None:  # type: ignore[no-untyped-def]
    out = TiltFilter(RATE_HZ).update(day.samples)
    walking = day.activity == "walking"
    still = day.activity == "still"
    assert np.median(out.confidence[walking]) < 0.5
    assert np.median(out.confidence[still]) > 0.95
    assert out.confidence.min() >= 0.0
    assert out.confidence.max() <= 1.0
    # accuracy where it claims confidence
    err = _angle_deg(out.up_sensor, day.up_sensor)
    assert np.sqrt(np.mean(err[still] ** 2)) < 0.5
    assert np.sqrt(np.mean(err[out.confidence > 0.9] ** 2)) < 1.5


def test_offline_cancels_lag(day) -> None:  # type: ignore[no-untyped-def]
    online = TiltFilter(RATE_HZ).update(day.samples)
    offline = estimate_offline(day.samples, RATE_HZ)
    bending = day.activity == "bending"
    e_on = _angle_deg(online.up_sensor, day.up_sensor)[bending]
    e_off = _angle_deg(offline.up_sensor, day.up_sensor)[bending]
    assert np.sqrt(np.mean(e_off**2)) < np.sqrt(np.mean(e_on**2))
    assert len(tilt_offline(day.samples.slice(0, 0), RATE_HZ)) == 0


def test_long_gap_reseeds() -> None:
    rng = np.random.default_rng(3)
    up_a, up_b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    acc = np.vstack([np.tile(9.81 * up_a, (300, 1)), np.tile(9.81 * up_b, (300, 1))])
    acc += rng.normal(0, 0.02, acc.shape)
    t = np.r_[np.arange(300), np.arange(300) + 800] / RATE_HZ  # 5 s outage
    out = TiltFilter(RATE_HZ).update(SampleBlock(t, acc))
    assert _angle_deg(out.up_sensor[300:301], up_b[None, :])[0] < 1.0  # right at once
    assert np.all(np.isfinite(out.up_sensor))
