"""Value types and the filter seam of the fusion stage (pure: no I/O, no wall clock).

Everything downstream of fusion needs only the direction of gravity in the sensor frame, so the
fusion stage outputs an "up" vector per sample (the unit vector opposite gravity, i.e. what a
perfect still accelerometer reads, normalised) instead of a full orientation: heading is
meaningless without a magnetometer and is never used for posture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from host.samples import SampleBlock

__all__ = [
    "GAP_FACTOR",
    "RESEED_GAP_S",
    "OrientationBlock",
    "OrientationFilter",
    "find_gaps",
    "quat_to_up",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A time step longer than this many nominal periods is a gap (lost packets, a reconnect); jitter
# of a real sample clock stays far below it.
GAP_FACTOR = 2.5
# Gaps longer than this re-seed the estimate from the accelerometer: the trunk may have moved
# arbitrarily while no data came, and the gyroscope cannot tell us how.
RESEED_GAP_S = 0.5
# blocks up to this size take the scalar fast path in quat_to_up (same arithmetic, less overhead)
_SMALL = 16
_PIECE = 8192  # rows per piece in vectorised loops (fits the temporaries in L2)


@dataclass(frozen=True, slots=True, eq=False)
class OrientationBlock:
    """Per-sample inclination estimate for one :class:`~host.samples.SampleBlock`.

    Attributes:
        t_s: (N,) sample times in seconds, copied from the input block.
        up_sensor: (N, 3) unit vector opposite gravity in the sensor frame.
        confidence: (N,) 0..1; 1 with a gyroscope; in gyro-less mode it drops while the sensor
            accelerates (the accelerometer then no longer measures gravity alone).
        rest: (N,) True where the sensor is detected to be at rest.
    """

    t_s: FloatArray
    up_sensor: FloatArray
    confidence: FloatArray
    rest: BoolArray

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @staticmethod
    def empty() -> OrientationBlock:
        """A block with no samples."""
        return OrientationBlock(np.zeros(0), np.zeros((0, 3)), np.zeros(0), np.zeros(0, bool))

    @staticmethod
    def concatenate(blocks: list[OrientationBlock]) -> OrientationBlock:
        """Join blocks in order."""
        if not blocks:
            return OrientationBlock.empty()
        if len(blocks) == 1:
            return blocks[0]
        return OrientationBlock(
            np.concatenate([b.t_s for b in blocks]),
            np.concatenate([b.up_sensor for b in blocks]),
            np.concatenate([b.confidence for b in blocks]),
            np.concatenate([b.rest for b in blocks]),
        )

    def slice(self, start: int, stop: int) -> OrientationBlock:
        """Samples ``start:stop`` (views)."""
        return OrientationBlock(
            self.t_s[start:stop],
            self.up_sensor[start:stop],
            self.confidence[start:stop],
            self.rest[start:stop],
        )


class OrientationFilter(Protocol):
    """A streaming inclination estimator.

    ``update`` may be called with blocks of any size; the output for a stream never depends on
    how it was cut into blocks.
    """

    def update(self, block: SampleBlock) -> OrientationBlock:
        """Process the next samples (times continue the previous block's)."""
        ...

    def reset(self) -> None:
        """Forget everything, as if newly created."""
        ...


def quat_to_up(quat: FloatArray) -> FloatArray:
    """Up vectors from orientation quaternions.

    Args:
        quat: (N, 4) unit quaternions (w, x, y, z) rotating sensor-frame vectors into an earth
            frame whose z axis points up (VQF's ``quat6D``).

    Returns:
        (N, 3) earth z axis expressed in the sensor frame (third row of the rotation matrix).
    """
    n = quat.shape[0]
    if n <= _SMALL:
        # live blocks hold a few samples, where numpy's per-call overhead dominates; plain floats
        # evaluate the very same IEEE expressions in the same order, so the result is identical
        flat: list[float] = []
        extend = flat.extend
        for w, x, y, z in quat.tolist():
            extend((2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)))
        return np.array(flat, dtype=np.float64).reshape(n, 3)
    up = np.empty((n, 3))
    # cache-sized pieces: a day of samples would otherwise stream every temporary through RAM
    for start in range(0, n, _PIECE):
        q = quat[start : start + _PIECE]
        w = q[:, 0]
        x = q[:, 1]
        y = q[:, 2]
        z = q[:, 3]
        part = up[start : start + _PIECE]
        part[:, 0] = 2.0 * (x * z - w * y)
        part[:, 1] = 2.0 * (y * z + w * x)
        part[:, 2] = 1.0 - 2.0 * (x * x + y * y)
    return up


def find_gaps(t_s: FloatArray, last_t_s: float | None, period_s: float) -> npt.NDArray[np.intp]:
    """Indices ``i`` where the step from sample ``i - 1`` (or ``last_t_s``) to ``i`` is a gap.

    Args:
        t_s: (N,) sample times of the new block, s.
        last_t_s: time of the sample before the block (None at the start of a stream).
        period_s: nominal sample period, s.
    """
    if t_s.shape[0] == 0:
        return np.zeros(0, np.intp)
    if last_t_s is None:
        steps = np.diff(t_s)
        return np.flatnonzero(steps > GAP_FACTOR * period_s) + 1
    steps = np.diff(t_s, prepend=last_t_s)
    return np.flatnonzero(steps > GAP_FACTOR * period_s)
