"""The simulated sensor's on-device ring buffer (pure; docs/protocol.md §8.2).

Every sample the device takes is stored as int16 counts with its timestamp tick, whether or not
it was sent, so a host can ask for it again after a link loss. Sequence numbers are unwrapped
integers here; only the wire format wraps them at 2³².
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from host.protocol import DataPacket, encode_message

__all__ = ["RingBuffer"]


class RingBuffer:
    """``capacity`` samples of accelerometer and gyroscope counts, ticks and saturation flags.

    Attributes:
        capacity: samples held at most.
        produced: samples written so far (the sequence number of the next one).
        floor: no sample older than this is valid (raised when the rate or range changes).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.produced = 0
        self.floor = 0
        self._accel = np.zeros((capacity, 3), np.int16)
        self._gyro = np.zeros((capacity, 3), np.int16)
        self._tick = np.zeros(capacity, np.int64)
        self._saturated = np.zeros(capacity, bool)

    def oldest(self) -> int:
        """Sequence number of the oldest sample still held."""
        return max(self.floor, self.produced - self.capacity)

    def fill(self) -> int:
        """Samples currently held."""
        return self.produced - self.oldest()

    def skip(self, count: int) -> None:
        """Advance past ``count`` samples that would be overwritten before anyone read them."""
        self.produced += count

    def write(
        self,
        accel: npt.NDArray[np.int16],
        gyro: npt.NDArray[np.int16],
        ticks: npt.NDArray[np.int64],
        saturated: npt.NDArray[np.bool_],
    ) -> None:
        """Append consecutive samples (at most ``capacity`` at a time)."""
        take = accel.shape[0]
        start = self.produced % self.capacity
        rows: slice | npt.NDArray[np.int64]
        if start + take <= self.capacity:  # the common case: one contiguous slice
            rows = slice(start, start + take)
        else:
            rows = np.arange(self.produced, self.produced + take) % self.capacity
        self._accel[rows] = accel
        self._gyro[rows] = gyro
        self._tick[rows] = ticks
        self._saturated[rows] = saturated
        self.produced += take

    def packet(self, first: int, count: int, *, replayed: bool, gyro: bool) -> bytes:
        """Encode samples ``first … first + count − 1`` as one DATA message."""
        idx = np.arange(first, first + count) % self.capacity
        return encode_message(
            DataPacket(
                seq=first & 0xFFFFFFFF,
                tick=int(self._tick[idx[0]]) & 0xFFFFFFFF,
                accel=self._accel[idx],
                gyro=self._gyro[idx] if gyro else None,
                replayed=replayed,
                saturated=bool(self._saturated[idx].any()),
            )
        )
