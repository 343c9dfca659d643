"""Wire-protocol throughput: how much sensor data the codec moves per second.

The stream is what a 100 Hz 6-axis sensor sends over a serial link: data packets of 5 samples
(78-byte frames), fed to :class:`host.protocol.FrameDecoder` in 4 KiB chunks as a serial reader
would. The peer is the "no checks" floor: ``struct.unpack_from`` of the raw fields at known
offsets, with no sync search, no length or CRC check and no numpy arrays. Run standalone with
``python -m bench.bench_protocol [--quick]``.
"""

from __future__ import annotations

import struct
import sys
import time
from collections.abc import Callable

import numpy as np

from host.protocol import (
    ConfigMessage,
    DataPacket,
    FrameDecoder,
    encode_frame,
)
from host.samples import SampleAssembler

__all__ = ["run"]

RATE_HZ = 100
PER_PACKET = 5
CHUNK = 4096
TICK_HZ = 1_000_000
_RAW = struct.Struct(f"<BBBBII{PER_PACKET * 6}h")  # the peer's view of one data message
_FRAME_SIZE = 4 + _RAW.size + 2


def _packets(n_packets: int, seed: int = 1) -> list[DataPacket]:
    """Plausible counts: gravity on +x plus noise and slow sway, gyro noise (±8 g, ±2000 dps)."""
    rng = np.random.default_rng(seed)
    n = n_packets * PER_PACKET
    t = np.arange(n) / RATE_HZ
    accel = np.empty((n, 3))
    accel[:, 0] = 4096 + 300 * np.cos(0.3 * t)
    accel[:, 1] = 50 * np.sin(0.7 * t)
    accel[:, 2] = 300 * np.sin(0.3 * t)
    accel += rng.normal(0, 8, (n, 3))
    gyro = rng.normal(0, 20, (n, 3)) + 100 * np.sin(0.3 * t)[:, None]
    accel_i = np.rint(accel).astype(np.int16)
    gyro_i = np.rint(gyro).astype(np.int16)
    ticks_per_packet = TICK_HZ // RATE_HZ * PER_PACKET
    return [
        DataPacket(
            k * PER_PACKET,
            (k * ticks_per_packet) & 0xFFFFFFFF,
            accel_i[k * PER_PACKET : (k + 1) * PER_PACKET],
            gyro_i[k * PER_PACKET : (k + 1) * PER_PACKET],
        )
        for k in range(n_packets)
    ]


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _decode_ours(stream: bytes) -> int:
    decoder = FrameDecoder()
    n = 0
    for i in range(0, len(stream), CHUNK):
        for message in decoder.feed(stream[i : i + CHUNK]):
            n += len(message)  # type: ignore[arg-type]
    return n


def _decode_and_assemble(stream: bytes, config: ConfigMessage) -> int:
    decoder = FrameDecoder()
    assembler = SampleAssembler(config)
    n = 0
    for i in range(0, len(stream), CHUNK):
        for message in decoder.feed(stream[i : i + CHUNK]):
            if isinstance(message, DataPacket):
                block = assembler.push(message)
                if block is not None:
                    n += len(block)
    return n


def _decode_peer(stream: bytes) -> int:
    unpack = _RAW.unpack_from
    n = 0
    for offset in range(4, len(stream), _FRAME_SIZE):
        n += unpack(stream, offset)[3]
    return n


def _encode_peer(raw: list[tuple[int, ...]]) -> bytes:
    pack = _RAW.pack
    return b"".join([pack(*fields) for fields in raw])


def _corrupt(stream: bytes, fraction: float, seed: int = 2) -> tuple[bytes, int]:
    """Flip one byte in ``fraction`` of the frames and put 0..40 garbage bytes before them."""
    rng = np.random.default_rng(seed)
    out = bytearray()
    damaged = 0
    for offset in range(0, len(stream), _FRAME_SIZE):
        frame = bytearray(stream[offset : offset + _FRAME_SIZE])
        if rng.random() < fraction:
            frame[int(rng.integers(len(frame)))] ^= int(rng.integers(1, 256))
            out += rng.integers(0, 256, int(rng.integers(0, 41)), dtype=np.uint8).tobytes()
            damaged += 1
        out += frame
    return bytes(out), damaged


def run(quick: bool) -> list[dict[str, object]]:
    """Measure decode, decode+assemble and encode throughput (best of a few repeats)."""
    minutes = 6 if quick else 60
    repeats = 2 if quick else 3
    packets = _packets(minutes * 60 * RATE_HZ // PER_PACKET)
    n_samples = len(packets) * PER_PACKET
    stream = b"".join(encode_frame(p) for p in packets)
    if len(stream) != len(packets) * _FRAME_SIZE:
        raise RuntimeError("frame size differs from the peer's fixed layout")
    mb = len(stream) / 1e6
    config = ConfigMessage(True, True, PER_PACKET, RATE_HZ, TICK_HZ, 0.0024, 0.0011, 8, 2000, 0)
    raw = [
        (1, 1, 1, PER_PACKET, p.seq, p.tick, *np.hstack((p.accel, p.gyro)).ravel().tolist())  # type: ignore[arg-type]
        for p in packets
    ]

    if _decode_ours(stream) != n_samples or _decode_peer(stream) != n_samples:
        raise RuntimeError("decoders disagree on the sample count")
    t_ours = _best_time(lambda: _decode_ours(stream), repeats)
    t_peer = _best_time(lambda: _decode_peer(stream), repeats)
    t_asm = _best_time(lambda: _decode_and_assemble(stream, config), repeats)
    t_enc = _best_time(lambda: [encode_frame(p) for p in packets], repeats)
    t_enc_peer = _best_time(lambda: _encode_peer(raw), repeats)
    bad_stream, damaged = _corrupt(stream, 0.01)
    t_bad = _best_time(lambda: _decode_ours(bad_stream), repeats)

    size_note = f"{minutes} min of 100 Hz 6-axis, {PER_PACKET} samples/frame, {mb:.1f} MB"
    realtime = n_samples / RATE_HZ
    return [
        {
            "benchmark": "protocol decode (FrameDecoder, 4 KiB chunks)",
            "ours": mb / t_ours,
            "peer": mb / t_peer,
            "unit": "MB/s",
            "note": f"peer: struct.unpack_from at known offsets, no sync/CRC; {size_note}",
        },
        {
            "benchmark": "protocol decode, samples",
            "ours": n_samples / t_ours,
            "peer": n_samples / t_peer,
            "unit": "samples/s",
            "note": f"= {realtime / t_ours:,.0f}x real time at 100 Hz",
        },
        {
            "benchmark": "protocol decode, 1% frames corrupted",
            "ours": n_samples / t_bad,
            "unit": "samples/s",
            "note": f"{damaged} frames with a flipped byte and 0-40 garbage bytes before them",
        },
        {
            "benchmark": "decode + SampleAssembler (SI units)",
            "ours": n_samples / t_asm,
            "unit": "samples/s",
            "note": "bytes -> SampleBlock: scaling, seq/tick unwrap, duplicate check",
        },
        {
            "benchmark": "protocol encode (encode_frame)",
            "ours": mb / t_enc,
            "peer": mb / t_enc_peer,
            "unit": "MB/s",
            "note": f"= {n_samples / t_enc:,.0f} samples/s; peer: struct.pack, no CRC",
        },
    ]


if __name__ == "__main__":
    from bench.__main__ import render_table

    print(render_table(run("--quick" in sys.argv)))
