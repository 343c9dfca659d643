"""Wire format of the posture sensor, as code (pure: no I/O).

The prose specification with worked hex examples is ``docs/protocol.md``; this module is the
single implementation used by the simulator (to encode) and by every transport (to decode).

Two layers:

* **Messages**: a type byte, a version byte and a fixed little-endian body. Over BLE one message
  is one notification or write (the link layer already delimits and checks it).
* **Serial frames** wrap a message for byte streams: ``A5 5A | len u16 | message | crc16 u16``,
  CRC-16/CCITT-FALSE over the length and message bytes. :class:`FrameDecoder` finds frames in
  arbitrary chunks, resynchronises after garbage and counts what it skipped.
"""

from __future__ import annotations

import binascii
import enum
import struct
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from host.errors import ChecksumError, FramingError, ProtocolError, UnsupportedVersionError

__all__ = [
    "ACCEL_RANGES_G",
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "CONFIG_CHAR_UUID",
    "CONTROL_CHAR_UUID",
    "DATA_CHAR_UUID",
    "DEVICE_INFO_SERVICE_UUID",
    "FIRMWARE_REV_UUID",
    "GYRO_RANGES_DPS",
    "HARDWARE_REV_UUID",
    "LIVE_ONLY",
    "MANUFACTURER_UUID",
    "MAX_FRAME_PAYLOAD",
    "MAX_SAMPLES_PER_PACKET",
    "MODEL_NUMBER_UUID",
    "PROTOCOL_VERSION",
    "SERIAL_NUMBER_UUID",
    "SERVICE_UUID",
    "STATUS_CHAR_UUID",
    "SYNC",
    "Command",
    "ConfigMessage",
    "DataPacket",
    "DecoderStatistics",
    "DeviceError",
    "FrameDecoder",
    "Message",
    "Opcode",
    "Response",
    "Result",
    "StatusMessage",
    "VibratePattern",
    "crc16",
    "decode_frame",
    "decode_message",
    "encode_frame",
    "encode_message",
]

PROTOCOL_VERSION = 1

# 128-bit UUIDs of our service; the "5053" prefix spells "PS" (Posture Sensor).
SERVICE_UUID = "50530001-7f3c-4e2a-9b1d-6c0a8e4d2f10"
DATA_CHAR_UUID = "50530002-7f3c-4e2a-9b1d-6c0a8e4d2f10"  # notify: DataPacket
CONTROL_CHAR_UUID = "50530003-7f3c-4e2a-9b1d-6c0a8e4d2f10"  # write: Command; notify: Response
STATUS_CHAR_UUID = "50530004-7f3c-4e2a-9b1d-6c0a8e4d2f10"  # read, notify: StatusMessage
CONFIG_CHAR_UUID = "50530005-7f3c-4e2a-9b1d-6c0a8e4d2f10"  # read, notify: ConfigMessage

# Standard SIG services and characteristics (16-bit UUIDs on the Bluetooth base UUID).
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
SERIAL_NUMBER_UUID = "00002a25-0000-1000-8000-00805f9b34fb"
FIRMWARE_REV_UUID = "00002a26-0000-1000-8000-00805f9b34fb"
HARDWARE_REV_UUID = "00002a27-0000-1000-8000-00805f9b34fb"

SYNC = b"\xa5\x5a"
# The largest message is a 40-sample 6-axis data packet (492 bytes). Keeping the limit close to it
# matters: after a false sync in garbage the decoder must wait for up to MAX_FRAME_PAYLOAD + 6
# bytes before the CRC can reject it, and real frames behind it wait too.
MAX_FRAME_PAYLOAD = 512
MAX_SAMPLES_PER_PACKET = 40  # 12 + 40 * 12 = 492 bytes: fits the largest BLE ATT payload (512)
LIVE_ONLY = 0xFFFFFFFF  # START without replay
ACCEL_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (125, 250, 500, 1000, 2000)

_TYPE_DATA = 0x01
_TYPE_CONFIG = 0x02
_TYPE_STATUS = 0x03
_TYPE_RESPONSE = 0x04
_TYPE_COMMAND = 0x10

