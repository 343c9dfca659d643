"""Sample chunk codec and per-second summaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.errors import StoreError
from host.recording.codec import (
    MAX_CHUNK_SAMPLES,
    PackedChunk,
    pack_samples,
    split_for_packing,
    unpack_samples,
)
from host.recording.summary import (
    SummaryAccumulator,
    decode_summaries,
    encode_summaries,
    summarize_seconds,
)
from host.recording.synthetic import SITTING, STANDING, Segment, slice_posture, synthesize
from host.samples import SampleBlock


def _block(n: int, seed: int = 1, gyro: bool = True, jitter_s: float = 0.0) -> SampleBlock:
    rng = np.random.default_rng(seed)
    t = 12.5 + np.arange(n) / 100.0 + rng.uniform(-jitter_s, jitter_s, n)
    accel = np.array([9.81, 0.0, 0.0]) + rng.normal(0, 0.5, (n, 3))
    g = rng.normal(0, 0.3, (n, 3)) if gyro else None
    return SampleBlock(t, accel, g, np.arange(1000, 1000 + n, dtype=np.int64))


@pytest.mark.parametrize("gyro", [True, False])
def test_round_trip_within_quantisation(gyro: bool) -> None:
    block = _block(3000, gyro=gyro, jitter_s=0.002)
    back = unpack_samples(pack_samples(block))
    peak = np.max(np.abs(block.accel_m_s2))
    assert np.max(np.abs(back.accel_m_s2 - block.accel_m_s2)) <= peak / 32767 * 0.5001
    assert np.max(np.abs(back.t_s - block.t_s)) <= 0.6e-6
    assert back.seq is not None
    assert np.array_equal(back.seq, block.seq)  # type: ignore[arg-type]
    assert back.has_gyro == gyro
    if gyro:
        gp = np.max(np.abs(block.gyro_rad_s))  # type: ignore[arg-type]
        assert np.max(np.abs(back.gyro_rad_s - block.gyro_rad_s)) <= gp / 32767 * 0.5001  # type: ignore[operator]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 400),
    st.floats(0.01, 200.0),
    st.integers(0, 2**31),
    st.booleans(),
)
def test_round_trip_property(n: int, amplitude: float, seed: int, with_seq: bool) -> None:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.001, 0.05, n))
    accel = rng.uniform(-amplitude, amplitude, (n, 3))
    seq = np.cumsum(rng.integers(1, 3, n)).astype(np.int64) if with_seq else None
    block = SampleBlock(t, accel, None, seq)
    back = unpack_samples(pack_samples(block))
    step = np.max(np.abs(accel)) / 32767
    assert np.max(np.abs(back.accel_m_s2 - accel)) <= step * 0.5001 + 1e-12
    assert np.max(np.abs(back.t_s - t)) <= 1e-6
    if seq is not None:
        assert np.array_equal(back.seq, seq)  # type: ignore[arg-type]


def test_regular_clock_compresses_below_int16_floor() -> None:
    block = _block(MAX_CHUNK_SAMPLES)
    chunk = pack_samples(block)
    assert len(chunk.payload) < MAX_CHUNK_SAMPLES * 12


def test_split_cuts_long_blocks_and_clock_jumps() -> None:
    block = _block(15000)
    t = block.t_s.copy()
    t[7000:] += 5000.0  # a 83-minute hole
    pieces = split_for_packing(SampleBlock(t, block.accel_m_s2, block.gyro_rad_s, block.seq))
    assert sum(len(p) for p in pieces) == 15000
    assert all(len(p) <= MAX_CHUNK_SAMPLES for p in pieces)
    assert any(p.t_s[0] == t[7000] for p in pieces)
    for p in pieces:
        unpack_samples(pack_samples(p))


def test_damaged_payload_is_store_error() -> None:
    chunk = pack_samples(_block(100))
    bad = PackedChunk(chunk.n, chunk.t0_s, chunk.period_s, chunk.accel_scale_m_s2,
                      chunk.gyro_scale_rad_s, chunk.seq0, chunk.payload[:-7])  # fmt: skip
    with pytest.raises(StoreError, match="damaged"):
        unpack_samples(bad)


def test_empty_or_nonfinite_refused() -> None:
    with pytest.raises(ValueError, match="chunk holds"):
        pack_samples(SampleBlock(np.zeros(0), np.zeros((0, 3))))
    b = _block(10)
    b.accel_m_s2[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        pack_samples(b)


def test_summary_of_known_segments() -> None:
    _, posture = synthesize(
        [Segment(3.0, SITTING, 30.0), Segment(2.0, STANDING, 5.0)], rate_hz=50.0
    )
    s = summarize_seconds(posture)
    assert s.sec.tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(s.flexion_deg, [30, 30, 30, 5, 5])
    assert s.activity.tolist() == [1, 1, 1, 2, 2]
    assert s.zone.tolist() == [3, 3, 3, 1, 1]
    assert s.n_samples.tolist() == [50] * 5


def test_summary_marks_seconds_without_valid_flexion() -> None:
    _, posture = synthesize([Segment(3.0, SITTING, 30.0)], rate_hz=10.0)
    posture.flexion_deg[10:20] = np.nan
    posture.flexion_deg[25] = np.nan
    s = summarize_seconds(posture)
    assert np.isnan(s.flexion_deg[1])
    assert s.zone[1] == 9
    assert s.flexion_deg[2] == pytest.approx(30.0)
    assert s.n_samples[1] == 10


@pytest.mark.parametrize("block_len", [1, 7, 100, 333])
def test_accumulator_matches_batch(block_len: int) -> None:
    _, posture = synthesize(
        [Segment(7.3, SITTING, 12.0), Segment(4.1, SITTING, 40.0), Segment(3.0, STANDING, 1.0)],
        rate_hz=100.0,
    )
    acc = SummaryAccumulator()
    parts = [
        acc.add(slice_posture(posture, i, i + block_len))
        for i in range(0, len(posture.t_s), block_len)
    ]
    parts.append(acc.finish())
    streamed = [p for p in parts if len(p)]
    batch = summarize_seconds(posture)
    joined_sec = np.concatenate([p.sec for p in streamed])
    assert joined_sec.tolist() == batch.sec.tolist()
    joined = np.concatenate([p.flexion_deg for p in streamed])
    assert np.allclose(joined, batch.flexion_deg)


def test_summary_blob_round_trip() -> None:
    _, posture = synthesize([Segment(20.0, SITTING, 22.0)], rate_hz=25.0)
    s = summarize_seconds(posture)
    back = decode_summaries(encode_summaries(s), len(s))
    for name in ("sec", "flexion_deg", "zone", "activity", "n_samples"):
        assert np.array_equal(getattr(back, name), getattr(s, name))
    with pytest.raises(StoreError):
        decode_summaries(encode_summaries(s), len(s) + 1)


def test_device_counts_are_stored_losslessly_and_smaller() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    scale_a, scale_g = 8 * 9.80665 / 32768, np.radians(2000) / 32768
    counts_a = np.rint(np.array([4096, 0, 300]) + rng.normal(0, 6, (n, 3)))
    counts_g = np.rint(rng.normal(0, 4, (n, 3)))
    block = SampleBlock(np.arange(n) / 100.0, counts_a * scale_a, counts_g * scale_g)
    chunk = pack_samples(block)
    back = unpack_samples(chunk)
    assert chunk.accel_scale_m_s2 == pytest.approx(scale_a)
    assert np.max(np.abs(back.accel_m_s2 - block.accel_m_s2)) < 1e-13
    assert np.max(np.abs(back.gyro_rad_s - block.gyro_rad_s)) < 1e-13  # type: ignore[operator]
    # a fine adaptive grid would store ~3 more bits of re-quantisation noise per value
    assert len(chunk.payload) < n * 6
