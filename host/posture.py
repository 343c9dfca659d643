"""Posture state per sample: zone, activity, dwell and data quality (pure).

:class:`PostureTracker` turns the fusion/angle stage's :class:`~host.analysis.Analysis` of a
:class:`~host.samples.SampleBlock` into a :class:`PostureBlock`:

- **zone** from calibrated trunk flexion (degrees relative to the wearer's own upright posture,
  forward positive), with a small hysteresis so noise at a boundary does not flicker the zone
  and reset the dwell. Default boundaries follow ISO 11226 / RULA / REBA trunk bands
  (docs/alerts.md): reclined < −10°, upright ≤ 10°, mild ≤ 20°, slouched ≤ 60°, deep > 60°.
  NaN flexion (no calibration, no estimate) is :attr:`Zone.UNKNOWN`.
- **activity** from the IMU signal: *walking* is periodic specific-force magnitude at step
  frequency (band 1.2–3 Hz carrying most of the dynamic power, with enough energy, for longer than
  a confirm time); *transition* is fast trunk tilt (sit-to-stand, bending, reaching); between
  them the wearer is *sitting* or *standing*: a transition that lifts the sensor (double
  integrated vertical acceleration) flips sitting → standing, one that lowers it flips back, and
  walking implies standing.
- **dwell** seconds since the current zone was entered; **confidence** passed through from fusion.

Streaming: every filter keeps its state across blocks (:func:`host.iir.lfilter`, SciPy's
``lfilter`` without importing ``scipy.signal`` for live blocks, with carried state; decisions from
sample times only), so any chunking of a stream gives bit-identical output
to one big block. The sample rate is inferred from the first intervals of the stream unless
configured; a jump in time larger than a few periods (a gap) restarts the filters.
"""

from __future__ import annotations

import enum
import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from host import iir
from host.errors import ConfigError

if TYPE_CHECKING:
    from host.analysis import Analysis
    from host.samples import SampleBlock

