"""Keyframe scripts of trunk motion, evaluated at any time (pure, vectorised).

A scenario is written as a sequence of holds and moves on a cursor (:class:`ScriptBuilder`);
each channel (flexion, lateral bend, axial rotation, heading, pivot position, sway and walking
envelopes) becomes a :class:`Track` of knots joined by minimum-jerk segments. Minimum-jerk
(Flash & Hogan 1985) has zero velocity and acceleration at both ends, so every channel is C2
and the numerically differentiated accelerations and rates downstream stay free of spikes.

Random access in time is what makes lazy, chunked generation possible: the simulated device
renders any window of samples without having rendered what came before.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["ACTIVITIES", "CHANNELS", "ScriptBuilder", "SlouchEpisode", "Track", "min_jerk"]

FloatArray = npt.NDArray[np.float64]

# Gross activity labels of the ground truth (index = code stored per sample).
ACTIVITIES: tuple[str, ...] = (
    "sitting",
    "standing",
    "walking",
    "transition",  # sit-to-stand / stand-to-sit
    "bending",  # deliberate deep bend or reach (calibration bend, pick-up, reach)
    "lying",
    "handling",  # sensor held in poses for accelerometer calibration (six-position)
)

# Channels of a script: angles in degrees (converted to radians at evaluation), positions in m,
# envelopes dimensionless (multipliers of sway/breathing and of the walking oscillation).
CHANNELS: tuple[str, ...] = (
    "flexion_deg",
    "lateral_deg",
    "axial_deg",
    "heading_deg",
    "pivot_x_m",
    "pivot_y_m",
    "pivot_z_m",
    "sway",
    "walk",
)


def min_jerk(s: FloatArray) -> FloatArray:
    """Minimum-jerk profile 10s³ − 15s⁴ + 6s⁵ for s in [0, 1] (clipped outside)."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


@dataclass(slots=True)
class Track:
    """One channel: knots (time s, value) joined by minimum-jerk segments, constant outside."""

    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    _arrays: tuple[FloatArray, FloatArray] | None = None

    def add(self, t_s: float, value: float) -> None:
        """Append a knot (times must not decrease)."""
        if self.times and t_s < self.times[-1]:
            raise ValueError(f"knot at {t_s} s before the previous one at {self.times[-1]} s")
        self.times.append(t_s)
        self.values.append(value)
        self._arrays = None

    def last(self) -> float:
        return self.values[-1]

    def truncate(self, t_s: float) -> None:
        """Cut the track at ``t_s``: knots after it go, the value at ``t_s`` becomes a knot."""
        value = float(self.evaluate(np.array([t_s]))[0])
        keep = bisect.bisect_right(self.times, t_s)
        del self.times[keep:], self.values[keep:]
        self.add(t_s, value)

    def evaluate(self, t_s: FloatArray) -> FloatArray:
        """Values at times ``t_s`` (any order, any shape)."""
        if self._arrays is None:
            self._arrays = (np.array(self.times), np.array(self.values))
        times, values = self._arrays
        if times.size == 1:
            return np.full(np.shape(t_s), values[0])
        i = np.clip(np.searchsorted(times, t_s, side="right") - 1, 0, times.size - 2)
        t0 = times[i]
        span = times[i + 1] - t0
        s = np.divide(t_s - t0, span, out=np.ones_like(span), where=span > 0)
        v0 = values[i]
        return v0 + (values[i + 1] - v0) * min_jerk(s)


@dataclass(frozen=True, slots=True)
class SlouchEpisode:
    """A designed slouch: from the middle of the slide into it to the middle of the return.

    Attributes:
        start_s: midpoint of the transition into the slouch (script time, s).
        end_s: midpoint of the transition back out.
        design_deg: the plateau flexion the script aimed for (the truth adds sway).
    """

    start_s: float
    end_s: float
    design_deg: float


