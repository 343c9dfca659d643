"""From raw data packets to IMU samples in SI units on one continuous time axis (pure).

:class:`SampleBlock` is the unit every later stage works on, live and offline alike: a live
notification becomes a block of a few samples, a recording is one large block. Fusion,
posture and alerts take blocks, so streaming and batch share one code path.

:class:`SampleAssembler` turns :class:`~host.protocol.DataPacket` s into blocks: it scales counts
with the factors the device announced, unwraps the 32-bit sequence and tick counters, drops
duplicates (a replay overlapping what already arrived) and reports gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt

from host.protocol import MAX_SAMPLES_PER_PACKET, ConfigMessage, DataPacket

__all__ = ["Gap", "SampleAssembler", "SampleBlock", "StreamStatistics"]

FloatArray = npt.NDArray[np.float64]

_WRAP = 1 << 32
_HALF = 1 << 31
# sample index within a packet, shared by every assembler (never written)
_INDEX = np.arange(MAX_SAMPLES_PER_PACKET, dtype=np.int64)
_INDEX.flags.writeable = False


@dataclass(frozen=True, slots=True, eq=False)
class SampleBlock:
    """Consecutive IMU samples.

    Attributes:
        t_s: (N,) sample times in seconds (device clock, 0 = first sample of the stream).
        accel_m_s2: (N, 3) specific force in the sensor frame, m/s² (≈ +9.81 up when still).
        gyro_rad_s: (N, 3) angular rate in the sensor frame, rad/s, or None (no gyroscope).
        seq: (N,) unwrapped sample sequence numbers, or None when not known (CSV input).
    """

    t_s: FloatArray
    accel_m_s2: FloatArray
    gyro_rad_s: FloatArray | None = None
    seq: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyro_rad_s is not None

    def slice(self, start: int, stop: int) -> SampleBlock:
        """Samples ``start:stop`` (views, no copy)."""
        return SampleBlock(
            self.t_s[start:stop],
            self.accel_m_s2[start:stop],
            None if self.gyro_rad_s is None else self.gyro_rad_s[start:stop],
            None if self.seq is None else self.seq[start:stop],
        )

    @staticmethod
    def concatenate(blocks: list[SampleBlock]) -> SampleBlock:
        """Join blocks in order (all with or all without gyroscope)."""
        if not blocks:
            return SampleBlock(np.zeros(0), np.zeros((0, 3)))
        gyros = [b.gyro_rad_s for b in blocks]
        seqs = [b.seq for b in blocks]
        return SampleBlock(
            np.concatenate([b.t_s for b in blocks]),
            np.concatenate([b.accel_m_s2 for b in blocks]),
            None if any(g is None for g in gyros) else np.concatenate(gyros),  # type: ignore[arg-type]
            None if any(s is None for s in seqs) else np.concatenate(seqs),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class Gap:
    """Samples that never arrived: ``count`` samples before sequence ``next_seq``."""

    next_seq: int
    count: int
    t_s: float


@dataclass(slots=True)
class StreamStatistics:
    """Counters kept by :class:`SampleAssembler`."""

    packets: int = 0
    samples: int = 0
    replayed_samples: int = 0
    duplicate_samples: int = 0
    gaps: int = 0
    missing_samples: int = 0
    saturated_packets: int = 0
    stream_restarts: int = 0


@dataclass(slots=True)
class SampleAssembler:
    """Stateful packet → :class:`SampleBlock` converter for one device stream.

    Args:
        config: the stream description the device announced (scales, rates).
    """

    config: ConfigMessage
    statistics: StreamStatistics = field(default_factory=StreamStatistics)
    gaps: list[Gap] = field(default_factory=list)
    _next_seq: int | None = None  # unwrapped sequence number expected next
    _last_tick: int | None = None  # unwrapped tick of the last sample delivered
    _first_tick: int = 0
    _seq_offset: int = 0  # our unwrapped seq = the device's unwrapped seq + this (after restarts)
    _restart_t_s: float | None = None  # set by restart(): where the next packet's time goes
    _offsets_s: FloatArray = field(init=False)  # k / rate_hz for k = 0..MAX_SAMPLES_PER_PACKET-1

    def __post_init__(self) -> None:
        self.reconfigure(self.config)

    @property
    def next_seq(self) -> int | None:
        """Unwrapped sequence number expected next (None before the first packet)."""
        return self._next_seq

    def reconfigure(self, config: ConfigMessage) -> None:
        """Use a new stream description (rate or range changed) keeping counters and time."""
        self.config = config
        self._offsets_s = _INDEX * (config.tick_hz / config.rate_hz) / config.tick_hz

    def restart(self, t_s: float | None = None) -> None:
        """Treat the next packet as the start of a new device stream (the device was reset).

        A device that lost power starts its sequence and tick counters again at 0; without this
        its samples would look like an old replay and be dropped. Sequence numbers keep counting
        up from :attr:`next_seq` and times continue from ``t_s`` (e.g. derived from a TIME_SYNC);
        by default one sample period after the last delivered sample, since the outage's length
        is unknown here. :meth:`push` does this by itself when a packet lies further back than
        any replay could reach (more than the device's buffer); a link that detects the reset
        earlier (docs/protocol.md §7) should call it with the right time.
        """
        self._restart_t_s = self._last_t_s() + 1.0 / self.config.rate_hz if t_s is None else t_s

    def _last_t_s(self) -> float:
        if self._last_tick is None:
            return -1.0 / self.config.rate_hz  # so the default restart time is 0
        return (self._last_tick - self._first_tick) / self.config.tick_hz

    def _begin_stream(self, packet: DataPacket, t_s: float) -> tuple[int, int]:
        """Start a new stream segment at ``packet``: its first sample gets time ``t_s``."""
        self._restart_t_s = None
        next_seq = self._next_seq if self._next_seq is not None else packet.seq
        self._seq_offset = next_seq - packet.seq
        self._first_tick = packet.tick - round(t_s * self.config.tick_hz)
        return next_seq, packet.tick

    def push(self, packet: DataPacket) -> SampleBlock | None:
        """Convert one packet; returns None when it held nothing new (a pure duplicate).

        A jump forward in sequence is recorded in :attr:`gaps` (and the samples after it are
        still delivered): a replay request can fill it before it reaches the assembler.
        Samples at or before the last delivered sequence number (an overlapping replay) are
        dropped and counted as duplicates.
        """
        cfg = self.config
        stats = self.statistics
        stats.packets += 1
        n = len(packet)
        ticks_per_sample = cfg.tick_hz / cfg.rate_hz
        skip = 0
        if self._next_seq is None or self._restart_t_s is not None:
            seq0, tick0 = self._begin_stream(packet, self._restart_t_s or 0.0)
        else:
            device_next = self._next_seq - self._seq_offset
            seq0 = _nearest(packet.seq, device_next) + self._seq_offset
            if self._next_seq - seq0 > cfg.buffer_capacity + MAX_SAMPLES_PER_PACKET:
                # Further back than any replay can reach: the device was reset.
                stats.stream_restarts += 1
                seq0, tick0 = self._begin_stream(packet, self._last_t_s() + 1.0 / cfg.rate_hz)
            else:
                tick0 = self._unwrap_tick(packet.tick, seq0, ticks_per_sample)
                if seq0 > self._next_seq:
                    missing = seq0 - self._next_seq
                    stats.gaps += 1
                    stats.missing_samples += missing
                    t_s = (tick0 - self._first_tick) / cfg.tick_hz
                    self.gaps.append(Gap(seq0, missing, t_s))
                elif seq0 < self._next_seq:
                    skip = min(n, self._next_seq - seq0)
                    stats.duplicate_samples += skip
        if skip >= n:
            return None
        if packet.saturated:
            stats.saturated_packets += 1
        if packet.replayed:
            stats.replayed_samples += n - skip
        # Few numpy operations per packet: at 5 samples each costs as much as the arithmetic.
        t0_s = (tick0 - self._first_tick) / cfg.tick_hz
        accel = cast(FloatArray, packet.accel[skip:] * cfg.accel_scale_m_s2)  # int16 -> float64
        gyro = None
        if packet.gyro is not None:
            gyro = cast(FloatArray, packet.gyro[skip:] * cfg.gyro_scale_rad_s)
        self._next_seq = seq0 + n
        self._last_tick = round(tick0 + (n - 1) * ticks_per_sample)
        stats.samples += n - skip
        return SampleBlock(self._offsets_s[skip:n] + t0_s, accel, gyro, _INDEX[skip:n] + seq0)

    def _unwrap_tick(self, tick: int, seq0: int, ticks_per_sample: float) -> int:
        # Predict the tick from the sequence distance, so an outage longer than half the tick
        # period (35.8 min at 1 MHz) still unwraps to the right lap.
        last_tick = self._last_tick if self._last_tick is not None else self._first_tick
        last_seq = self._next_seq - 1 if self._next_seq is not None else seq0
        return _nearest(tick, round(last_tick + (seq0 - last_seq) * ticks_per_sample))


def _nearest(raw: int, reference: int) -> int:
    """The unwrapped value ≡ ``raw`` (mod 2³²) nearest to ``reference`` (an unwrapped value)."""
    return reference + ((raw - reference + _HALF) % _WRAP) - _HALF
