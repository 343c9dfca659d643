"""Firmware behaviour of the simulated posture sensor (pure: no I/O, no asyncio, no clock).

:class:`SimDevice` samples a simulated wearer continuously into an on-device ring buffer,
streams DATA packets per docs/protocol.md while streaming and connected, answers every opcode of
the control point, drains its battery and injects the data-level faults of a
:class:`~device_sim.faults.FaultConfig`. Time only moves through :meth:`SimDevice.advance`, so the
owner of the link decides how fast simulated time runs. Everything goes through
:mod:`host.protocol`: commands come in as encoded bytes, messages go out as encoded bytes.

Samples are rendered lazily in blocks of :data:`~device_sim.imu_model.BLOCK` (≈10 s at 100 Hz),
so a live session can run for hours at constant cost per advance.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from device_sim import control, quat
from device_sim.faults import FaultConfig
from device_sim.imu_model import BLOCK, GRAVITY_M_S2, ErrorModel, ImuModel, _Stream, quantise
from device_sim.motion import HANDLING_POSES, POSES, Motion
from device_sim.ring import RingBuffer
from device_sim.truth import Truth
from host.errors import ConfigError
from host.protocol import (
    LIVE_ONLY,
    MAX_SAMPLES_PER_PACKET,
    ConfigMessage,
    DeviceError,
    Result,
    StatusMessage,
    VibratePattern,
    encode_message,
)
from host.transports.base import DeviceInfo

__all__ = ["SimDevice"]

logger = logging.getLogger(__name__)

TICK_HZ = 1_000_000
STATUS_PERIOD_S = 5.0
REPLAY_SPEEDUP = 10.0  # replay/catch-up bandwidth on top of the live stream, × sample rate
_DRAIN_STREAMING_PCT_H = 5.0
_DRAIN_IDLE_PCT_H = 1.0
_WRAP = 1 << 32

_Counts = tuple[
    npt.NDArray[np.int16], npt.NDArray[np.int16], npt.NDArray[np.int64], npt.NDArray[np.bool_]
]


def _identity(seed: int) -> tuple[str, str]:
    digest = hashlib.sha256(f"posture-sim-{seed}".encode()).digest()
    name = f"PostureSim-{digest[0]:02X}{digest[1]:02X}"
    address = "C0:FF:EE:" + ":".join(f"{b:02X}" for b in digest[2:5])
    return name, address


class SimDevice:
    """The simulated sensor's firmware (see the module docstring).

    Args:
        scenario: wearer scenario (:data:`device_sim.motion.SCENARIOS`).
        seed: seeds the wearer, the device's errors, noise and faults, its name and address.
        rate_hz: initial output data rate (25–1000).
        gyro: whether the device has a gyroscope.
        samples_per_packet: samples per DATA packet (1–40).
        random_mount: mount the sensor at a seeded random rotation instead of nominally.
        minutes: switch off after this much simulated time (None: run for ever).
        faults: faults to inject.
        buffer_capacity: ring buffer size in samples.
        errors: sensor error model (default: BMI270-like).

    Raises:
        ConfigError: unknown scenario or parameters out of range.
    """

    def __init__(
        self,
        scenario: str = "desk_day",
        *,
        seed: int = 0,
        rate_hz: int = 100,
        gyro: bool = True,
        samples_per_packet: int = 5,
        random_mount: bool = False,
        minutes: float | None = None,
        faults: FaultConfig | None = None,
        buffer_capacity: int = 60_000,
        errors: ErrorModel | None = None,
    ) -> None:
        try:
            motion = Motion(scenario, seed)
        except KeyError:
            raise ConfigError(
                f"unknown scenario {scenario!r}; try 'posture-sim scenarios'"
            ) from None
        if not 25 <= rate_hz <= 1000:
            raise ConfigError(f"rate {rate_hz} Hz outside 25–1000 Hz")
        if not 1 <= samples_per_packet <= MAX_SAMPLES_PER_PACKET:
            raise ConfigError(f"packing must be 1–{MAX_SAMPLES_PER_PACKET} samples per packet")
        if buffer_capacity < samples_per_packet:
            raise ConfigError("buffer capacity smaller than one packet")
        self.scenario = scenario
        self.seed = seed
        self.name, self.address = _identity(seed)
        mount = (
            quat.random_rotation(np.random.default_rng([seed, 0x3077])) if random_mount else None
        )
        self.imu = ImuModel(motion, seed=seed, mount_q_bs=mount, errors=errors, gyro=gyro)
        self.motion = motion
        self.faults = faults if faults is not None else FaultConfig()
        self.duration_s = None if minutes is None else float(minutes) * 60.0
        self.t_s = 0.0
        self.vibrations: list[tuple[float, int]] = []
        self.identifies: list[tuple[float, int]] = []
        self.counters = {"dropped_packets": 0, "stalls": 0, "overwritten_samples": 0}
        self._fault_rng = np.random.default_rng([seed, 0xFA17])
        self._per_packet = samples_per_packet
        self._accel_range_g = 8
        self._gyro_range_dps = 2000
        self._streams = [_Stream(0, 0, 0.0, float(rate_hz))]
        self._rate_hz = rate_hz
        self._ring = RingBuffer(buffer_capacity)
        self._cache: OrderedDict[tuple[int, int], _Counts] = OrderedDict()
        self._link_up = True
        self._streaming = False
        self._send_seq = 0  # next sample of the live stream to send
        self._live_from = 0  # samples before this are replayed (REPLAYED flag)
        self._jobs: list[list[int]] = []  # explicit REPLAY ranges [next, stop)
        self._credit = 0.0  # samples the radio may still send
        self._overflowed = False
        self._next_status_s = STATUS_PERIOD_S
        self._drained_pct = 0.0

    # ------------------------------------------------------------------ identity and state

    @property
    def rate_hz(self) -> int:
        return self._rate_hz

    @property
    def streaming(self) -> bool:
        return self._streaming

    @property
    def produced(self) -> int:
        """Samples produced so far (the next sequence number)."""
        return self._ring.produced

    @property
    def finished(self) -> bool:
        """The scenario's ``minutes`` are over (the device switched off)."""
        return self.duration_s is not None and self.t_s >= self.duration_s

    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            name=self.name,
            address=self.address,
            transport="sim",
            manufacturer="Posture Companion (simulated)",
            model="PostureSim",
            serial_number=f"SIM{self.seed:08d}",
            firmware="sim-1.0",
            hardware="virtual",
            battery_pct=self.battery_pct(),
        )

    def config(self) -> ConfigMessage:
        gyro = self.imu.gyro
        return ConfigMessage(
            has_gyro=gyro,
            streaming=self._streaming,
            samples_per_packet=self._per_packet,
            rate_hz=self._rate_hz,
            tick_hz=TICK_HZ,
            accel_scale_m_s2=self._accel_scale,
            gyro_scale_rad_s=self._gyro_scale if gyro else 0.0,
            accel_range_g=self._accel_range_g,
            gyro_range_dps=self._gyro_range_dps if gyro else 0,
            buffer_capacity=self._ring.capacity,
        )

    @property
    def _accel_scale(self) -> float:
        return float(np.float32(self._accel_range_g * GRAVITY_M_S2 / 32768.0))

    @property
    def _gyro_scale(self) -> float:
        return float(np.float32(math.radians(self._gyro_range_dps) / 32768.0))

    def battery_pct(self) -> int:
        return max(0, round(100.0 - self._drained_pct))

    def status(self) -> StatusMessage:
        battery = self.battery_pct()
        return StatusMessage(
            battery_pct=battery,
            charging=False,
            streaming=self._streaming,
            buffer_overflowed=self._overflowed,
            buffer_fill=self._buffer_fill(),
            tick=self.tick_now(),
            error=(
                DeviceError.LOW_BATTERY
                if battery < 10
                else DeviceError.BUFFER_OVERFLOW
                if self._overflowed
                else DeviceError.NONE
            ),
        )

    def tick_now(self) -> int:
        """Device clock now, µs ticks (u32)."""
        return round(float(self.imu.device_time(self.t_s)) * TICK_HZ) & 0xFFFFFFFF

    def _oldest(self) -> int:
        return self._ring.oldest()

    def _buffer_fill(self) -> int:
        """Samples currently held (docs/protocol.md §8.2)."""
        return self._ring.fill()

    # ------------------------------------------------------------------ link-level faults

    def link_fault_active(self, t_s: float | None = None) -> bool:
        """A scheduled link loss or disappearance covers ``t_s`` (default: now)."""
        t = self.t_s if t_s is None else t_s
        return self.faults.link_loss_active(t) or self.faults.disappeared(t)

    def reachable(self, t_s: float | None = None) -> bool:
        """The device can be found and connected at ``t_s`` (default: now): False while it has
        disappeared and, for faces that cannot tell the two apart, while it refuses connections
        (see :meth:`refuses_connection`)."""
        t = self.t_s if t_s is None else t_s
        return not self.faults.disappeared(t) and not self.faults.refuse_connections

    def refuses_connection(self) -> bool:
        return self.faults.refuse_connections

    def next_link_fault_s(self, after_s: float | None = None) -> float:
        """When the next link loss or disappearance starts (inf: never)."""
        return self.faults.next_link_fault_s(self.t_s if after_s is None else after_s)

    def link_fault_end_s(self, t_s: float | None = None) -> float:
        return self.faults.link_fault_end_s(self.t_s if t_s is None else t_s)

    def corrupt(self, frame: bytes) -> bytes:
        """Flip one byte of a serial frame with probability ``corrupt_rate`` (for link faces)."""
        rate = self.faults.corrupt_rate
        if rate <= 0 or self._fault_rng.random() >= rate or not frame:
            return frame
        data = bytearray(frame)
        i = int(self._fault_rng.integers(len(data)))
        data[i] ^= 1 << int(self._fault_rng.integers(8))
        return bytes(data)

    def set_link(self, up: bool) -> None:
        """Device-side view of the link. Going down stops streaming (START again after)."""
        if not up and self._link_up:
            logger.info("%s: link down at %.2f s", self.name, self.t_s)
            self._streaming = False
            self._jobs.clear()
        self._link_up = up

    # ------------------------------------------------------------------ time

    def _due_count(self, t_s: float) -> int:
        """Samples whose sampling instant is at or before ``t_s`` (true time)."""
        if self.duration_s is not None:
            t_s = min(t_s, self.duration_s)
        stream = self._streams[-1]
        elapsed = float(self.imu.device_time(t_s)) - stream.first_device_s
        if elapsed < 0:
            return self._ring.produced
        return max(
            self._ring.produced, stream.first_seq + math.floor(elapsed * stream.rate_hz + 1e-9) + 1
        )

    def next_due_s(self) -> float:
        """True time at which :meth:`advance` will next have something to send (inf: idle)."""
        candidates = [math.inf]
        if self._link_up and not self.finished:
            stream = self._streams[-1]
            if self._streaming or self._jobs:
                backlog = self._ring.produced - self._send_seq if self._streaming else 0
                if self._jobs or backlog >= self._per_packet:
                    candidates.append(self.t_s + 1.0 / (stream.rate_hz * (1 + REPLAY_SPEEDUP)))
                else:
                    seq = self._send_seq + self._per_packet - 1
                    device_s = stream.first_device_s + (seq - stream.first_seq) / stream.rate_hz
                    candidates.append(float(self.imu.true_time(device_s)))
                candidates.append(self._next_status_s)
            stall = self.faults.stall_every_s
            if stall and self.faults.stall_active(self.t_s):
                candidates = [
                    max(c, (self.t_s // stall) * stall + self.faults.stall_duration_s)
                    for c in candidates
                ]
        return max(self.t_s, min(candidates))

    def advance(self, dt_s: float) -> list[bytes]:
        """Advance simulated time by ``dt_s``; return the encoded messages due, in order."""
        if dt_s < 0:
            raise ValueError("time does not run backwards")
        previous = self.t_s
        self.t_s += dt_s
        streaming_before = self._streaming
        self._drained_pct += (
            dt_s / 3600.0 * (_DRAIN_STREAMING_PCT_H if streaming_before else _DRAIN_IDLE_PCT_H)
        )
        self._produce(self._due_count(self.t_s))
        if not self._link_up:
            return []
        if self.faults.stall_active(self.t_s):
            if not self.faults.stall_active(previous):
                self.counters["stalls"] += 1
            return []
        rate = self._streams[-1].rate_hz
        self._credit = min(
            self._credit + dt_s * rate * (1 + REPLAY_SPEEDUP), 4.0 * self._ring.capacity
        )
        out: list[bytes] = []
        self._send_jobs(out)
        if self._streaming:
            self._send_stream(out)
            while self.t_s >= self._next_status_s:
                out.append(encode_message(self.status()))
                self._next_status_s += STATUS_PERIOD_S
        else:
            self._next_status_s = self.t_s + STATUS_PERIOD_S
        return out

    # ------------------------------------------------------------------ sampling

    def _block(self, stream: _Stream, block: int) -> _Counts:
        """A rendered block as the device stores it: counts at the current ranges, ticks."""
        key = (stream.index, block)
        cached = self._cache.get(key)
        if cached is None:
            r = self.imu.render(stream, block)
            accel, saturated = quantise(r.accel_m_s2, self._accel_scale)
            gyro = np.zeros_like(accel)
            if r.gyro_rad_s is not None:
                gyro, gyro_saturated = quantise(r.gyro_rad_s, self._gyro_scale)
                saturated |= gyro_saturated
            cached = (accel, gyro, r.ticks, saturated)
            self._cache[key] = cached
            while len(self._cache) > 4:
                self._cache.popitem(last=False)
        return cached

    def _produce(self, target: int) -> None:
        stream = self._streams[-1]
        skip = target - self._ring.capacity - self._ring.produced
        if skip > 0:
            # a long jump: samples that would be overwritten before anyone could read them are
            # never rendered (hours of link-down time stay cheap)
            if self._send_seq < self._ring.produced + skip and not self._streaming:
                self._overflowed = True
            self._ring.skip(skip)
        while self._ring.produced < target:
            i = self._ring.produced - stream.first_seq
            block, offset = divmod(i, BLOCK)
            take = min(target - self._ring.produced, BLOCK - offset)
            accel, gyro, ticks, saturated = self._block(stream, block)
            rows = slice(offset, offset + take)
            self._ring.write(accel[rows], gyro[rows], ticks[rows], saturated[rows])
            if self._oldest() > self._send_seq and not self._streaming:
                if not self._overflowed:
                    logger.warning("%s: buffer overflow, oldest unsent samples lost", self.name)
                self._overflowed = True

    def _packet(self, first: int, count: int, replayed: bool) -> bytes:
        return self._ring.packet(first, count, replayed=replayed, gyro=self.imu.gyro)

    def _emit(self, out: list[bytes], first: int, count: int, replayed: bool) -> None:
        self._credit -= count
        if self.faults.drop_rate > 0 and self._fault_rng.random() < self.faults.drop_rate:
            self.counters["dropped_packets"] += 1
            return
        out.append(self._packet(first, count, replayed))

    def _send_jobs(self, out: list[bytes]) -> None:
        while self._jobs and self._credit > 0:
            job = self._jobs[0]
            job[0] = max(job[0], self._oldest())  # overwritten meanwhile: skip
            count = min(self._per_packet, job[1] - job[0])
            if count <= 0:
                self._jobs.pop(0)
                continue
            self._emit(out, job[0], count, True)
            job[0] += count

    def _send_stream(self, out: list[bytes]) -> None:
        if self._send_seq < self._oldest():  # overwritten before it could be sent
            self.counters["overwritten_samples"] += self._oldest() - self._send_seq
            self._send_seq = self._oldest()
        while self._credit > 0:
            replay = self._send_seq < self._live_from
            stop = self._live_from if replay else self._ring.produced
            count = min(self._per_packet, stop - self._send_seq)
            if count <= 0 or (not replay and count < self._per_packet):
                break
            self._emit(out, self._send_seq, count, replay)
            self._send_seq += count

    # ------------------------------------------------------------------ firmware operations
    # (the control point in device_sim.control validates commands and calls these)

    def handle_command(self, payload: bytes) -> list[bytes]:
        """Answer one encoded command; malformed input gets an error Response or nothing."""
        return control.handle_command(self, payload)

    def start(self, from_seq: int) -> tuple[int, int, Result]:
        """Start streaming, replaying from ``from_seq`` (u32; LIVE_ONLY: none).

        Returns:
            (first seq that will be sent, how many of them are replayed, OK or PARTIAL).
        """
        produced = self._ring.produced
        self._streaming = True
        self._overflowed = False
        self._live_from = produced
        self._next_status_s = self.t_s + STATUS_PERIOD_S
        if from_seq == LIVE_ONLY:
            self._send_seq = produced
            return produced, 0, Result.OK
        first, _, result = self._range(from_seq, 0)
        self._send_seq = first
        logger.debug("%s: START from %d: replaying %d", self.name, first, produced - first)
        return first, produced - first, result

    def stop(self) -> None:
        self._streaming = False

    def replay(self, from_seq: int, count: int) -> tuple[int, int, Result]:
        """Queue buffered samples to be sent again: (first, count, OK or PARTIAL)."""
        first, stop, result = self._range(from_seq, count)
        if stop > first:
            self._jobs.append([first, stop])
        return first, stop - first, result

    def set_rate(self, rate_hz: int) -> None:
        self._reconfigure(rate_hz)

    def set_ranges(self, accel_g: int, gyro_dps: int) -> None:
        self._accel_range_g, self._gyro_range_dps = accel_g, gyro_dps
        self._reconfigure(self._rate_hz)

    def set_packing(self, samples_per_packet: int) -> None:
        self._per_packet = samples_per_packet

    def vibrate(self, pattern: VibratePattern) -> None:
        self.vibrations.append((self.t_s, int(pattern)))
        logger.info("%s: VIBRATE %s at %.2f s", self.name, pattern.name, self.t_s)

    def identify(self, seconds: int) -> None:
        self.identifies.append((self.t_s, seconds))
        logger.info("%s: IDENTIFY for %d s at %.2f s", self.name, seconds, self.t_s)

    def _range(self, from_seq: int, count: int) -> tuple[int, int, Result]:
        """Resolve a u32 ``from_seq`` against the buffer: (first, stop, result)."""
        produced, oldest = self._ring.produced, self._oldest()
        start = produced - (produced - from_seq) % _WRAP
        stop = produced if count == 0 else min(produced, start + count)
        if start < oldest:
            return oldest, max(stop, oldest), Result.PARTIAL
        return start, stop, Result.OK

    def _reconfigure(self, rate_hz: int) -> None:
        """New rate or range: start a new sample stream; buffered samples would be misread."""
        stream = _Stream(
            len(self._streams),
            self._ring.produced,
            float(self.imu.device_time(self.t_s)) + 1.0 / rate_hz,
            float(rate_hz),
        )
        self._streams.append(stream)
        self._rate_hz = rate_hz
        self._ring.floor = self._ring.produced
        self._send_seq = max(self._send_seq, self._ring.produced)
        self._cache.clear()

    # ------------------------------------------------------------------ wearer and truth

    def request_pose(self, pose: str) -> None:
        """Ask the wearer for a pose (guided calibration; see :data:`device_sim.motion.POSES`
        and :data:`device_sim.motion.HANDLING_POSES`).

        Raises:
            ConfigError: unknown pose.
        """
        stream = self._streams[-1]
        # start after the last rendered-and-used sample plus a margin of two samples, so
        # nothing already measured changes
        device_s = (
            stream.first_device_s + (self._ring.produced + 1 - stream.first_seq) / stream.rate_hz
        )
        start = max(self.t_s, float(self.imu.true_time(device_s)))
        try:
            self.motion.request(start, pose, mount_q_bs=self.imu.mount_q_bs)
        except KeyError:
            names = ", ".join([*POSES, *HANDLING_POSES])
            raise ConfigError(f"unknown pose {pose!r}; one of {names}") from None
        logger.info("%s: wearer asked for pose %s at %.2f s", self.name, pose, start)
        first_dirty = (self._ring.produced - stream.first_seq) // BLOCK
        for key in [k for k in self._cache if k[0] == stream.index and k[1] >= first_dirty]:
            del self._cache[key]

    def truth_until(self, t_s: float | None = None, *, since_seq: int = 0) -> Truth:
        """Ground truth of the samples produced up to ``t_s`` (default: now), from
        ``since_seq`` on (recomputed from the script: cheap to keep, exact)."""
        stop = (
            self._ring.produced if t_s is None else min(self._ring.produced, self._due_count(t_s))
        )
        parts = []
        for i, stream in enumerate(self._streams):
            end = self._streams[i + 1].first_seq if i + 1 < len(self._streams) else stop
            a, b = max(since_seq, stream.first_seq), min(end, stop)
            if b > a:
                k = np.arange(a - stream.first_seq, b - stream.first_seq)
                parts.append(self.imu.truth(stream, k))
        return Truth.concatenate(parts)
