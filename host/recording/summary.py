"""Per-second posture summaries: what statistics and reports read (pure).

Raw samples are kept for re-analysis, but a therapist's view of a month must not decode 86 M
samples: every stored second carries the mean, minimum and maximum flexion, mean lateral bend,
the most frequent zone and activity, the mean confidence and the number of samples.

Seconds are whole seconds of session time (``floor(t_s)``); a second with no valid flexion (no
calibration yet, or the estimate marked unknown) keeps NaN angles and zone UNKNOWN (9).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from host.errors import StoreError

__all__ = [
    "ACTIVITY_NAMES",
    "ZONE_NAMES",
    "ZONE_UNKNOWN",
    "PostureLike",
    "SecondSummaries",
    "SummaryAccumulator",
    "decode_summaries",
    "encode_summaries",
    "summarize_seconds",
]

# Values of host.posture.Zone / Activity (IntEnum), kept here as plain ints so the store reads
# old databases without importing the live pipeline.
ZONE_NAMES: dict[int, str] = {
    0: "reclined",
    1: "upright",
    2: "mild",
    3: "slouched",
    4: "deep",
    9: "unknown",
}
ZONE_UNKNOWN = 9
ACTIVITY_NAMES: dict[int, str] = {
    0: "unknown",
    1: "sitting",
    2: "standing",
    3: "walking",
    4: "transition",
}
_ZONES = np.array(sorted(ZONE_NAMES), np.int64)
_ACTIVITIES = np.array(sorted(ACTIVITY_NAMES), np.int64)

FloatArray = npt.NDArray[np.float64]


class PostureLike(Protocol):
    """What the store needs of ``host.posture.PostureBlock`` (per-sample arrays, shape (N,))."""

    @property
    def t_s(self) -> FloatArray: ...
    @property
    def flexion_deg(self) -> FloatArray: ...
    @property
    def lateral_deg(self) -> FloatArray: ...
    @property
    def zone(self) -> npt.NDArray[np.integer[Any]]: ...
    @property
    def activity(self) -> npt.NDArray[np.integer[Any]]: ...
    @property
    def confidence(self) -> FloatArray: ...


@dataclass(frozen=True, slots=True, eq=False)
class SecondSummaries:
    """Per-second posture of a session; every array has shape (S,), seconds ascending.

    Attributes:
        sec: whole second of session time (start of the second), s.
        flexion_deg: mean trunk flexion, degrees (NaN when no valid sample).
        flexion_min_deg: minimum flexion in the second, degrees.
        flexion_max_deg: maximum flexion in the second, degrees.
        lateral_deg: mean lateral bend (positive to the wearer's right), degrees.
        zone: most frequent posture zone (host.posture.Zone values; 9 unknown).
        activity: most frequent activity (host.posture.Activity values).
        confidence: mean estimate confidence, 0..1.
        n_samples: samples that fell in the second.
    """

    sec: npt.NDArray[np.int64]
    flexion_deg: npt.NDArray[np.float32]
    flexion_min_deg: npt.NDArray[np.float32]
    flexion_max_deg: npt.NDArray[np.float32]
    lateral_deg: npt.NDArray[np.float32]
    zone: npt.NDArray[np.int8]
    activity: npt.NDArray[np.int8]
    confidence: npt.NDArray[np.float32]
    n_samples: npt.NDArray[np.int16]

    def __len__(self) -> int:
        return int(self.sec.shape[0])

    @staticmethod
    def empty() -> SecondSummaries:
        """No seconds."""
        f = np.zeros(0, np.float32)
        return SecondSummaries(
            np.zeros(0, np.int64), f, f, f, f, np.zeros(0, np.int8), np.zeros(0, np.int8), f,
            np.zeros(0, np.int16),
        )  # fmt: skip

    @staticmethod
    def concatenate(parts: list[SecondSummaries]) -> SecondSummaries:
        """Join summaries in time order."""
        if not parts:
            return SecondSummaries.empty()
        if len(parts) == 1:
            return parts[0]
        return SecondSummaries(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def select(self, mask: npt.NDArray[np.bool_]) -> SecondSummaries:
        """The seconds where ``mask`` is True."""
        return SecondSummaries(*(getattr(self, f)[mask] for f in _FIELDS))


_FIELDS = (
    "sec",
    "flexion_deg",
    "flexion_min_deg",
    "flexion_max_deg",
    "lateral_deg",
    "zone",
    "activity",
    "confidence",
    "n_samples",
)
_DTYPES = ("<i4", "<f4", "<f4", "<f4", "<f4", "i1", "i1", "<f4", "<i2")


def _mode(
    values: npt.NDArray[np.int64], starts: npt.NDArray[np.intp], codes: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:
    """Most frequent of ``codes`` in each run of ``values`` starting at ``starts``."""
    counts = np.stack([np.add.reduceat((values == c).astype(np.int32), starts) for c in codes])
    out: npt.NDArray[np.int8] = codes[np.argmax(counts, axis=0)].astype(np.int8)
    return out


def summarize_seconds(posture: PostureLike) -> SecondSummaries:
    """Summarise per-sample posture into whole seconds (samples must be in time order)."""
    t = np.asarray(posture.t_s, np.float64)
    if t.size == 0:
        return SecondSummaries.empty()
    sec = np.floor(t).astype(np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sec)) + 1)).astype(np.intp)
    flex = np.asarray(posture.flexion_deg, np.float64)
    lat = np.asarray(posture.lateral_deg, np.float64)
    zone = np.asarray(posture.zone, np.int64)
    valid = np.isfinite(flex) & (zone != ZONE_UNKNOWN)
    n_valid = np.add.reduceat(valid.astype(np.int32), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        flex_mean = np.add.reduceat(np.where(valid, flex, 0.0), starts) / n_valid
        lat_ok = valid & np.isfinite(lat)
        lat_mean = np.add.reduceat(np.where(lat_ok, lat, 0.0), starts) / np.add.reduceat(
            lat_ok.astype(np.int32), starts
        )
    fmin = np.minimum.reduceat(np.where(valid, flex, np.inf), starts)
    fmax = np.maximum.reduceat(np.where(valid, flex, -np.inf), starts)
    none = n_valid == 0
    flex_mean[none] = fmin[none] = fmax[none] = np.nan
    # the zone of a second is voted among its valid samples; unknown only when none is valid
    zone_mode = _mode(np.where(valid, zone, -1), starts, _ZONES[_ZONES != ZONE_UNKNOWN])
    zone_mode[none] = ZONE_UNKNOWN
    conf = np.add.reduceat(np.nan_to_num(np.asarray(posture.confidence, np.float64)), starts)
    n = np.diff(np.append(starts, t.size))
    return SecondSummaries(
        sec[starts],
        flex_mean.astype(np.float32),
        fmin.astype(np.float32),
        fmax.astype(np.float32),
        lat_mean.astype(np.float32),
        zone_mode,
        _mode(np.asarray(posture.activity, np.int64), starts, _ACTIVITIES),
        (conf / n).astype(np.float32),
        np.minimum(n, np.iinfo(np.int16).max).astype(np.int16),
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Pending:
    t_s: FloatArray
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    zone: npt.NDArray[np.int64]
    activity: npt.NDArray[np.int64]
    confidence: FloatArray


class SummaryAccumulator:
    """Turns a stream of posture blocks into complete seconds.

    The second the newest sample falls in may still receive samples, so it is held back until a
    later second starts (or :meth:`finish`).
    """

    def __init__(self) -> None:
        self._pending: _Pending | None = None

    def add(self, posture: PostureLike) -> SecondSummaries:
        """Add samples; returns the seconds that are now complete."""
        if len(posture.t_s) == 0:
            return SecondSummaries.empty()
        cur = _Pending(
            np.asarray(posture.t_s, np.float64),
            np.asarray(posture.flexion_deg, np.float64),
            np.asarray(posture.lateral_deg, np.float64),
            np.asarray(posture.zone, np.int64),
            np.asarray(posture.activity, np.int64),
            np.asarray(posture.confidence, np.float64),
        )
        if self._pending is not None:
            p = self._pending
            cur = _Pending(
                *(np.concatenate([getattr(p, f), getattr(cur, f)]) for f in _Pending.__slots__)
            )
        last_sec = np.floor(cur.t_s[-1])
        cut = int(np.searchsorted(cur.t_s, last_sec, side="left"))
        self._pending = _Pending(*(getattr(cur, f)[cut:] for f in _Pending.__slots__))
        if cut == 0:
            return SecondSummaries.empty()
        return summarize_seconds(_Pending(*(getattr(cur, f)[:cut] for f in _Pending.__slots__)))

    def finish(self) -> SecondSummaries:
        """Summarise what is held back (end of recording)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return SecondSummaries.empty()
        return summarize_seconds(pending)


def encode_summaries(s: SecondSummaries) -> bytes:
    """Pack summaries into one compressed blob (column after column, little endian)."""
    return zlib.compress(
        b"".join(
            np.asarray(getattr(s, f)).astype(d).tobytes()
            for f, d in zip(_FIELDS, _DTYPES, strict=True)
        ),
        6,
    )


def decode_summaries(blob: bytes, n: int) -> SecondSummaries:
    """Inverse of :func:`encode_summaries` for ``n`` seconds.

    Raises:
        StoreError: damaged blob.
    """
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise StoreError(f"a summary chunk is damaged ({exc})") from exc
    sizes = [np.dtype(d).itemsize * n for d in _DTYPES]
    if len(raw) != sum(sizes):
        raise StoreError(f"a summary chunk is damaged ({len(raw)} bytes for {n} seconds)")
    out = []
    pos = 0
    f4, i1 = np.float32, np.int8
    native = (np.int64, f4, f4, f4, f4, i1, i1, f4, np.int16)
    for d, size, nat in zip(_DTYPES, sizes, native, strict=True):
        out.append(np.frombuffer(raw[pos : pos + size], d).astype(nat))
        pos += size
    return SecondSummaries(*out)
