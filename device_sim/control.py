"""The simulated sensor's control point: commands in, responses out (pure).

Decodes a Command with :mod:`host.protocol`, checks its parameters against docs/protocol.md §5,
calls the matching :class:`~device_sim.firmware.SimDevice` operation and encodes the answers:
exactly one Response per command (same token and opcode), followed by a Config or Status message
where the protocol says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from host.errors import ProtocolError
from host.protocol import (
    ACCEL_RANGES_G,
    GYRO_RANGES_DPS,
    MAX_SAMPLES_PER_PACKET,
    Command,
    ConfigMessage,
    Opcode,
    Response,
    Result,
    StatusMessage,
    VibratePattern,
    decode_message,
    encode_message,
)

if TYPE_CHECKING:
    from device_sim.firmware import SimDevice

__all__ = ["handle_command"]

logger = logging.getLogger(__name__)

_TYPE_COMMAND, _TYPE_RESPONSE = 0x10, 0x04
_OPCODES = frozenset(int(op) for op in Opcode)
_PATTERNS = frozenset(int(p) for p in VibratePattern)


def handle_command(device: SimDevice, payload: bytes) -> list[bytes]:
    """Answer one encoded command; bytes that are no command get nothing back.

    A command with an opcode the device does not know is answered UNKNOWN_OPCODE, one of the
    wrong size BAD_PARAMETER (echoing token and opcode, as a firmware would).
    """
    try:
        message = decode_message(payload)
    except ProtocolError as exc:
        logger.debug("%s: bad command bytes %s: %s", device.name, bytes(payload).hex(), exc)
        if len(payload) >= 4 and payload[0] == _TYPE_COMMAND and payload[1] == 1:
            result = Result.BAD_PARAMETER if payload[3] in _OPCODES else Result.UNKNOWN_OPCODE
            return [bytes((_TYPE_RESPONSE, 1, payload[2], payload[3], int(result)))]
        return []
    if not isinstance(message, Command):
        return []
    return [encode_message(m) for m in _dispatch(device, message)]


def _pair(first: int, count: int) -> bytes:
    return (first & 0xFFFFFFFF).to_bytes(4, "little") + (count & 0xFFFFFFFF).to_bytes(4, "little")


def _dispatch(device: SimDevice, cmd: Command) -> list[Response | ConfigMessage | StatusMessage]:
    op, p = cmd.opcode, cmd.params

    def reply(result: Result = Result.OK, payload: bytes = b"") -> Response:
        return Response(op, result, cmd.token, payload)

    if op in (Opcode.START, Opcode.REPLAY):
        first, count, result = device.start(p[0]) if op is Opcode.START else device.replay(*p)
        return [reply(result, _pair(first, count))]
    if op is Opcode.STOP:
        device.stop()
        return [reply()]
    if op is Opcode.SET_RATE:
        if not 25 <= p[0] <= 1000:
            return [reply(Result.BAD_PARAMETER)]
        if device.streaming:  # docs/protocol.md §5: STOP, change, START again
            return [reply(Result.BUSY)]
        device.set_rate(p[0])
        return [reply(), device.config()]
    if op is Opcode.SET_RANGE:
        if p[0] not in ACCEL_RANGES_G or p[1] not in GYRO_RANGES_DPS:
            return [reply(Result.BAD_PARAMETER)]
        if device.streaming:
            return [reply(Result.BUSY)]
        device.set_ranges(p[0], p[1])
        return [reply(), device.config()]
    if op is Opcode.SET_PACKING:
        if not 1 <= p[0] <= MAX_SAMPLES_PER_PACKET:
            return [reply(Result.BAD_PARAMETER)]
        device.set_packing(p[0])
        return [reply(), device.config()]
    if op is Opcode.VIBRATE:
        if p[0] not in _PATTERNS:
            return [reply(Result.BAD_PARAMETER)]
        device.vibrate(VibratePattern(p[0]))
        return [reply()]
    if op is Opcode.TIME_SYNC:
        return [reply(payload=device.tick_now().to_bytes(4, "little"))]
    if op is Opcode.IDENTIFY:
        device.identify(p[0])
        return [reply()]
    if op is Opcode.GET_CONFIG:
        return [reply(), device.config()]
    return [reply(), device.status()]  # GET_STATUS