# data packet flags
_FLAG_GYRO = 0x01
_FLAG_REPLAYED = 0x02
_FLAG_SATURATED = 0x04
# config flags (bit 0 is _FLAG_GYRO as in data packets)
_CONFIG_STREAMING = 0x02
# status flags
_STATUS_CHARGING = 0x01
_STATUS_STREAMING = 0x02
_STATUS_OVERFLOWED = 0x04

_DATA_HEADER = struct.Struct("<BBBBII")  # type, version, flags, count, seq, tick
# type, version, flags, samples/packet, rate_hz, tick_hz, accel scale, gyro scale (f32),
# accel range g, gyro range dps, buffer capacity (samples)
_CONFIG = struct.Struct("<BBBBHIffBHI")
# type, version, battery %, flags, buffer fill (samples), tick, error code
_STATUS = struct.Struct("<BBBBIIB")
_INT16 = np.dtype("<i2")
_CMD_HEADER = struct.Struct("<BBBB")  # type, version, token, opcode
_RESP_HEADER = struct.Struct("<BBBBB")  # type, version, token, opcode, result
_LEN = struct.Struct("<H")
_CRC = struct.Struct("<H")


class Opcode(enum.IntEnum):
    """Control-point operations (host → device)."""

    START = 0x01  # u32 from_seq (LIVE_ONLY: no replay)
    STOP = 0x02
    SET_RATE = 0x03  # u16 rate_hz
    SET_RANGE = 0x04  # u8 accel_g, u16 gyro_dps
    VIBRATE = 0x05  # u8 pattern, u8 repeat, u16 on_ms, u16 off_ms
    TIME_SYNC = 0x06  # u64 host_time_us -> response u32 device tick
    IDENTIFY = 0x07  # u8 seconds
    REPLAY = 0x08  # u32 from_seq, u32 count (0 = up to now) -> response u32 first, u32 count
    GET_CONFIG = 0x09
    GET_STATUS = 0x0A
    SET_PACKING = 0x0B  # u8 samples per packet


class Result(enum.IntEnum):
    """Result code of a :class:`Response`."""

    OK = 0
    UNKNOWN_OPCODE = 1
    BAD_PARAMETER = 2
    BUSY = 3
    PARTIAL = 4  # replay: only part of the requested range is still buffered


class VibratePattern(enum.IntEnum):
    """Haptic patterns of the VIBRATE command."""

    GENTLE = 1  # 2 x 150 ms: posture reminder
    STRONG = 2  # 3 x 150 ms: escalation
    NUDGE = 3  # 1 x 400 ms: stillness / stand-up nudge
    CONFIRM = 4  # 1 x 80 ms: acknowledgement (calibration done, identify)


class DeviceError(enum.IntEnum):
    """Error code in :class:`StatusMessage`."""

    NONE = 0
    SENSOR_FAULT = 1
    BUFFER_OVERFLOW = 2
    CLOCK_FAULT = 3
    LOW_BATTERY = 4


_CMD_PARAMS: dict[Opcode, struct.Struct] = {
    Opcode.START: struct.Struct("<I"),
    Opcode.STOP: struct.Struct("<"),
    Opcode.SET_RATE: struct.Struct("<H"),
    Opcode.SET_RANGE: struct.Struct("<BH"),
    Opcode.VIBRATE: struct.Struct("<BBHH"),
    Opcode.TIME_SYNC: struct.Struct("<Q"),
    Opcode.IDENTIFY: struct.Struct("<B"),
    Opcode.REPLAY: struct.Struct("<II"),
    Opcode.GET_CONFIG: struct.Struct("<"),
    Opcode.GET_STATUS: struct.Struct("<"),
    Opcode.SET_PACKING: struct.Struct("<B"),
}


