"""The one crossing between the engine thread and the Qt GUI thread.

The engine's listener (:class:`host.gui.session.GuiListener`) runs **in the engine thread** and
only calls :meth:`EngineBridge.push_update` or emits a signal of :class:`EngineBridge`. Low-rate
events (link state, alerts, status, device info, calibration, errors) are signals of the bridge,
which lives in the GUI thread, so Qt queues them and slots always run there. High-rate data
(``LiveUpdate`` blocks at 100 Hz or faster) is only appended to a lock-protected pending queue;
the GUI thread drains it into a GUI-owned ring buffer and emits one :class:`LiveFrame`, at most
30 times a second. The drain is rate-capped rather than periodic: the first block after a drain
wakes the GUI (one queued signal, not one per block), which drains at once if the last drain is
older than 1/30 s and otherwise when that interval is up. Latency is then one paint when data
comes slower than 30 Hz, at most 1/30 s plus a paint when faster, and an idle link costs
nothing. Paints and notifications therefore never starve each other (notes/qt.md §3-4,
STYLE.md §4).

Nothing here touches a widget; the engine side never imports Qt widgets (only emits signals,
which Qt makes thread-safe).
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

if TYPE_CHECKING:
    from host.engine import LiveUpdate

__all__ = ["EngineBridge", "LiveFrame", "PlotRing"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

REDRAW_HZ = 30.0
# Samples further apart than this are a gap (reconnect); they do not count as time in a zone.
_MAX_DT_S = 0.5


class PlotRing:
    """Double-write ring buffer: the newest ``capacity`` samples are always one contiguous view.

    Every sample is written twice (at ``i`` and ``i + capacity``), so ``view()`` never copies
    (notes/qt.md §3). Owned and used by the GUI thread only.

    Args:
        capacity: number of samples kept (window × rate, e.g. 600 s × 100 Hz = 60 000).
        channels: values per sample (time first).
    """

    def __init__(self, capacity: int, channels: int = 3) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self._data = np.zeros((channels, 2 * capacity))
        self._head = 0  # next write index in [0, capacity)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        self._head = 0
        self._count = 0

    def extend(self, rows: FloatArray) -> None:
        """Append ``rows`` of shape (channels, n), oldest first."""
        n = rows.shape[1]
        cap = self.capacity
        if n >= cap:
            rows = rows[:, n - cap :]
            n = cap
        start = self._head
        first = min(n, cap - start)
        for offset in (0, cap):
            self._data[:, offset + start : offset + start + first] = rows[:, :first]
            self._data[:, offset : offset + n - first] = rows[:, first:]
        self._head = (start + n) % cap
        self._count = min(self._count + n, cap)

    def view(self) -> FloatArray:
        """The stored samples oldest first, shape (channels, len); valid until the next write."""
        end = self._head + self.capacity
        return self._data[:, end - self._count : end]


@dataclass(frozen=True, slots=True, eq=False)
class LiveFrame:
    """What the GUI shows after one drain (GUI thread only; arrays are views into the ring).

    Attributes:
        t_s: (N,) device sample times in the plot window, seconds.
        flexion_deg: (N,) trunk flexion, forward positive, degrees.
        lateral_deg: (N,) lateral bend, to the wearer's right positive, degrees.
        zone: latest posture zone (int value of host.posture.Zone).
        activity: latest activity (int value of host.posture.Activity).
        dwell_s: time in the current zone, seconds.
        confidence: latest estimate confidence, 0..1.
        seconds_to_alert: time until the slouch rule would fire, or None.
        zone_seconds: time spent in each zone since the counters were reset, seconds.
        arrivals: ``time.monotonic()`` at which the engine handed over each newly drained block.
        new_samples: samples added by this drain.
    """

    t_s: FloatArray
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    zone: int
    activity: int
    dwell_s: float
    confidence: float
    seconds_to_alert: float | None
    zone_seconds: dict[int, float] = field(default_factory=dict)
    arrivals: tuple[float, ...] = ()
    new_samples: int = 0


class EngineBridge(QObject):
    """Queued signals from the engine plus the 30 Hz drain of live data (lives in the GUI thread).

    Args:
        window_s: plot window, seconds.
        rate_hz: expected sample rate; sizes the ring (window_s × rate_hz samples).
        parent: Qt parent.
    """

    link_changed = pyqtSignal(object)  # LinkEvent
    alert_raised = pyqtSignal(object)  # Alert
    status_received = pyqtSignal(object)  # StatusMessage
    info_received = pyqtSignal(object)  # DeviceInfo
    calibration_changed = pyqtSignal(object)  # Calibration
    error_occurred = pyqtSignal(str)
    notice_received = pyqtSignal(str)  # not a failure: the sensor restarted, recording resumed
    frame_drained = pyqtSignal(object)  # LiveFrame, at most REDRAW_HZ per second
    _data_arrived = pyqtSignal()  # engine thread -> GUI thread: the pending queue became non-empty

    def __init__(
        self, window_s: float = 600.0, rate_hz: float = 100.0, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        # Bounded: if the GUI stalls for minutes, drop the oldest blocks (counted) rather
        # than grow without limit.
        self._pending: collections.deque[tuple[float, Any]] = collections.deque(maxlen=20_000)
        self.dropped_blocks = 0
        self._ring = PlotRing(max(2, round(window_s * rate_hz)))
        self._zone_seconds: dict[int, float] = {}
        self._last_t_s: float | None = None
        self._latest: tuple[int, int, float, float] = (0, 0, 0.0, 0.0)
        self._seconds_to_alert: float | None = None
        self._period_s = 1.0 / REDRAW_HZ
        self._last_drain = -1.0
        self._due: float | None = None
        self._running = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.drain)
        self._data_arrived.connect(self._schedule_drain)

    def start(self) -> None:
        """Start draining (frames are emitted while started)."""
        self._running = True
        self._schedule_drain()

    def stop(self) -> None:
        self._running = False
        self._timer.stop()

    def push_update(self, update: LiveUpdate) -> None:
        """Queue one update for the next drain (any thread; O(1), never blocks long)."""
        with self._lock:
            wake = not self._pending
            if len(self._pending) == self._pending.maxlen:
                self.dropped_blocks += 1
            self._pending.append((time.monotonic(), update))
        if wake:
            self._data_arrived.emit()

    def _schedule_drain(self) -> None:
        if not self._running or self._timer.isActive():
            return
        due = self._last_drain + self._period_s
        wait_s = due - time.monotonic()
        if wait_s <= 0.0:
            self.drain()
        else:
            self._due = due
            # Whole milliseconds, rounded down: firing a fraction early is harmless, firing late
            # every time would drift below 30 redraws per second.
            self._timer.start(max(1, math.floor(wait_s * 1000.0)))

    def reset(self) -> None:
        """Forget plotted data and zone totals (a new device or a new day)."""
        with self._lock:
            self._pending.clear()
        self._ring.clear()
        self._zone_seconds = {}
        self._last_t_s = None

    def reset_zone_totals(self) -> None:
        """Start the time-in-zone totals from zero (keeps the plot)."""
        self._zone_seconds = {}

    def zone_seconds(self) -> dict[int, float]:
        return dict(self._zone_seconds)

    def drain(self) -> LiveFrame | None:
        """Move pending updates into the ring and emit :attr:`frame_drained` (GUI thread).

        Returns:
            The frame emitted, or None when nothing new arrived.
        """
        now = time.monotonic()
        # A timer-driven drain stays on the 1/30 s grid even when the timer fires a little late.
        self._last_drain = now if self._due is None else min(now, self._due)
        self._due = None
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
        if not batch:
            return None
        arrivals: list[float] = []
        new_samples = 0
        for arrival, update in batch:
            posture = update.posture
            t_s = np.asarray(posture.t_s, dtype=np.float64)
            if t_s.size == 0:
                continue
            if self._last_t_s is not None and t_s[0] < self._last_t_s - 1.0:
                # A new stream restarted the device clock: start the plot afresh.
                self._ring.clear()
                self._last_t_s = None
            self._accumulate_zones(t_s, np.asarray(posture.zone))
            self._ring.extend(
                np.vstack(
                    (
                        t_s,
                        np.asarray(posture.flexion_deg, dtype=np.float64),
                        np.asarray(posture.lateral_deg, dtype=np.float64),
                    )
                )
            )
            self._latest = (
                int(posture.zone[-1]),
                int(posture.activity[-1]),
                float(posture.dwell_s[-1]),
                float(posture.confidence[-1]),
            )
            self._seconds_to_alert = update.seconds_to_alert
            arrivals.append(arrival)
            new_samples += t_s.size
        if new_samples == 0:
            return None
        data = self._ring.view()
        zone, activity, dwell_s, confidence = self._latest
        frame = LiveFrame(
            t_s=data[0],
            flexion_deg=data[1],
            lateral_deg=data[2],
            zone=zone,
            activity=activity,
            dwell_s=dwell_s,
            confidence=confidence,
            seconds_to_alert=self._seconds_to_alert,
            zone_seconds=dict(self._zone_seconds),
            arrivals=tuple(arrivals),
            new_samples=new_samples,
        )
        self.frame_drained.emit(frame)
        return frame

    def _accumulate_zones(self, t_s: FloatArray, zones: npt.NDArray[Any]) -> None:
        previous = t_s[0] if self._last_t_s is None else self._last_t_s
        dt = np.diff(t_s, prepend=previous)
        dt[(dt < 0) | (dt > _MAX_DT_S)] = 0.0
        codes = zones.astype(np.int64)
        if codes.size and codes.min() >= 0:
            totals = np.bincount(codes, weights=dt)
            for code, seconds in enumerate(totals):
                if seconds > 0:
                    self._zone_seconds[code] = self._zone_seconds.get(code, 0.0) + float(seconds)
        self._last_t_s = float(t_s[-1])
