"""Compact binary chunks of raw samples for the session store (pure).

A chunk holds consecutive samples of one session. What is stored (see docs/store.md):

* accelerometer and gyroscope as int16 counts with one scale per chunk and sensor: the grid the
  values already lie on when they came from a device as int16 counts (lossless), otherwise
  ``scale = max|x| / 32767`` (error ≤ max|x| / 65534, e.g. 0.15 mm/s² for a chunk peaking at
  1 g); delta-coded along time (wrapping int16 arithmetic, exactly reversible) and
  byte-shuffled so zlib finds the slowly varying high bytes;
* time as ``t0 + i · period`` plus a residual in whole microseconds (int32, byte-shuffled),
  all zeros for a regular sample clock and a byte or two of jitter otherwise;
* the sequence numbers, when known, as ``seq0 + i`` plus an int32 residual.

Why not float32 or a row per sample: an 8-hour 100 Hz day is 2.88 M samples; 6 × int16 is the
34.6 MB floor, float32 would double it and a row per sample triples it again.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from host.errors import StoreError
from host.samples import SampleBlock

__all__ = [
    "MAX_CHUNK_SAMPLES",
    "PackedChunk",
    "pack_samples",
    "split_for_packing",
    "unpack_samples",
]

# One chunk never spans more than this many samples (60 s at 100 Hz): bounded memory when
# reading, and a residual that always fits int32 microseconds unless the clock jumps > 35 min.
MAX_CHUNK_SAMPLES = 6000
_INT16_MAX = 32767
_US = 1e-6
_I32 = np.iinfo(np.int32)
_ZLIB_LEVEL = 6


@dataclass(frozen=True, slots=True)
class PackedChunk:
    """One encoded chunk, as stored in a row of ``sample_chunks``.

    Attributes:
        n: number of samples.
        t0_s: time of the first sample, s.
        period_s: nominal sample period used for the time residuals, s (0 for one sample).
        accel_scale_m_s2: metres per second squared per count.
        gyro_scale_rad_s: radians per second per count, None without gyroscope.
        seq0: sequence number of the first sample, None when unknown.
        payload: zlib-compressed arrays (layout in the module docstring).
    """

    n: int
    t0_s: float
    period_s: float
    accel_scale_m_s2: float
    gyro_scale_rad_s: float | None
    seq0: int | None
    payload: bytes

    @property
    def t1_s(self) -> float:
        """Nominal time of the last sample, s (for index ranges; exact times are in the payload)."""
        return self.t0_s + (self.n - 1) * self.period_s


def split_for_packing(block: SampleBlock) -> list[SampleBlock]:
    """Cut a block into pieces :func:`pack_samples` accepts (≤ MAX_CHUNK_SAMPLES, no huge jumps)."""
    pieces: list[SampleBlock] = []
    n = len(block)
    # A clock jump larger than int32 microseconds (~35 min) cannot be a residual: cut there.
    jumps = np.flatnonzero(np.diff(block.t_s) > 600.0) + 1
    starts = [0, *jumps.tolist(), n]
    for a, b in itertools.pairwise(starts):
        for s in range(a, b, MAX_CHUNK_SAMPLES):
            pieces.append(block.slice(s, min(b, s + MAX_CHUNK_SAMPLES)))
    return pieces


def _lattice_step(x: npt.NDArray[np.float64], peak: float) -> float | None:
    """The step of the grid the values already lie on (a device's int16 counts), if any.

    Sensor data arrives as int16 counts times the device's scale; storing it on that same grid
    is lossless and its deltas are several times smaller than on a finer adaptive grid.
    """
    u = np.unique(x)
    if u.size < 2:
        return None
    step = float(np.min(np.diff(u)))
    if step <= 0.0 or peak / step > _INT16_MAX:
        return None
    q = x / step
    k = np.rint(q)
    if np.max(np.abs(q - k)) > 1e-6:
        return None
    # refine: one difference carries float rounding; the whole chunk pins the step down
    return float(np.sum(np.abs(x)) / np.sum(np.abs(k)))


def _quantise(x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int16], float]:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    scale = _lattice_step(x, peak) or (peak / _INT16_MAX if peak > 0.0 else 1.0)
    q = np.rint(x / scale).astype(np.int16)
    return q, scale


def _delta_shuffle(q: npt.NDArray[np.int16]) -> bytes:
    # channel-major so each channel's deltas are contiguous; int16 subtraction wraps, and the
    # wrapping cumulative sum in _undelta undoes it exactly.
    cols = np.ascontiguousarray(q.T)
    d = np.diff(cols, axis=1, prepend=np.zeros((cols.shape[0], 1), np.int16))
    return np.ascontiguousarray(d.astype("<i2").view(np.uint8).reshape(-1, 2).T).tobytes()


def _shuffle(a: npt.NDArray[np.int32]) -> bytes:
    """Byte planes one after the other: the all-zero high bytes of small values compress away."""
    return np.ascontiguousarray(a.view(np.uint8).reshape(-1, a.itemsize).T).tobytes()


def _unshuffle(raw: bytes, itemsize: int) -> npt.NDArray[np.uint8]:
    planes = np.frombuffer(raw, np.uint8).reshape(itemsize, -1)
    return np.ascontiguousarray(planes.T).reshape(-1)


def _undelta(raw: bytes, channels: int, n: int) -> npt.NDArray[np.int16]:
    shuffled = np.frombuffer(raw, np.uint8).reshape(2, -1)
    d = np.ascontiguousarray(shuffled.T).view("<i2").reshape(channels, n)
    return np.cumsum(d, axis=1, dtype=np.int16).T


def pack_samples(block: SampleBlock) -> PackedChunk:
    """Encode samples into one chunk.

    Args:
        block: 1..MAX_CHUNK_SAMPLES samples with strictly increasing times spanning < 35 min
            (use :func:`split_for_packing` first).

    Raises:
        ValueError: an empty or too long block, or non-finite values.
    """
    n = len(block)
    if not 0 < n <= MAX_CHUNK_SAMPLES:
        raise ValueError(f"a chunk holds 1..{MAX_CHUNK_SAMPLES} samples, got {n}")
    if not np.all(np.isfinite(block.accel_m_s2)) or (
        block.gyro_rad_s is not None and not np.all(np.isfinite(block.gyro_rad_s))
    ):
        raise ValueError("samples must be finite to be stored")
    t = np.asarray(block.t_s, np.float64)
    t0 = float(t[0])
    period = float((t[-1] - t0) / (n - 1)) if n > 1 else 0.0
    resid_us = np.rint((t - (t0 + np.arange(n) * period)) / _US)
    if resid_us.size and (resid_us.min() < _I32.min or resid_us.max() > _I32.max):
        raise ValueError("time residual exceeds int32 microseconds; split the block first")
    parts = []
    qa, accel_scale = _quantise(np.asarray(block.accel_m_s2, np.float64))
    parts.append(_delta_shuffle(qa))
    gyro_scale: float | None = None
    if block.gyro_rad_s is not None:
        qg, gyro_scale = _quantise(np.asarray(block.gyro_rad_s, np.float64))
        parts.append(_delta_shuffle(qg))
    parts.append(_shuffle(resid_us.astype("<i4")))
    seq0: int | None = None
    if block.seq is not None:
        seq0 = int(block.seq[0])
        parts.append((block.seq - seq0 - np.arange(n)).astype("<i4").tobytes())
    payload = zlib.compress(b"".join(parts), _ZLIB_LEVEL)
    return PackedChunk(n, t0, period, accel_scale, gyro_scale, seq0, payload)


def unpack_samples(chunk: PackedChunk) -> SampleBlock:
    """Decode a chunk written by :func:`pack_samples`.

    Raises:
        StoreError: the payload is damaged (bad zlib stream or wrong length).
    """
    n = chunk.n
    try:
        raw = zlib.decompress(chunk.payload)
    except zlib.error as exc:
        raise StoreError(f"a sample chunk is damaged ({exc})") from exc
    expected = n * 6 + (n * 6 if chunk.gyro_scale_rad_s is not None else 0) + n * 4
    expected += n * 4 if chunk.seq0 is not None else 0
    if len(raw) != expected:
        raise StoreError(f"a sample chunk is damaged ({len(raw)} bytes, expected {expected})")
    pos = 0
    accel = _undelta(raw[pos : pos + 6 * n], 3, n).astype(np.float64) * chunk.accel_scale_m_s2
    pos += 6 * n
    gyro = None
    if chunk.gyro_scale_rad_s is not None:
        gyro = np.ascontiguousarray(
            _undelta(raw[pos : pos + 6 * n], 3, n).astype(np.float64) * chunk.gyro_scale_rad_s
        )
        pos += 6 * n
    resid = _unshuffle(raw[pos : pos + 4 * n], 4).view("<i4").astype(np.float64)
    pos += 4 * n
    t = chunk.t0_s + np.arange(n) * chunk.period_s + resid * _US
    seq = None
    if chunk.seq0 is not None:
        seq = chunk.seq0 + np.arange(n, dtype=np.int64) + np.frombuffer(raw[pos:], "<i4")
    return SampleBlock(t, np.ascontiguousarray(accel), gyro, seq)