class ScriptBuilder:
    """Writes a script on a time cursor: ``hold`` keeps the pose, ``move`` glides to a new one."""

    def __init__(self) -> None:
        self.t_s = 0.0
        self.tracks: dict[str, Track] = {name: Track() for name in CHANNELS}
        for name, track in self.tracks.items():
            track.add(0.0, 0.5 if name == "pivot_z_m" else 0.0)
        self.label_times: list[float] = [0.0]
        self.label_codes: list[int] = [0]
        self.episodes: list[SlouchEpisode] = []
        self._open_slouch: tuple[float, float] | None = None

    def value(self, channel: str) -> float:
        """The value a channel reaches at the end of the script so far."""
        return self.tracks[channel].last()

    def label(self, activity: str) -> None:
        """Set the activity label from the cursor on."""
        code = ACTIVITIES.index(activity)
        if self.label_times[-1] == self.t_s:
            self.label_codes[-1] = code
        elif self.label_codes[-1] != code:
            self.label_times.append(self.t_s)
            self.label_codes.append(code)

    def hold(self, duration_s: float, activity: str | None = None) -> None:
        """Keep every channel where it is for ``duration_s``."""
        if activity is not None:
            self.label(activity)
        self.t_s += max(0.0, duration_s)

    def move(self, duration_s: float, activity: str | None = None, **targets: float) -> None:
        """Glide the named channels (keyword = channel name) to new values over ``duration_s``."""
        if activity is not None:
            self.label(activity)
        end = self.t_s + max(duration_s, 1e-3)
        for name, target in targets.items():
            track = self.tracks[name]
            if track.times[-1] < self.t_s:
                track.add(self.t_s, track.last())
            track.add(end, float(target))
        self.t_s = end

    def begin_slouch(self, transition_s: float, design_deg: float) -> None:
        """Mark that a slouch starts with the next move of ``transition_s`` (call before it)."""
        self._open_slouch = (self.t_s + transition_s / 2.0, design_deg)

    def end_slouch(self, transition_s: float) -> None:
        """Close the open slouch at the middle of the next move of ``transition_s``."""
        if self._open_slouch is None:
            return
        start, design = self._open_slouch
        self.episodes.append(SlouchEpisode(start, self.t_s + transition_s / 2.0, design))
        self._open_slouch = None

    def truncate(self, t_s: float) -> None:
        """Forget everything scripted after ``t_s`` and put the cursor there (guided mode)."""
        for track in self.tracks.values():
            track.truncate(t_s)
        keep = max(1, bisect.bisect_right(self.label_times, t_s))
        del self.label_times[keep:], self.label_codes[keep:]
        self.episodes = [e for e in self.episodes if e.start_s <= t_s]
        self.episodes = [
            SlouchEpisode(e.start_s, min(e.end_s, t_s), e.design_deg) for e in self.episodes
        ]
        self.t_s = t_s

    def slouch_open(self) -> bool:
        return self._open_slouch is not None

    def activity_codes(self, t_s: FloatArray) -> npt.NDArray[np.int8]:
        """Activity code of each time."""
        idx = np.searchsorted(np.array(self.label_times), t_s, side="right") - 1
        return np.array(self.label_codes, dtype=np.int8)[np.clip(idx, 0, None)]

    def slouch_flags(self, t_s: FloatArray) -> npt.NDArray[np.bool_]:
        """True inside a designed slouch episode (an open one counts up to the script end)."""
        starts = [e.start_s for e in self.episodes]
        ends = [e.end_s for e in self.episodes]
        if self._open_slouch is not None:
            starts.append(self._open_slouch[0])
            ends.append(np.inf)
        if not starts:
            return np.zeros(np.shape(t_s), dtype=bool)
        # episodes are sorted and disjoint: find the last start at or before each time
        idx = np.searchsorted(np.array(starts), t_s, side="right") - 1
        inside = np.asarray(t_s) < np.array(ends)[np.clip(idx, 0, None)]
        return (idx >= 0) & inside