@dataclass(frozen=True, slots=True, eq=False)
class DataPacket:
    """Several consecutive IMU samples in raw counts.

    Attributes:
        seq: sequence number of the first sample (u32, wraps; one per sample, not per packet).
        tick: device clock of the first sample in ticks (u32, wraps; rate in ConfigMessage).
        accel: (N, 3) int16 accelerometer counts, sensor frame.
        gyro: (N, 3) int16 gyroscope counts, or None for a device without gyroscope.
        replayed: samples sent again from the device buffer after a reconnect.
        saturated: at least one value hit the end of its range.
    """

    seq: int
    tick: int
    accel: npt.NDArray[np.int16]
    gyro: npt.NDArray[np.int16] | None = None
    replayed: bool = False
    saturated: bool = False

    def __len__(self) -> int:
        return int(self.accel.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataPacket):
            return NotImplemented
        gyro_equal = (self.gyro is None and other.gyro is None) or (
            self.gyro is not None
            and other.gyro is not None
            and np.array_equal(self.gyro, other.gyro)
        )
        return (
            (self.seq, self.tick, self.replayed, self.saturated)
            == (other.seq, other.tick, other.replayed, other.saturated)
            and np.array_equal(self.accel, other.accel)
            and gyro_equal
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class ConfigMessage:
    """What the device announces about its stream (read before streaming, re-read on change).

    Attributes:
        rate_hz: output data rate.
        tick_hz: device clock rate of the ``tick`` fields.
        accel_scale_m_s2: m/s² per accelerometer count.
        gyro_scale_rad_s: rad/s per gyroscope count (0 without gyroscope).
    """

    has_gyro: bool
    streaming: bool
    samples_per_packet: int
    rate_hz: int
    tick_hz: int
    accel_scale_m_s2: float
    gyro_scale_rad_s: float
    accel_range_g: int
    gyro_range_dps: int
    buffer_capacity: int


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """Device health: battery, on-device buffer, errors."""

    battery_pct: int
    charging: bool
    streaming: bool
    buffer_overflowed: bool
    buffer_fill: int
    tick: int
    error: DeviceError = DeviceError.NONE


@dataclass(frozen=True, slots=True)
class Command:
    """Control-point command; ``params`` follow the opcode's layout (see :class:`Opcode`)."""

    opcode: Opcode
    params: tuple[int, ...] = ()
    token: int = 0


@dataclass(frozen=True, slots=True)
class Response:
    """Device answer to a :class:`Command` with the same ``token``.

    ``opcode`` is a plain int when this host does not know it (a newer firmware's): such a
    response still decodes, it just matches no command this host sent.
    """

    opcode: Opcode | int
    result: Result
    token: int = 0
    payload: bytes = b""

    def values(self) -> tuple[int, ...]:
        """Decode the payload: TIME_SYNC → (tick,); START/REPLAY → (first_seq, count)."""
        if self.opcode is Opcode.TIME_SYNC and len(self.payload) == 4:
            return struct.unpack("<I", self.payload)
        if self.opcode in (Opcode.START, Opcode.REPLAY) and len(self.payload) == 8:
            return struct.unpack("<II", self.payload)
        return ()


Message = DataPacket | ConfigMessage | StatusMessage | Command | Response


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection); ``crc16(b"123456789")``
    is 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


# ----------------------------------------------------------------------------- encoding


def encode_message(message: Message) -> bytes:
    """Encode one message body (what a BLE characteristic carries).

    Raises:
        ProtocolError: a field does not fit its wire type (e.g. a count above int16, a token
            above 255, a data packet with 0 or more than :data:`MAX_SAMPLES_PER_PACKET` samples).
    """
    try:
        return _encode(message)
    except (struct.error, OverflowError) as exc:
        raise ProtocolError(f"cannot encode {type(message).__name__}: {exc}") from exc


def _encode(message: Message) -> bytes:
    if isinstance(message, DataPacket):
        return _encode_data(message)
    if isinstance(message, ConfigMessage):
        flags = (_FLAG_GYRO if message.has_gyro else 0) | (
            _CONFIG_STREAMING if message.streaming else 0
        )
        return _CONFIG.pack(
            _TYPE_CONFIG,
            PROTOCOL_VERSION,
            flags,
            message.samples_per_packet,
            message.rate_hz,
            message.tick_hz,
            message.accel_scale_m_s2,
            message.gyro_scale_rad_s,
            message.accel_range_g,
            message.gyro_range_dps,
            message.buffer_capacity,
        )
    if isinstance(message, StatusMessage):
        flags = (
            (_STATUS_CHARGING if message.charging else 0)
            | (_STATUS_STREAMING if message.streaming else 0)
            | (_STATUS_OVERFLOWED if message.buffer_overflowed else 0)
        )
        return _STATUS.pack(
            _TYPE_STATUS,
            PROTOCOL_VERSION,
            message.battery_pct,
            flags,
            message.buffer_fill,
            message.tick,
            int(message.error),
        )
    if isinstance(message, Command):
        layout = _CMD_PARAMS[Opcode(message.opcode)]
        return _CMD_HEADER.pack(
            _TYPE_COMMAND, PROTOCOL_VERSION, message.token, message.opcode
        ) + layout.pack(*message.params)
    return (
        _RESP_HEADER.pack(
            _TYPE_RESPONSE, PROTOCOL_VERSION, message.token, message.opcode, message.result
        )
        + message.payload
    )


