"""Tests of packet → SampleBlock assembly (host/samples.py): scaling, unwrap, duplicates, gaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.protocol import ConfigMessage, DataPacket
from host.samples import Gap, SampleAssembler, SampleBlock

RATE_HZ = 100
TICK_HZ = 1_000_000
TPS = TICK_HZ // RATE_HZ  # ticks per sample
WRAP = 1 << 32
ACCEL_SCALE = 9.80665 / 4096
GYRO_SCALE = np.radians(1 / 16.4)


def config(rate_hz: int = RATE_HZ, gyro: bool = True) -> ConfigMessage:
    return ConfigMessage(
        has_gyro=gyro,
        streaming=True,
        samples_per_packet=5,
        rate_hz=rate_hz,
        tick_hz=TICK_HZ,
        accel_scale_m_s2=ACCEL_SCALE,
        gyro_scale_rad_s=GYRO_SCALE if gyro else 0.0,
        accel_range_g=8,
        gyro_range_dps=2000 if gyro else 0,
        buffer_capacity=60000,
    )


def packet(
    seq: int, n: int = 5, tick0: int = 0, *, gyro: bool = True, replayed: bool = False
) -> DataPacket:
    """Samples whose counts encode their own sequence number, ticks on the nominal grid."""
    values = (np.arange(seq, seq + n) % 1000).astype(np.int16)
    accel = np.stack([values, -values, np.full(n, 4096, np.int16)], axis=1)
    return DataPacket(
        seq & 0xFFFFFFFF,
        (tick0 + seq * TPS) & 0xFFFFFFFF,
        accel,
        accel[:, ::-1].copy() if gyro else None,
        replayed=replayed,
    )


def test_scaling_and_time_axis() -> None:
    asm = SampleAssembler(config())
    first = asm.push(packet(10, tick0=123))
    second = asm.push(packet(15, tick0=123))
    assert first is not None
    assert second is not None
    block = SampleBlock.concatenate([first, second])
    np.testing.assert_allclose(block.t_s, np.arange(10) / RATE_HZ, atol=1e-12)
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(10, 20))
    np.testing.assert_allclose(block.accel_m_s2[:, 2], 4096 * ACCEL_SCALE)
    np.testing.assert_allclose(block.accel_m_s2[3], np.array([13, -13, 4096]) * ACCEL_SCALE)
    assert block.gyro_rad_s is not None
    np.testing.assert_allclose(block.gyro_rad_s[3], np.array([4096, -13, 13]) * GYRO_SCALE)
    assert block.accel_m_s2.dtype == np.float64
    assert asm.next_seq == 20
    assert asm.statistics.samples == 10
    assert asm.statistics.packets == 2


def test_accelerometer_only_stream() -> None:
    asm = SampleAssembler(config(gyro=False))
    block = asm.push(packet(0, gyro=False))
    assert block is not None
    assert block.gyro_rad_s is None
    assert not block.has_gyro
    assert block.accel_m_s2.shape == (5, 3)


def test_sequence_and_tick_unwrap_across_2_pow_32() -> None:
    asm = SampleAssembler(config())
    start = WRAP - 12  # seq crosses the wrap after 12 samples, tick well before that
    tick0 = WRAP - 30 * TPS - start * TPS
    blocks = [asm.push(packet(start + 5 * k, tick0=tick0)) for k in range(10)]
    block = SampleBlock.concatenate([b for b in blocks if b is not None])
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(start, start + 50))
    np.testing.assert_allclose(block.t_s, np.arange(50) / RATE_HZ, atol=1e-9)
    assert asm.statistics.gaps == 0
    assert asm.statistics.duplicate_samples == 0


def test_tick_wraps_many_times_over_a_long_recording() -> None:
    """Five hours at 1 MHz wraps the tick four times; time stays continuous."""
    asm = SampleAssembler(config())
    t_last = 0.0
    packets_per_5_min = 5 * 60 * RATE_HZ // 5
    for k in range(0, 5 * 60 * 60 * RATE_HZ // 5, packets_per_5_min):
        block = asm.push(packet(5 * k))
        assert block is not None
        t_last = float(block.t_s[0])
        assert t_last == pytest.approx(5 * k / RATE_HZ)
    assert t_last > WRAP / TICK_HZ * 4
    assert asm.statistics.gaps > 0  # the skipped packets in between are gaps, by design


def test_outage_longer_than_half_the_tick_period() -> None:
    """40 min without data: the tick moves 2.4e9 (> 2^31); seq distance keeps the right lap."""
    asm = SampleAssembler(config())
    asm.push(packet(0))
    resume = 40 * 60 * RATE_HZ
    block = asm.push(packet(resume))
    assert block is not None
    assert block.t_s[0] == pytest.approx(40 * 60)
    assert len(asm.gaps) == 1
    gap = asm.gaps[0]
    assert (gap.next_seq, gap.count) == (resume, resume - 5)
    assert gap.t_s == pytest.approx(2400.0)


def test_gap_is_recorded_and_samples_after_it_delivered() -> None:
    asm = SampleAssembler(config())
    asm.push(packet(0))
    block = asm.push(packet(20))
    assert block is not None
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(20, 25))
    assert asm.gaps == [Gap(20, 15, 0.2)]
    assert (asm.statistics.gaps, asm.statistics.missing_samples) == (1, 15)


def test_overlapping_replay_is_trimmed_and_pure_duplicates_dropped() -> None:
    asm = SampleAssembler(config())
    asm.push(packet(0))
    asm.push(packet(5))
    # the link dropped; the device replays from seq 7 (the host had 0..9)
    assert asm.push(packet(5, replayed=True)) is None
    partial = asm.push(packet(7, replayed=True))
    assert partial is not None
    assert partial.seq is not None
    np.testing.assert_array_equal(partial.seq, [10, 11])
    np.testing.assert_allclose(partial.t_s, [0.10, 0.11])
    np.testing.assert_allclose(partial.accel_m_s2[:, 0], np.array([10, 11]) * ACCEL_SCALE)
    stats = asm.statistics
    assert stats.duplicate_samples == 5 + 3
    assert stats.replayed_samples == 2
    assert stats.samples == 12
    assert stats.gaps == 0
    assert asm.next_seq == 12


def test_saturated_packets_are_counted() -> None:
    asm = SampleAssembler(config())
    p = packet(0)
    asm.push(DataPacket(p.seq, p.tick, p.accel, p.gyro, saturated=True))
    assert asm.statistics.saturated_packets == 1


def test_reconfigure_keeps_sequence_and_time() -> None:
    asm = SampleAssembler(config())
    asm.push(packet(0))
    asm.reconfigure(config(rate_hz=50))
    # at 50 Hz a sample is 20 000 ticks; the next packet starts right after the last one
    p = DataPacket(5, 5 * TPS, np.zeros((2, 3), np.int16), np.zeros((2, 3), np.int16))
    block = asm.push(p)
    assert block is not None
    np.testing.assert_allclose(block.t_s, [0.05, 0.07])
    assert asm.statistics.gaps == 0


@settings(deadline=None, max_examples=150)
@given(
    start_seq=st.integers(0, WRAP - 1),
    start_tick=st.integers(0, WRAP - 1),
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=40),
    fate=st.lists(st.sampled_from(["ok", "ok", "ok", "drop", "repeat", "overlap"]), max_size=40),
)
def test_random_stream_invariants(
    start_seq: int, start_tick: int, sizes: list[int], fate: list[str]
) -> None:
    """Any mix of packet sizes, drops, repeats and overlapping replays near any wrap point."""
    asm = SampleAssembler(config())
    out: list[SampleBlock] = []
    dropped = 0
    detected = 0  # drops followed by a delivered packet (trailing drops cannot be seen)
    seq = start_seq
    sent: list[tuple[int, int]] = []  # (seq, n) of packets already sent
    for i, n in enumerate(sizes):
        what = fate[i] if i < len(fate) else "ok"
        if i == 0:
            what = "ok"  # the stream begins with its first packet
        if what == "drop":
            dropped += n
        else:
            detected = dropped
            out += [b for b in [asm.push(packet(seq, n, start_tick - start_seq * TPS))] if b]
            sent.append((seq, n))
            if what == "repeat":
                assert asm.push(packet(seq, n, start_tick - start_seq * TPS)) is None
            elif what == "overlap" and len(sent) > 1:
                old_seq, old_n = sent[-2]
                block = asm.push(packet(old_seq, old_n + n, start_tick - start_seq * TPS))
                assert block is None
        seq += n
    block = SampleBlock.concatenate(out)
    assert block.seq is not None
    assert np.all(np.diff(block.seq) > 0)
    assert block.seq[0] == start_seq
    assert len(block) + dropped == seq - start_seq
    # time comes from ticks and must match the sequence exactly on the nominal grid
    np.testing.assert_allclose(block.t_s, (block.seq - start_seq) / RATE_HZ, atol=1e-6)
    # every sample's counts encode its own (wrapped) sequence number
    expected = (block.seq % 1000) * ACCEL_SCALE
    np.testing.assert_allclose(block.accel_m_s2[:, 0], expected)
    assert asm.statistics.missing_samples == detected
    assert sum(g.count for g in asm.gaps) == detected


def test_block_slice_and_concatenate() -> None:
    asm = SampleAssembler(config())
    block = asm.push(packet(0, n=10))
    assert block is not None
    head, tail = block.slice(0, 4), block.slice(4, 10)
    assert (len(head), len(tail)) == (4, 6)
    joined = SampleBlock.concatenate([head, tail])
    np.testing.assert_array_equal(joined.accel_m_s2, block.accel_m_s2)
    assert joined.gyro_rad_s is not None
    assert joined.seq is not None
    empty = SampleBlock.concatenate([])
    assert len(empty) == 0
    assert empty.accel_m_s2.shape == (0, 3)
    no_gyro = SampleBlock(block.t_s, block.accel_m_s2)
    assert SampleBlock.concatenate([block, no_gyro]).gyro_rad_s is None


def test_device_reset_is_detected_and_its_samples_kept() -> None:
    """After a power loss the device counts from 0 again: far behind any possible replay."""
    asm = SampleAssembler(config())
    asm.push(packet(500_000))
    after_reset = asm.push(packet(0, tick0=-500_000 * TPS + 777))
    assert after_reset is not None
    assert after_reset.seq is not None
    np.testing.assert_array_equal(after_reset.seq, np.arange(500_005, 500_010))
    # the outage length is unknown here: time continues one sample period later
    np.testing.assert_allclose(after_reset.t_s, 0.05 + np.arange(5) / RATE_HZ, atol=1e-9)
    np.testing.assert_allclose(after_reset.accel_m_s2[:, 0], np.arange(5) * ACCEL_SCALE)
    following = asm.push(packet(5, tick0=-500_000 * TPS + 777))
    assert following is not None
    assert following.seq is not None
    np.testing.assert_array_equal(following.seq, np.arange(500_010, 500_015))
    np.testing.assert_allclose(following.t_s, 0.10 + np.arange(5) / RATE_HZ, atol=1e-9)
    stats = asm.statistics
    assert (stats.stream_restarts, stats.duplicate_samples, stats.gaps) == (1, 0, 0)


def test_a_replay_within_the_buffer_is_not_a_reset() -> None:
    asm = SampleAssembler(config())  # buffer of 60 000 samples
    for k in range(0, 70_000, 5):
        asm.push(packet(k))
    assert asm.push(packet(70_000 - 60_000, replayed=True)) is None
    assert asm.statistics.stream_restarts == 0


def test_explicit_restart_places_the_new_stream_in_time() -> None:
    asm = SampleAssembler(config())
    asm.restart(t_s=2.0)  # before any packet: where the first one goes
    first = asm.push(packet(40))
    assert first is not None
    assert first.t_s[0] == pytest.approx(2.0)
    asm.restart(t_s=100.0)  # the link learnt from TIME_SYNC that the device was reset
    block = asm.push(packet(3, tick0=999))
    assert block is not None
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(45, 50))
    np.testing.assert_allclose(block.t_s, 100.0 + np.arange(5) / RATE_HZ, atol=1e-9)
    assert asm.statistics.stream_restarts == 0  # counted only when detected here
