"""Replay channel: a CSV recording played back as if a sensor were streaming it.

Device string ``replay:FILE.csv?speed=X&packing=N``: ``speed`` is recorded seconds per wall
second (default 1; 0 = as fast as possible), ``packing`` samples per packet (default 10).

The recording (CSV interchange format, read with :func:`host.csvio.read_csv`) is encoded into
real :class:`~host.protocol.DataPacket` s at the finest scales its values allow (int16 counts
spanning the file's largest magnitude), sequence-numbered from 0 and timestamped in µs ticks, so
everything above the channel (SensorLink's handshake, the assembler, the pipeline) runs exactly
as for a live sensor. The stream ends with a non-transient DisconnectedError ("end of
recording"), which SensorLink reports as CLOSED.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from host import protocol
from host.csvio import read_csv
from host.errors import ConfigError, DisconnectedError, ProtocolError
from host.protocol import (
    LIVE_ONLY,
    Command,
    ConfigMessage,
    DataPacket,
    Message,
    Opcode,
    Response,
    Result,
)
from host.samples import SampleBlock
from host.transports.base import DeviceInfo, DeviceUri

__all__ = ["ReplayChannel", "open_replay_channel"]

logger = logging.getLogger(__name__)

TICK_HZ = 1_000_000
_FULL_SCALE = 32000  # counts used by the largest magnitude (a little headroom below 32767)
_BURST = 64  # packets per receive() at speed 0, so the loop stays responsive


def open_replay_channel(uri: DeviceUri) -> ReplayChannel:
    """Factory registered for the ``replay:`` scheme (see host.transports.base.SCHEMES)."""
    return ReplayChannel(uri)


class _Encoded:
    """The recording as protocol fields (computed once per file)."""

    def __init__(self, samples: SampleBlock, packing: int) -> None:
        t = samples.t_s
        if len(t) < 2:
            raise ConfigError("a replay needs at least two samples")
        self.t_s = t - t[0]
        self.rate_hz = max(1, round(1.0 / float(np.median(np.diff(t)))))
        self.accel_scale = _scale(samples.accel_m_s2)
        self.accel = _counts(samples.accel_m_s2, self.accel_scale)
        self.gyro: npt.NDArray[np.int16] | None = None
        self.gyro_scale = 0.0
        if samples.gyro_rad_s is not None:
            self.gyro_scale = _scale(samples.gyro_rad_s)
            self.gyro = _counts(samples.gyro_rad_s, self.gyro_scale)
        self.ticks = np.rint(self.t_s * TICK_HZ).astype(np.int64)
        self.packing = packing

    def __len__(self) -> int:
        return len(self.t_s)

    def config(self, streaming: bool) -> ConfigMessage:
        return ConfigMessage(
            has_gyro=self.gyro is not None,
            streaming=streaming,
            samples_per_packet=self.packing,
            rate_hz=self.rate_hz,
            tick_hz=TICK_HZ,
            accel_scale_m_s2=self.accel_scale,
            gyro_scale_rad_s=self.gyro_scale,
            accel_range_g=16,
            gyro_range_dps=2000 if self.gyro is not None else 0,
            buffer_capacity=len(self),
        )

    def packet(self, first: int) -> DataPacket:
        stop = min(len(self), first + self.packing)
        return DataPacket(
            first & 0xFFFFFFFF,
            int(self.ticks[first]) & 0xFFFFFFFF,
            self.accel[first:stop],
            None if self.gyro is None else self.gyro[first:stop],
        )


def _scale(values: npt.NDArray[np.float64]) -> float:
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    # round-trip through float32: that is what the config message carries
    return float(np.float32(max(peak, 1e-6) / _FULL_SCALE))


def _counts(values: npt.NDArray[np.float64], scale: float) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(values / scale), -32768, 32767).astype(np.int16)


class ReplayChannel:
    """A :class:`~host.transports.base.Channel` playing a CSV recording.

    Args:
        uri: ``replay:`` device string (see module docstring).

    Raises:
        ConfigError: bad options.
    """

    def __init__(self, uri: DeviceUri) -> None:
        if not uri.target:
            raise ConfigError("replay: needs a file, e.g. replay:day.csv?speed=10")
        self._path = Path(uri.target).expanduser()
        self._speed = uri.number("speed", 1.0)
        packing = int(uri.number("packing", 10))
        if self._speed < 0 or not 1 <= packing <= protocol.MAX_SAMPLES_PER_PACKET:
            raise ConfigError(
                f"replay: speed must be >= 0 and packing 1..{protocol.MAX_SAMPLES_PER_PACKET}"
            )
        self._packing = packing
        self._data: _Encoded | None = None
        self._connected = False
        self._streaming = False
        self._pos = 0  # next sample to send
        self._anchor: tuple[float, float] = (0.0, 0.0)  # (wall s, recording s) when started
        self._outbox: list[Message] = []
        self._wake = asyncio.Event()
        self._stats = {"packets": 0, "decode_errors": 0, "commands": 0}

    @property
    def description(self) -> str:
        return f"replay {self._path.name}"

    def statistics(self) -> dict[str, int]:
        return dict(self._stats)

    async def connect(self) -> DeviceInfo:
        """Load the recording (first time) and "connect".

        Raises:
            InputDataError: the file is missing or not in the CSV interchange format.
        """
        if self._data is None:
            recording = await asyncio.to_thread(read_csv, self._path)
            for warning in recording.warnings:
                logger.warning("%s", warning)
            self._data = _Encoded(recording.samples, self._packing)
        self._connected = True
        self._streaming = False
        return DeviceInfo(
            name=self._path.name, address=str(self._path), transport="replay", model="recording"
        )

    async def disconnect(self) -> None:
        self._connected = False
        self._streaming = False
        self._wake.set()

    async def send(self, payload: bytes) -> None:
        """Answer a command as a device would (START seeks to the requested sample).

        Raises:
            DisconnectedError: not connected.
        """
        if not self._connected or self._data is None:
            raise DisconnectedError(f"{self.description}: not connected")
        self._stats["commands"] += 1
        try:
            command = protocol.decode_message(payload)
        except ProtocolError:
            self._stats["decode_errors"] += 1
            return
        if isinstance(command, Command):
            self._outbox.extend(self._answer(command, self._data))
            self._wake.set()

    def _answer(self, command: Command, data: _Encoded) -> list[Message]:
        op, token = command.opcode, command.token
        if op is Opcode.GET_CONFIG:
            return [Response(op, Result.OK, token), data.config(self._streaming)]
        if op is Opcode.TIME_SYNC:
            tick = int(data.ticks[min(self._pos, len(data) - 1)]) & 0xFFFFFFFF
            return [Response(op, Result.OK, token, struct.pack("<I", tick))]
        if op is Opcode.START:
            from_seq = command.params[0]
            if from_seq != LIVE_ONLY:
                self._pos = min(from_seq, len(data))  # a recording has everything "buffered"
            self._streaming = True
            position_s = float(data.t_s[min(self._pos, len(data) - 1)])
            self._anchor = (time.monotonic(), position_s)
            payload = struct.pack("<II", self._pos, 0)
            return [Response(op, Result.OK, token, payload)]
        if op is Opcode.STOP:
            self._streaming = False
            return [Response(op, Result.OK, token)]
        if op in (Opcode.VIBRATE, Opcode.IDENTIFY):
            logger.info("%s: %s ignored (a recording cannot vibrate)", self.description, op.name)
            return [Response(op, Result.OK, token)]
        return [Response(op, Result.UNKNOWN_OPCODE, token)]

    async def receive(self) -> list[Message]:
        """Wait until the next packet is due (by recorded time / speed).

        Raises:
            DisconnectedError: not connected, or (not transient) the recording ended.
        """
        while True:
            if not self._connected or self._data is None:
                raise DisconnectedError(f"{self.description}: not connected")
            data = self._data
            out, self._outbox = self._outbox, []
            if self._streaming and self._pos >= len(data):
                if out:
                    return out
                raise DisconnectedError(
                    f"end of recording {self._path.name} ({len(data)} samples)", transient=False
                )
            if self._streaming:
                wait_s = self._due_in_s(data)
                if wait_s <= 0:
                    out.extend(self._take(data))
                elif not out:
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(wait_s):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                    continue
            if out:
                if self._speed == 0:
                    await asyncio.sleep(0)  # as fast as possible, but let others run
                return out
            self._wake.clear()
            await self._wake.wait()

    def _due_in_s(self, data: _Encoded) -> float:
        if self._speed == 0:
            return 0.0
        last = min(len(data), self._pos + data.packing) - 1
        wall0, rec0 = self._anchor
        return wall0 + (float(data.t_s[last]) - rec0) / self._speed - time.monotonic()

    def _take(self, data: _Encoded) -> list[Message]:
        out: list[Message] = []
        while self._pos < len(data) and len(out) < _BURST:
            if out and self._due_in_s(data) > 0:
                break
            out.append(data.packet(self._pos))
            self._pos = min(len(data), self._pos + data.packing)
            self._stats["packets"] += 1
        return out