def _encode_data(packet: DataPacket) -> bytes:
    count = len(packet)
    if not 1 <= count <= MAX_SAMPLES_PER_PACKET:
        raise ProtocolError(
            f"a data packet carries 1..{MAX_SAMPLES_PER_PACKET} samples, not {count}"
        )
    flags = (
        (_FLAG_GYRO if packet.gyro is not None else 0)
        | (_FLAG_REPLAYED if packet.replayed else 0)
        | (_FLAG_SATURATED if packet.saturated else 0)
    )
    header = _DATA_HEADER.pack(
        _TYPE_DATA,
        PROTOCOL_VERSION,
        flags,
        count,
        packet.seq & 0xFFFFFFFF,
        packet.tick & 0xFFFFFFFF,
    )
    width = 3 if packet.gyro is None else 6
    # interleaved per sample: ax ay az [gx gy gz]; filling one preallocated array is several
    # times faster than np.hstack for these tiny arrays
    table = np.empty((count, width), dtype=_INT16)
    _put_counts(table[:, :3], packet.accel, count, "accel")
    if packet.gyro is not None:
        _put_counts(table[:, 3:], packet.gyro, count, "gyro")
    return header + table.tobytes()


def _put_counts(out: npt.NDArray[np.int16], counts: npt.ArrayLike, n: int, what: str) -> None:
    values = np.asarray(counts)
    if values.shape != (n, 3):
        raise ProtocolError(f"{what} must have shape ({n}, 3), not {values.shape}")
    if values.dtype.kind not in "iu":
        raise ProtocolError(f"{what} must be integer counts, not {values.dtype}")
    # A silent int16 wrap would turn +1.1 g into a large negative reading; refuse instead.
    if values.dtype != np.int16 and (values.min() < -32768 or values.max() > 32767):
        raise ProtocolError(f"{what} counts outside int16: {values.min()}..{values.max()}")
    out[:] = values


def encode_frame(message: Message | bytes) -> bytes:
    """Wrap a message (or an already encoded body) in a serial frame."""
    body = message if isinstance(message, bytes) else encode_message(message)
    if not 1 <= len(body) <= MAX_FRAME_PAYLOAD:
        raise ProtocolError(f"frame payload must be 1..{MAX_FRAME_PAYLOAD} bytes, not {len(body)}")
    length = _LEN.pack(len(body))
    return SYNC + length + body + _CRC.pack(crc16(length + body))


# ----------------------------------------------------------------------------- decoding


