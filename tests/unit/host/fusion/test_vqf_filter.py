"""VqfFilter / offline_vqf: chunking invariance, equality with raw vqf, gaps."""

from __future__ import annotations

import numpy as np
import pytest
import vqf

from calibration.synthetic import desk_motion, random_rotation, synthesize
from host.fusion import create_filter, estimate_offline
from host.fusion.base import OrientationBlock, quat_to_up
from host.fusion.vqf_filter import VqfFilter, offline_vqf
from host.samples import SampleBlock

RATE_HZ = 100.0


@pytest.fixture(scope="module")
def recording() -> SampleBlock:
    t, flex, lat, head, walk, _act = desk_motion(120.0, RATE_HZ, seed=3)
    mount = random_rotation(np.random.default_rng(4))
    return synthesize(t, flex, lat, head, r_bs=mount, walking=walk, seed=5).samples


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=1), -1.0, 1.0)))


def _feed(filt: VqfFilter, block: SampleBlock, sizes: list[int]) -> OrientationBlock:
    parts, i = [], 0
    for size in sizes:
        parts.append(filt.update(block.slice(i, i + size)))
        i += size
    return OrientationBlock.concatenate(parts)


def test_quat_to_up_is_third_row_of_rotation_matrix() -> None:
    rng = np.random.default_rng(0)
    for n in (3, 100):  # both the scalar fast path and the vectorised one
        q = rng.normal(size=(n, 4))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        w, x, y, z = q.T
        third_row = np.stack(
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1
        )
        np.testing.assert_allclose(quat_to_up(q), third_row, atol=1e-15)
        np.testing.assert_allclose(np.linalg.norm(quat_to_up(q), axis=1), 1.0, atol=1e-12)


def test_any_chunking_gives_identical_output(recording: SampleBlock) -> None:
    batch = VqfFilter(RATE_HZ).update(recording)
    n = len(recording)
    rng = np.random.default_rng(1)
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(1, 60)))
    sizes[-1] -= sum(sizes) - n
    chunked = _feed(VqfFilter(RATE_HZ), recording, sizes)
    one_by_one = _feed(VqfFilter(RATE_HZ), recording.slice(0, 3000), [1] * 3000)
    assert np.array_equal(chunked.up_sensor, batch.up_sensor)
    assert np.array_equal(chunked.rest, batch.rest)
    assert np.array_equal(one_by_one.up_sensor, batch.up_sensor[:3000])


def test_wrapper_with_library_defaults_equals_raw_vqf(recording: SampleBlock) -> None:
    gyr = np.ascontiguousarray(recording.gyro_rad_s)
    acc = np.ascontiguousarray(recording.accel_m_s2)
    raw = vqf.VQF(1 / RATE_HZ).updateBatch(gyr, acc)
    ours = VqfFilter(RATE_HZ, params={}).update(recording)
    assert np.array_equal(ours.up_sensor, quat_to_up(raw["quat6D"]))
    raw_off = vqf.offlineVQF(gyr, acc, None, 1 / RATE_HZ)
    ours_off = offline_vqf(recording, RATE_HZ, params={})
    assert np.array_equal(ours_off.up_sensor, quat_to_up(raw_off["quat6D"]))


def test_output_shape_and_confidence(recording: SampleBlock) -> None:
    out = create_filter(RATE_HZ, gyro=True).update(recording.slice(0, 500))
    assert out.up_sensor.shape == (500, 3)
    np.testing.assert_allclose(np.linalg.norm(out.up_sensor, axis=1), 1.0, atol=1e-9)
    assert np.all(out.confidence == 1.0)
    assert out.rest.dtype == np.bool_
    assert out.rest[200:900].any()  # the first 10 s are still: rest is detected after ~1.5 s
    assert len(VqfFilter(RATE_HZ).update(recording.slice(0, 0))) == 0


def test_refuses_blocks_without_gyroscope(recording: SampleBlock) -> None:
    with pytest.raises(ValueError, match="gyroscope"):
        VqfFilter(RATE_HZ).update(SampleBlock(recording.t_s[:5], recording.accel_m_s2[:5]))


def _with_gap(recording: SampleBlock, start: int, stop: int) -> tuple[SampleBlock, np.ndarray]:
    """Drop samples start:stop (a reconnect); returns the block and the kept indices."""
    keep = np.r_[0:start, stop : len(recording)]
    return (
        SampleBlock(
            recording.t_s[keep],
            recording.accel_m_s2[keep],
            recording.gyro_rad_s[keep],  # type: ignore[index]
        ),
        keep,
    )


def test_long_gap_reseeds_from_the_accelerometer() -> None:
    """During a 5 s outage the trunk bends 40° forward; after it the estimate must be right at
    once instead of converging over the accelerometer time constant (≈ 3 s)."""
    t = np.arange(0.0, 30.0, 1 / RATE_HZ)
    flex = np.radians(40.0) * np.clip((t - 11.0) / 2.0, 0.0, 1.0)
    rec = synthesize(t, flex, np.zeros_like(t), seed=1)
    gapped, keep = _with_gap(rec.samples, 1000, 1500)  # samples 10 s … 15 s missing
    filt = VqfFilter(RATE_HZ)
    out = OrientationBlock.concatenate(
        [filt.update(gapped.slice(0, 1000)), filt.update(gapped.slice(1000, len(gapped)))]
    )
    assert filt.reseeds == 1
    err = _angle_deg(out.up_sensor, rec.up_sensor[keep])
    after = err[1000 : 1000 + 50]  # first 0.5 s after the gap
    assert after.max() < 1.0, after.max()
    # without re-seeding (threshold above the gap) the old orientation lingers for seconds
    stale = VqfFilter(RATE_HZ, reseed_gap_s=60.0).update(gapped)
    assert _angle_deg(stale.up_sensor, rec.up_sensor[keep])[1000:1050].max() > 10.0
    # the same result whether the gap falls inside a block or on a block boundary
    assert np.array_equal(VqfFilter(RATE_HZ).update(gapped).up_sensor, out.up_sensor)


def test_short_gap_is_absorbed_without_blowing_up(recording: SampleBlock) -> None:
    gapped, keep = _with_gap(recording, 4000, 4020)  # 0.2 s lost: below the re-seed limit
    filt = VqfFilter(RATE_HZ)
    out = filt.update(gapped)
    assert filt.reseeds == 0
    assert np.all(np.isfinite(out.up_sensor))
    ref = VqfFilter(RATE_HZ).update(recording).up_sensor[keep]
    assert _angle_deg(out.up_sensor, ref).max() < 3.0


def test_offline_is_split_at_long_gaps(recording: SampleBlock) -> None:
    gapped, _keep = _with_gap(recording, 5000, 5600)
    out = estimate_offline(gapped, RATE_HZ)
    assert np.array_equal(
        out.up_sensor[:5000], offline_vqf(gapped.slice(0, 5000), RATE_HZ).up_sensor
    )
    assert np.all(np.isfinite(out.up_sensor))


def test_reset_forgets_state(recording: SampleBlock) -> None:
    filt = VqfFilter(RATE_HZ)
    first = filt.update(recording.slice(0, 2000))
    filt.reset()
    again = filt.update(recording.slice(0, 2000))
    assert np.array_equal(first.up_sensor, again.up_sensor)