__all__ = ["Activity", "PostureBlock", "PostureConfig", "PostureTracker", "Zone", "zone_of"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
_G_M_S2 = 9.80665
_RATE_PROBE = 16  # intervals used to infer the sample rate
_GAP_PERIODS = 5.0  # a time step this many nominal periods long is a gap: filters restart
_PREROLL_S = 1.0  # still time before a transition included in its vertical-travel integral
_MAX_TRANSITION_S = 20.0  # longer "transitions" are exercise or fidgeting, not sit/stand


class Zone(enum.IntEnum):
    """Sagittal posture zone relative to the calibrated neutral."""

    RECLINED = 0
    UPRIGHT = 1
    MILD = 2
    SLOUCHED = 3
    DEEP = 4
    UNKNOWN = 9


class Activity(enum.IntEnum):
    """What the wearer is doing, from the IMU signal."""

    UNKNOWN = 0
    SITTING = 1
    STANDING = 2
    WALKING = 3
    TRANSITION = 4


@dataclass(frozen=True, slots=True)
class PostureConfig:
    """Zone boundaries and activity-detection parameters (defaults: docs/alerts.md).

    Attributes:
        reclined_below_deg: flexion below this is RECLINED (backward lean), degrees.
        upright_max_deg: UPRIGHT up to this flexion, degrees.
        mild_max_deg: MILD up to this (ISO 11226: 0–20° acceptable), degrees.
        slouched_max_deg: SLOUCHED up to this (ISO 11226 time-limited band 20–60°); DEEP beyond.
        zone_hysteresis_deg: the zone changes only once flexion is this far past a boundary.
        rate_hz: sample rate; None infers it from the first intervals of the stream.
        walk_band_hz: step-frequency band of the specific-force magnitude, Hz.
        walk_min_rms_m_s2: minimum RMS of the step-band signal for walking, m/s².
        walk_min_fraction: minimum share of dynamic (> 0.5 Hz) power inside the step band.
        walk_confirm_s: the walking signature must last this long before WALKING.
        walk_release_s: WALKING ends after the signature has been absent this long.
        power_tau_s: time constant of the power envelopes, seconds.
        transition_rate_deg_s: trunk tilt rate above which the wearer is in a transition, deg/s.
        transition_hold_s: TRANSITION lasts this long after the tilt rate drops below it.
        tilt_lowpass_hz: low-pass applied to the up vector before differentiating, Hz.
        updown_min_m: net vertical sensor travel over a transition that flips sitting/standing.
        initial_activity: posture assumed at the start (calibration happens sitting).
    """

    reclined_below_deg: float = -10.0
    upright_max_deg: float = 10.0
    mild_max_deg: float = 20.0
    slouched_max_deg: float = 60.0
    zone_hysteresis_deg: float = 2.0
    rate_hz: float | None = None
    walk_band_hz: tuple[float, float] = (1.2, 3.0)
    walk_min_rms_m_s2: float = 0.5
    walk_min_fraction: float = 0.5
    walk_confirm_s: float = 1.5
    walk_release_s: float = 1.5
    power_tau_s: float = 1.0
    transition_rate_deg_s: float = 30.0
    transition_hold_s: float = 1.0
    tilt_lowpass_hz: float = 2.0
    updown_min_m: float = 0.15
    initial_activity: Activity = Activity.SITTING

    def __post_init__(self) -> None:
        edges = (
            self.reclined_below_deg,
            self.upright_max_deg,
            self.mild_max_deg,
            self.slouched_max_deg,
        )
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ConfigError(f"zone boundaries must increase: {edges}")
        gaps = min(b - a for a, b in itertools.pairwise(edges))
        if not 0.0 <= self.zone_hysteresis_deg < gaps / 2:
            raise ConfigError(
                f"zone_hysteresis_deg={self.zone_hysteresis_deg}: use 0 to less than half the "
                f"narrowest zone ({gaps / 2:g}°)"
            )
        if self.rate_hz is not None and self.rate_hz <= 2 * self.walk_band_hz[1]:
            raise ConfigError(f"rate_hz={self.rate_hz}: too low to see steps")

    @property
    def edges_deg(self) -> FloatArray:
        """The four zone boundaries, degrees, increasing."""
        return np.array(
            [
                self.reclined_below_deg,
                self.upright_max_deg,
                self.mild_max_deg,
                self.slouched_max_deg,
            ]
        )


@dataclass(frozen=True, slots=True, eq=False)
class PostureBlock:
    """Posture state per sample, aligned with the input :class:`~host.samples.SampleBlock`.

    Attributes:
        t_s: (N,) sample times, seconds.
        flexion_deg: (N,) trunk flexion relative to the calibrated neutral, forward positive,
            degrees (NaN without calibration).
        lateral_deg: (N,) lateral bend, positive to the wearer's right, degrees (NaN likewise).
        zone: (N,) :class:`Zone` values.
        activity: (N,) :class:`Activity` values.
        dwell_s: (N,) time since the current zone was entered, seconds.
        confidence: (N,) fusion confidence 0–1 (low while the estimate is uncertain).
    """

    t_s: FloatArray
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    zone: npt.NDArray[np.int8]
    activity: npt.NDArray[np.int8]
    dwell_s: FloatArray
    confidence: FloatArray

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def zone_of(flexion_deg: FloatArray, config: PostureConfig) -> npt.NDArray[np.int8]:
    """Zone per sample without hysteresis (NaN → UNKNOWN)."""
    zone = np.searchsorted(config.edges_deg, flexion_deg, side="left").astype(np.int8)
    # searchsorted puts exactly-on-edge values in the lower zone ("upright ≤ 10°") except the
    # first edge, where −10° itself is not reclined ("reclined < −10°").
    zone[flexion_deg == config.reclined_below_deg] = Zone.UPRIGHT
    zone[np.isnan(flexion_deg)] = Zone.UNKNOWN
    return zone


@dataclass(slots=True)
class _Filters:
    """Filter coefficients and carried states for one sample rate."""

    rate_hz: float
    band: tuple[FloatArray, FloatArray]
    high: tuple[FloatArray, FloatArray]
    tilt: tuple[FloatArray, FloatArray]
    env: tuple[FloatArray, FloatArray]  # one-pole low-pass of the powers, b padded to len(a)
    z_band: FloatArray | None = None
    z_high: FloatArray | None = None
    z_env: FloatArray | None = None  # (2, 1): band power, dynamic power
    z_tilt: FloatArray | None = None  # (2, 3): one per up component
    last_up: FloatArray | None = None  # low-passed up of the previous sample


def _design(rate_hz: float, cfg: PostureConfig) -> _Filters:
    nyq = rate_hz / 2.0
    lo, hi = cfg.walk_band_hz
    band = iir.butter(2, (lo / nyq, min(hi / nyq, 0.95)), "bandpass")
    high = iir.butter(2, 0.5 / nyq, "highpass")
    tilt = iir.butter(2, min(cfg.tilt_lowpass_hz / nyq, 0.95))
    env_a = math.exp(-1.0 / (rate_hz * cfg.power_tau_s))
    env = (np.array([1.0 - env_a, 0.0]), np.array([1.0, -env_a]))
    return _Filters(rate_hz, band, high, tilt, env)


@dataclass(slots=True)
class _State:
    """Everything :class:`PostureTracker` carries from one block to the next."""

    t_history: list[float] = field(default_factory=list)  # until the rate is known
    filters: _Filters | None = None
    last_t_s: float | None = None
    zone: int = int(Zone.UNKNOWN)
    zone_since_s: float | None = None
    posture: int = int(Activity.SITTING)  # sitting or standing, between transitions
    walk_since_s: float | None = None  # start of the current walking signature
    walk_last_s: float | None = None  # last sample showing the walking signature
    walking: bool = False
    fast_last_s: float | None = None  # last sample with a fast tilt
    in_transition: bool = False
    transition_acc: list[FloatArray] = field(default_factory=list)  # vertical accel, m/s²
    transition_t: list[FloatArray] = field(default_factory=list)
    transition_samples: int = 0
    recent_acc: FloatArray = field(default_factory=lambda: np.zeros(0))  # pre-roll, m/s²
    recent_t: FloatArray = field(default_factory=lambda: np.zeros(0))


class PostureTracker:
    """Streaming posture classifier; feed it consecutive blocks of one stream.

    Args:
        config: zone boundaries and activity parameters.
    """

    def __init__(self, config: PostureConfig = PostureConfig()) -> None:
        self.config = config
        self._s = _State(posture=int(config.initial_activity))
        if config.rate_hz is not None:
            self._s.filters = _design(config.rate_hz, config)
        self.samples = 0

    def update(self, samples: SampleBlock, analysis: Analysis) -> PostureBlock:
        """Classify one block (any chunking of a stream gives identical output).

        Args:
            samples: the raw block (for the activity signal).
            analysis: the fusion/angle output for the same samples.

        Returns:
            A :class:`PostureBlock` with one entry per sample.
        """
        t_s = np.asarray(samples.t_s, dtype=np.float64)
        n = t_s.shape[0]
        flexion = np.asarray(analysis.flexion_deg, dtype=np.float64)
        lateral = np.asarray(analysis.lateral_deg, dtype=np.float64)
        confidence = np.asarray(analysis.orientation.confidence, dtype=np.float64)
        zone = self._zones(flexion)
        dwell = self._dwell(t_s, zone)
        activity = self._activity(samples, np.asarray(analysis.orientation.up_sensor), t_s)
        if n:
            self._s.zone = int(zone[-1])
        self.samples += n
        return PostureBlock(t_s, flexion, lateral, zone, activity, dwell, confidence)

    # ------------------------------------------------------------------ zones and dwell

    def _zones(self, flexion: FloatArray) -> npt.NDArray[np.int8]:
        cfg = self.config
        h = cfg.zone_hysteresis_deg
        raw = zone_of(flexion, cfg)
        if h == 0.0 or raw.size == 0:
            return raw
        lower = zone_of(flexion - h, cfg)  # the zone if flexion were h lower
        upper = zone_of(flexion + h, cfg)
        ambiguous = (lower != upper) & (raw != Zone.UNKNOWN)
        if not ambiguous.any():
            return raw
        out = raw.copy()
        # Within h of a boundary the previous zone is kept if it is one of the two candidates;
        # runs of such samples are few (one per boundary approach), so loop over them.
        idx = np.flatnonzero(ambiguous)
        breaks = np.diff(idx) > 1
        starts = idx[np.concatenate(([True], breaks))]
        stops = idx[np.concatenate((breaks, [True]))] + 1
        lo, hi = lower.tolist(), upper.tolist()
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            prev = self._s.zone if start == 0 else int(out[start - 1])
            for i in range(start, stop):
                if not lo[i] <= prev <= hi[i]:
                    prev = int(raw[i])
                out[i] = prev
        return out

    def _dwell(self, t_s: FloatArray, zone: npt.NDArray[np.int8]) -> FloatArray:
        n = t_s.shape[0]
        if n == 0:
            return np.zeros(0)
        s = self._s
        first_changed = s.zone_since_s is None or int(zone[0]) != s.zone
        changed = np.empty(n, dtype=bool)
        changed[0] = first_changed
        np.not_equal(zone[1:], zone[:-1], out=changed[1:])
        entry = np.where(changed, np.arange(n), 0)
        np.maximum.accumulate(entry, out=entry)
        since = t_s[entry]
        if not first_changed:
            assert s.zone_since_s is not None
            since[entry == 0] = s.zone_since_s
        s.zone_since_s = float(since[-1])
        return t_s - since

    # ------------------------------------------------------------------ activity

    def _activity(
        self, samples: SampleBlock, up: FloatArray, t_s: FloatArray
    ) -> npt.NDArray[np.int8]:
        n = t_s.shape[0]
        out = np.empty(n, dtype=np.int8)
        if n == 0:
            return out
        s = self._s
        start = 0
        if s.filters is None:
            start = self._infer_rate(t_s)
            out[:start] = s.posture
        f = s.filters
        if f is None or start >= n:
            return out
        previous = s.last_t_s if s.last_t_s is not None else float(t_s[start])
        dt = np.diff(t_s[start:], prepend=previous)
        gaps = (np.flatnonzero(dt > _GAP_PERIODS / f.rate_hz) + start).tolist()
        bounds = [start, *gaps, n]
        for a, b in itertools.pairwise(bounds):
            if a == b:
                continue
            if a in gaps:
                self._reset_filters()
            out[a:b] = self._activity_segment(samples.accel_m_s2[a:b], up[a:b], t_s[a:b], f)
        s.last_t_s = float(t_s[-1])
        return out

    def _infer_rate(self, t_s: FloatArray) -> int:
        """Collect the first intervals; returns how many samples of ``t_s`` it consumed."""
        s = self._s
        take = min(_RATE_PROBE + 1 - len(s.t_history), int(t_s.shape[0]))
        s.t_history.extend(t_s[:take].tolist())
        if len(s.t_history) <= _RATE_PROBE:
            return take
        dt = float(np.median(np.diff(np.asarray(s.t_history))))
        if not dt > 0:
            raise ConfigError("sample times do not increase: cannot infer the sample rate")
        rate = 1.0 / dt
        if rate <= 2 * self.config.walk_band_hz[1]:
            logger.warning("sample rate %.1f Hz is too low for walking detection", rate)
            rate = 2.5 * self.config.walk_band_hz[1]
        s.filters = _design(rate, self.config)
        s.last_t_s = s.t_history[-1]
        logger.debug("posture: sample rate %.2f Hz", rate)
        return take

    def _reset_filters(self) -> None:
        s = self._s
        f = s.filters
        if f is not None:
            f.z_band = f.z_high = f.z_env = f.z_tilt = f.last_up = None
        s.walk_since_s = None
        s.walking = False
        s.in_transition = False
        s.transition_acc.clear()
        s.transition_t.clear()
        s.recent_acc = np.zeros(0)
        s.recent_t = np.zeros(0)

    def _activity_segment(
        self, accel: FloatArray, up: FloatArray, t_s: FloatArray, f: _Filters
    ) -> npt.NDArray[np.int8]:
        cfg = self.config
        mag = np.sqrt(np.einsum("ij,ij->i", accel, accel))
        if f.z_band is None or f.z_high is None or f.z_env is None:
            f.z_band = iir.lfilter_zi(*f.band) * mag[0]
            f.z_high = iir.lfilter_zi(*f.high) * mag[0]
            f.z_env = np.zeros((1, 2))
        band, f.z_band = iir.lfilter(*f.band, mag, f.z_band)
        high, f.z_high = iir.lfilter(*f.high, mag, f.z_high)
        powers = np.stack([band * band, high * high], axis=1)
        env, f.z_env = iir.lfilter(*f.env, powers, f.z_env)
        candidate = (env[:, 0] >= cfg.walk_min_rms_m_s2**2) & (
            env[:, 0] >= cfg.walk_min_fraction * env[:, 1]
        )
        fast = self._tilt_rate_deg_s(up, f) > cfg.transition_rate_deg_s
        vertical = np.einsum("ij,ij->i", accel, _finite(up)) - _G_M_S2
        return self._decide(t_s, candidate, fast, vertical)

    def _tilt_rate_deg_s(self, up: FloatArray, f: _Filters) -> FloatArray:
        clean = _finite(up)
        if f.z_tilt is None:
            f.z_tilt = iir.lfilter_zi(*f.tilt)[:, None] * clean[0][None, :]
        smooth, f.z_tilt = iir.lfilter(*f.tilt, clean, f.z_tilt)
        prev = np.empty_like(smooth)
        prev[0] = smooth[0] if f.last_up is None else f.last_up
        prev[1:] = smooth[:-1]
        f.last_up = smooth[-1].copy()
        norms = np.sqrt(np.einsum("ij,ij->i", smooth, smooth) * np.einsum("ij,ij->i", prev, prev))
        cos = np.einsum("ij,ij->i", smooth, prev) / np.where(norms > 0, norms, 1.0)
        rate: FloatArray = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) * f.rate_hz
        return rate

    def _decide(
        self,
        t_s: FloatArray,
        candidate: npt.NDArray[np.bool_],
        fast: npt.NDArray[np.bool_],
        vertical: FloatArray,
    ) -> npt.NDArray[np.int8]:
        """Debounce walking and transitions and track sitting/standing.

        Semantics per sample i at time t: a walking signature present since ``since`` makes
        WALKING once ``t >= since + walk_confirm_s``; WALKING ends once ``t >= last signature +
        walk_release_s``; a fast tilt starts (or prolongs) a TRANSITION that ends once
        ``t >= last fast sample + transition_hold_s``. The loop visits runs of constant input
        flags and, inside them, only the samples where a timer expires.
        """
        n = t_s.shape[0]
        out = np.empty(n, dtype=np.int8)
        flip = (candidate[1:] != candidate[:-1]) | (fast[1:] != fast[:-1])
        bounds = [0, *(np.flatnonzero(flip) + 1).tolist(), n]
        for a, b in itertools.pairwise(bounds):
            self._run(t_s, a, b, bool(candidate[a]), bool(fast[a]), vertical, out)
        s = self._s
        keep = round(_PREROLL_S * (s.filters.rate_hz if s.filters else 100.0))
        tail = max(0, t_s.shape[0] - keep)
        s.recent_acc = np.concatenate((s.recent_acc, vertical[tail:]))[-keep:]
        s.recent_t = np.concatenate((s.recent_t, t_s[tail:]))[-keep:]
        return out

    def _run(
        self,
        t_s: FloatArray,
        a: int,
        b: int,
        candidate: bool,
        fast: bool,
        vertical: FloatArray,
        out: npt.NDArray[np.int8],
    ) -> None:
        cfg = self.config
        s = self._s
        if candidate:
            if s.walk_since_s is None:
                s.walk_since_s = float(t_s[a])
        else:
            s.walk_since_s = None
        if fast:
            s.in_transition = True
        # at most one walking event and one transition end inside a run of constant flags
        events: list[tuple[int, str]] = []
        if candidate and not s.walking:
            events.append((self._first_at(t_s, a, b, s.walk_since_s, cfg.walk_confirm_s), "walk"))
        elif not candidate and s.walking:
            events.append((self._first_at(t_s, a, b, s.walk_last_s, cfg.walk_release_s), "stop"))
        if not fast and s.in_transition:
            events.append((self._first_at(t_s, a, b, s.fast_last_s, cfg.transition_hold_s), "end"))
        events.sort()
        p = a
        for k, what in events:
            if k >= b:
                continue
            self._label_span(t_s, p, k, vertical, out)
            p = k
            if what == "walk":
                s.walking = True
                s.posture = int(Activity.STANDING)
            elif what == "stop":
                s.walking = False
            else:
                self._end_transition()
        self._label_span(t_s, p, b, vertical, out)
        if candidate:
            s.walk_last_s = float(t_s[b - 1])
        if fast:
            s.fast_last_s = float(t_s[b - 1])

    @staticmethod
    def _first_at(t_s: FloatArray, a: int, b: int, since: float | None, wait_s: float) -> int:
        """Index of the first sample in a..b with ``t >= since + wait_s`` (b if none)."""
        if since is None:
            return b
        return a + int(np.searchsorted(t_s[a:b], since + wait_s, side="left"))

    def _label_span(
        self, t_s: FloatArray, p: int, q: int, vertical: FloatArray, out: npt.NDArray[np.int8]
    ) -> None:
        if p >= q:
            return
        s = self._s
        # plain ints: filling an int8 slice with an IntEnum member takes numpy's slow path
        if s.walking:
            out[p:q] = _WALKING
        elif s.in_transition:
            out[p:q] = _TRANSITION
        else:
            out[p:q] = s.posture
        if s.in_transition:
            if not s.transition_acc:
                # the rise starts before the trunk tilts fast enough: include a pre-roll
                keep = round(_PREROLL_S * (s.filters.rate_hz if s.filters else 100.0))
                lo = max(0, p - keep)
                s.transition_acc.append(np.concatenate((s.recent_acc, vertical[lo:p]))[-keep:])
                s.transition_t.append(np.concatenate((s.recent_t, t_s[lo:p]))[-keep:])
            s.transition_acc.append(vertical[p:q])
            s.transition_t.append(t_s[p:q])
            s.transition_samples += q - p

    def _end_transition(self) -> None:
        s = self._s
        s.in_transition = False
        acc = np.concatenate(s.transition_acc) if s.transition_acc else np.zeros(0)
        t = np.concatenate(s.transition_t) if s.transition_t else np.zeros(0)
        s.transition_acc.clear()
        s.transition_t.clear()
        s.transition_samples = 0
        if acc.shape[0] and not np.isfinite(acc).all():
            return
        if s.walking or t.shape[0] < 3 or t[-1] - t[0] > _MAX_TRANSITION_S:
            return
        travel = _net_travel_m(t, acc)
        if travel >= self.config.updown_min_m:
            s.posture = int(Activity.STANDING)
        elif travel <= -self.config.updown_min_m:
            s.posture = int(Activity.SITTING)
        logger.debug("transition ended at %.2f s: net vertical travel %+.2f m", t[-1], travel)


def _finite(values: FloatArray) -> FloatArray:
    """``values`` with NaN replaced by 0 (no copy when there is none)."""
    nan = np.isnan(values)
    return np.where(nan, 0.0, values) if nan.any() else values


def _net_travel_m(t_s: FloatArray, accel_vertical_m_s2: FloatArray) -> float:
    """Net vertical displacement over a movement that starts and ends at rest, metres.

    Velocity is the integral of vertical acceleration, detrended so it is zero at both ends
    (the wearer is still before and after; this also cancels a constant accelerometer bias).
    """
    if t_s.shape[0] < 3:
        return 0.0
    dt = np.diff(t_s)
    mid = 0.5 * (accel_vertical_m_s2[1:] + accel_vertical_m_s2[:-1])
    v = np.concatenate(([0.0], np.cumsum(mid * dt)))
    span = t_s[-1] - t_s[0]
    v = v - v[-1] * (t_s - t_s[0]) / span
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * dt))


_WALKING = int(Activity.WALKING)
_TRANSITION = int(Activity.TRANSITION)