def decode_message(data: bytes | bytearray | memoryview) -> Message:
    """Decode one message body.

    Raises:
        FramingError: empty, truncated or over-long message, or an unknown type.
        UnsupportedVersionError: a version other than :data:`PROTOCOL_VERSION`.
        ProtocolError: impossible field values.
    """
    data = bytes(data)
    if len(data) < 2:
        raise FramingError(f"message too short ({len(data)} bytes)")
    kind, version = data[0], data[1]
    if version != PROTOCOL_VERSION:
        raise UnsupportedVersionError(
            f"protocol version {version} (this host speaks {PROTOCOL_VERSION}); "
            "update Posture Companion or the sensor firmware"
        )
    if kind == _TYPE_DATA:
        return _decode_data(data)
    if kind == _TYPE_CONFIG:
        _expect_size(data, _CONFIG.size, "config")
        (_, _, flags, per_packet, rate, tick_hz, a_scale, g_scale, a_range, g_range, capacity) = (
            _CONFIG.unpack(data)
        )
        if rate == 0 or tick_hz == 0:
            raise ProtocolError("config announces a zero sample or tick rate")
        return ConfigMessage(
            bool(flags & _FLAG_GYRO),
            bool(flags & _CONFIG_STREAMING),
            per_packet,
            rate,
            tick_hz,
            a_scale,
            g_scale,
            a_range,
            g_range,
            capacity,
        )
    if kind == _TYPE_STATUS:
        _expect_size(data, _STATUS.size, "status")
        _, _, battery, flags, fill, tick, error = _STATUS.unpack(data)
        try:
            error_code = DeviceError(error)
        except ValueError:
            error_code = DeviceError.SENSOR_FAULT
        return StatusMessage(
            battery,
            bool(flags & _STATUS_CHARGING),
            bool(flags & _STATUS_STREAMING),
            bool(flags & _STATUS_OVERFLOWED),
            fill,
            tick,
            error_code,
        )
    if kind == _TYPE_COMMAND:
        if len(data) < _CMD_HEADER.size:
            raise FramingError("command too short")
        _, _, token, op = _CMD_HEADER.unpack_from(data)
        try:
            opcode = Opcode(op)
        except ValueError as exc:
            raise ProtocolError(f"unknown opcode 0x{op:02x}") from exc
        layout = _CMD_PARAMS[opcode]
        _expect_size(data, _CMD_HEADER.size + layout.size, f"{opcode.name} command")
        return Command(opcode, tuple(layout.unpack_from(data, _CMD_HEADER.size)), token)
    if kind == _TYPE_RESPONSE:
        if len(data) < _RESP_HEADER.size:
            raise FramingError("response too short")
        _, _, token, op, result = _RESP_HEADER.unpack_from(data)
        try:
            code = Result(result)
        except ValueError as exc:
            raise ProtocolError(f"bad response result {result} (opcode 0x{op:02x})") from exc
        # an opcode of a newer firmware stays a number: the response decodes, matches nothing
        return Response(_known(Opcode, op), code, token, data[_RESP_HEADER.size :])
    raise FramingError(f"unknown message type 0x{kind:02x}")


_E = TypeVar("_E", bound=enum.IntEnum)


def _known(kind: type[_E], value: int) -> _E | int:
    try:
        return kind(value)
    except ValueError:
        return value


def _expect_size(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise FramingError(f"{what} message is {len(data)} bytes, expected {size}")


def _decode_data(data: bytes) -> DataPacket:
    if len(data) < _DATA_HEADER.size:
        raise FramingError(f"data packet header truncated ({len(data)} bytes)")
    _, _, flags, count, seq, tick = _DATA_HEADER.unpack_from(data)
    has_gyro = flags & _FLAG_GYRO
    width = 6 if has_gyro else 3
    if not 1 <= count <= MAX_SAMPLES_PER_PACKET:
        raise ProtocolError(f"data packet claims {count} samples")
    _expect_size(data, _DATA_HEADER.size + count * width * 2, "data")
    # Read-only strided views straight onto the (immutable) message bytes: no copy, and a frozen
    # packet whose arrays cannot change behind its back. np.ndarray(buffer=...) is about twice
    # as fast as frombuffer + reshape + two slices for these tiny arrays.
    stride = (2 * width, 2)
    head = _DATA_HEADER.size
    return DataPacket(
        seq,
        tick,
        np.ndarray((count, 3), _INT16, data, head, stride),
        np.ndarray((count, 3), _INT16, data, head + 6, stride) if has_gyro else None,
        bool(flags & _FLAG_REPLAYED),
        bool(flags & _FLAG_SATURATED),
    )


def decode_frame(frame: bytes) -> Message:
    """Decode exactly one serial frame (raises on any defect; see :class:`FrameDecoder`)."""
    if len(frame) < 6 or frame[:2] != SYNC:
        raise FramingError("frame does not start with sync bytes A5 5A")
    (length,) = _LEN.unpack_from(frame, 2)
    if not 1 <= length <= MAX_FRAME_PAYLOAD or len(frame) != length + 6:
        raise FramingError(f"frame length field {length} does not match {len(frame)} bytes")
    (crc,) = _CRC.unpack_from(frame, 4 + length)
    if crc != crc16(frame[2 : 4 + length]):
        raise ChecksumError("frame CRC mismatch")
    return decode_message(frame[4 : 4 + length])


@dataclass(slots=True)
class DecoderStatistics:
    """Counters of a :class:`FrameDecoder` (bytes and frames, good and bad).

    Every byte fed is accounted for: ``bytes_in`` equals the bytes of the ``frames_ok`` good
    frames plus ``bytes_skipped`` (garbage, rejected frames, input dropped by ``reset``) plus the
    decoder's :attr:`FrameDecoder.buffered_bytes`.

    Attributes:
        bytes_in: bytes fed.
        frames_ok: frames whose message decoded.
        crc_errors: candidate frames rejected by their CRC (corruption, or a false sync in data).
        length_errors: candidate frames with a length of 0 or above :data:`MAX_FRAME_PAYLOAD`.
        message_errors: frames with a good CRC whose message did not decode (unknown type,
            other protocol version, wrong size); ``last_error`` says why.
        bytes_skipped: bytes dropped while searching for frames.
        last_error: text of the most recent message error ("" if none), for a log line that can
            say "update the firmware" instead of just a count.
    """

    bytes_in: int = 0
    frames_ok: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    message_errors: int = 0
    bytes_skipped: int = 0
    last_error: str = ""

    @property
    def bad_frames(self) -> int:
        """All rejected candidate frames (CRC, length and message errors)."""
        return self.crc_errors + self.length_errors + self.message_errors


@dataclass(slots=True)
class FrameDecoder:
    """Streaming serial-frame decoder: feed any chunks, get the messages they complete.

    Garbage, a start in the middle of a frame, a bad length or a bad CRC never raise: the decoder
    counts the defect, drops one byte past the false sync and searches again, so a real frame
    hiding behind a corrupt one is still found. A frame is delivered at the latest once
    ``MAX_FRAME_PAYLOAD + 6`` further bytes have arrived (the worst case is a false sync in
    garbage announcing the maximum length, which only the CRC at its end can reject).
    """

    statistics: DecoderStatistics = field(default_factory=DecoderStatistics)
    _buffer: bytearray = field(default_factory=bytearray)

    @property
    def buffered_bytes(self) -> int:
        """Bytes held back as the possible start of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message]:
        """Add bytes; return every message completed by them, in order."""
        buf = self._buffer
        buf += data
        stats = self.statistics
        stats.bytes_in += len(data)
        out: list[Message] = []
        pos = 0
        end = len(buf)
        while True:
            start = buf.find(SYNC, pos)
            if start < 0:
                # keep a trailing 0xA5: it may be the first half of a sync pair
                keep = end - 1 if end > pos and buf[end - 1] == SYNC[0] else end
                stats.bytes_skipped += keep - pos
                pos = keep
                break
            stats.bytes_skipped += start - pos
            pos = start
            if end - pos < 4:
                break
            length = buf[pos + 2] | (buf[pos + 3] << 8)
            if not 1 <= length <= MAX_FRAME_PAYLOAD:
                stats.length_errors += 1
                stats.bytes_skipped += 1
                pos += 1
                continue
            frame_end = pos + 6 + length
            if frame_end > end:
                break
            crc = buf[frame_end - 2] | (buf[frame_end - 1] << 8)
            if crc != binascii.crc_hqx(memoryview(buf)[pos + 2 : frame_end - 2], 0xFFFF):
                # Skip only the first sync byte: a real frame may start inside this false one.
                stats.crc_errors += 1
                stats.bytes_skipped += 1
                pos += 1
                continue
            try:
                out.append(decode_message(bytes(buf[pos + 4 : frame_end - 2])))
                stats.frames_ok += 1
            except ProtocolError as exc:
                # The CRC vouches for the framing, so resume after this frame.
                stats.message_errors += 1
                stats.bytes_skipped += frame_end - pos
                stats.last_error = str(exc)
            pos = frame_end
        del buf[:pos]
        return out

    def reset(self) -> None:
        """Forget partial input (after a reconnect the stream starts afresh)."""
        self.statistics.bytes_skipped += len(self._buffer)
        self._buffer.clear()
