"""Repetition counter and hold detector (pure, streaming: feed blocks, get finished events).

Both work on one exercise signal relative to the start posture (degrees, see
:mod:`host.exercise.signals`) and take time only from the samples.

**Repetitions** (:class:`RepCounter`) are excursions in the counted direction, found with a
state machine with hysteresis on the detrended signal: a rep starts when the signal rises above
``enter`` (30 % of the target range, at least 2.5° so postural sway never starts one) and ends
when it falls back below ``exit`` (15 %). Between reps the baseline follows slow drift (only
while the signal is near it). A finished excursion shorter than ``min_rep_s`` is noise; one
whose peak stays below ``partial_fraction`` of the target is a *partial* rep, counted
separately; one beyond ``max_fraction`` (2×) of the target is not a rep at all (the wearer
left the position, e.g. sat back on the heels to rest); the rest are counted reps.

**Holds** (:class:`HoldDetector`) are displacements of at least half the design shift, kept for
at least ``min_hold_s``. A hold's time runs from the end of the move into position to the start
of the move out (:func:`hold_bounds`). The shift of a balance or bird-dog hold (5–8°) is not
much larger than postural sway, and sway goes on through the moves, so neither a threshold
crossing nor the move's middle alone places them well. Each move is instead fitted whole with a
minimum-jerk profile (Flash & Hogan 1985) of free start, length and amplitude by *generalised
least squares* with the wearer's own sway covariance: the signal (the displacement along the
hold's direction, pitch and lateral combined) is averaged to 10 Hz and differenced (which
removes the unknown baseline), and the fit uses the same ±3 s window around the move for every
candidate, whitened with the covariance of the wearer's differenced sway. That covariance is
estimated without a parametric form (autocovariance up to 6 s of lag, Hann-tapered, floored)
from the sway-only stretches around each hold (before the move in, the middle of the hold,
after the move out if the samples reach that far) and pooled over a detector's holds: smooth
drift, 1/f-like sway, a resonance of the balance control and sensor noise are all just lags of
it, so no one sway model is assumed (an AR(2) model did well on smooth sway but was worse than
threshold crossings under a 0.5 Hz resonance). The detector keeps the seconds before a hold so
that the move in is seen whole; the hold is reported, as before, a second after the wearer left
it. What remains is physical: sway in the band of the moves themselves (0.2–0.6 Hz) cannot be
told from them by one trunk sensor; with the sway's true covariance, the Cramér–Rao bound on a
2 s move's end is already ≈0.15 s under 0.6° RMS of 1/f-like or 0.5 Hz-resonant sway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "Hold",
    "HoldConfig",
    "HoldDetector",
    "Rep",
    "RepConfig",
    "RepCounter",
    "SwayModel",
    "excursion_bounds",
    "held_time",
    "hold_bounds",
]

FloatArray = npt.NDArray[np.float64]

_HOLD_DEBOUNCE_S = 1.0
HOLD_PRE_S = 8.0  # history kept before a hold: the move in and the sway before it
_MINJERK_PEAK = 1.875  # peak speed of a min-jerk move × its length / amplitude


@dataclass(frozen=True, slots=True)
class RepConfig:
    """Thresholds of the repetition counter (angles in degrees, times in seconds)."""

    target_deg: float
    enter_fraction: float = 0.3
    exit_fraction: float = 0.15
    partial_fraction: float = 0.6
    min_enter_deg: float = 2.5
    min_rep_s: float = 0.4  # a rushed partial rep spends only ≈0.5 s above the exit level
    max_fraction: float = 2.0
    baseline_tau_s: float = 15.0

    @property
    def enter_deg(self) -> float:
        return max(self.enter_fraction * self.target_deg, self.min_enter_deg)

    @property
    def exit_deg(self) -> float:
        return max(self.exit_fraction * self.target_deg, 0.5 * self.min_enter_deg)


@dataclass(frozen=True, slots=True)
class Rep:
    """One finished excursion.

    Attributes:
        start_s, end_s: when the signal left and came back to the start posture, s.
        peak_deg: largest excursion in the counted direction, degrees.
        held_deg: the level held at the top (median of the top plateau), degrees.
        hold_s: time held at the top (end of the move up to start of the move down), s.
        partial: peak below the partial fraction of the target range.
        t_s, signal_deg, off_axis_deg: the samples of the rep (for scoring).
    """

    start_s: float
    end_s: float
    peak_deg: float
    held_deg: float
    hold_s: float
    partial: bool
    t_s: FloatArray = field(repr=False, compare=False)
    signal_deg: FloatArray = field(repr=False, compare=False)
    off_axis_deg: FloatArray = field(repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


_FIT_BAND = (0.25, 0.75)  # progress of a move used in its fit
_FIT_MIN_SPEED = 0.5  # ... at no less than this share of the speed at the 50 % crossing
_GRID = np.linspace(0.0, 1.0, 2001)
_PROFILE = _GRID**3 * (10.0 + _GRID * (-15.0 + 6.0 * _GRID))  # min-jerk 10τ³ − 15τ⁴ + 6τ⁵


def _fit_move(
    t_s: FloatArray, fraction: FloatArray, speed: FloatArray, at: int
) -> tuple[float, float] | None:
    """(start s, length s) of a min-jerk move from samples of its progress 0…1.

    Takes the contiguous samples around index ``at`` (its 50 % crossing) whose progress lies
    between 25 % and 75 %, maps each back to its phase τ through the min-jerk profile and fits
    t = t0 + T·τ by least squares: every sample of the move votes, so sway averages out
    instead of shifting one threshold crossing. Samples moving slower than half the
    speed at the crossing (a min-jerk move's peak) are left out too: slow postural sway just
    before or after a move must not stretch the fit.
    """
    inside = (
        (fraction >= _FIT_BAND[0])
        & (fraction <= _FIT_BAND[1])
        & (np.abs(speed) >= _FIT_MIN_SPEED * abs(speed[at]))
    )
    if not inside[at]:
        return None
    lo, hi = at, at
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < fraction.size - 1 and inside[hi + 1]:
        hi += 1
    if hi - lo + 1 < 5:
        return None
    tau = np.interp(fraction[lo : hi + 1], _PROFILE, _GRID)
    slope, intercept = np.polyfit(tau, t_s[lo : hi + 1], 1)
    if not 0.05 < slope < 20.0:
        return None
    return float(intercept), float(slope)


def _moves(t_s: FloatArray, level: FloatArray) -> tuple[float, float, float, float, float]:
    """(plateau, rise start, rise length, fall start, fall length) of an excursion ≥ 0.

    Human point-to-point movements follow the min-jerk profile closely (Flash & Hogan 1985);
    the rise and the fall are each fitted with it (:func:`_fit_move`). If a move has too few
    samples to fit, its length comes from its peak speed (a min-jerk move of amplitude A and
    length T peaks at 1.875·A/T) around the 50 % crossing.
    """
    top = float(np.max(level))
    plateau = float(np.median(level[level >= 0.8 * top]))
    above = np.flatnonzero(level >= 0.5 * plateau)
    if above.size == 0 or t_s.size < 3 or plateau <= 0:
        return plateau, float(t_s[0]), 0.0, float(t_s[-1]), 0.0
    i_rise, i_fall = int(above[0]), int(above[-1])
    rate = (t_s.size - 1) / max(float(t_s[-1] - t_s[0]), 1e-9)
    w = max(1, round(0.1 * rate))
    padded = np.pad(level, w, mode="edge")  # zero padding would fake a steep edge
    smooth = np.convolve(padded, np.ones(2 * w + 1) / (2 * w + 1), mode="valid")
    speed = np.gradient(smooth, t_s)
    rise = _fit_move(t_s, level / plateau, speed, i_rise)
    fall = _fit_move(t_s, 1.0 - level / plateau, speed, i_fall)
    if rise is None or fall is None:
        span = max(2, round(0.4 * rate))
        v_rise = float(np.max(speed[max(0, i_rise - span) : i_rise + span + 1]))
        v_fall = float(-np.min(speed[max(0, i_fall - span) : i_fall + span + 1]))
        rise_s = min(_MINJERK_PEAK * plateau / max(v_rise, 1e-6), 10.0)
        fall_s = min(_MINJERK_PEAK * plateau / max(v_fall, 1e-6), 10.0)
        rise = rise or (float(t_s[i_rise]) - rise_s / 2.0, rise_s)
        fall = fall or (float(t_s[i_fall]) - fall_s / 2.0, fall_s)
    return plateau, rise[0], rise[1], fall[0], fall[1]


def held_time(t_s: FloatArray, level: FloatArray) -> tuple[float, float, float]:
    """(plateau level, hold start s, hold end s) of one rise–hold–fall excursion ≥ 0.

    The hold runs from the end of the fitted rise to the start of the fitted fall.
    """
    plateau, rise0, rise_s, fall0, _ = _moves(t_s, level)
    start = rise0 + rise_s
    end = max(start, fall0)
    held = level[(t_s >= start) & (t_s <= end)]
    # the level actually held: the first estimate includes the ends of the moves
    return (float(np.median(held)) if held.size else plateau), start, end


def excursion_bounds(t_s: FloatArray, level: FloatArray) -> tuple[float, float]:
    """(start s, end s) of a whole excursion: the beginning of its rise, the end of its fall."""
    _, rise0, _, fall0, fall_s = _moves(t_s, level)
    return rise0, fall0 + fall_s


# Hold timing: whole-move min-jerk fits, by generalised least squares with the wearer's sway
# covariance (see the module docstring).
_FIT_RATE_HZ = 10.0
_FIT_WINDOW_S = 3.0  # a move is fitted on the samples this far either side of its 50 % crossing
_MOVE_GRID_S = np.arange(0.5, 4.5 + 1e-9, 0.05)  # candidate move lengths
_CENTRE_GRID_S = np.arange(-0.8, 0.8 + 1e-9, 0.01)  # candidate middles around the 50 % crossing
_SWAY_GUARD_S = 3.0  # sway statistics come from samples this far from a move's 50 % crossing
_SWAY_LAGS = round(2 * _FIT_WINDOW_S * _FIT_RATE_HZ) + 2  # autocovariance lags kept
_SWAY_FLOOR = 0.05  # eigenvalue floor of the covariance, × the variance (keeps it invertible)


def _resample(t_s: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Means over cells of 1/10 s (or the native spacing, if coarser); empty cells interpolated."""
    span = float(t_s[-1] - t_s[0])
    native = (t_s.size - 1) / span if span > 0 else 0.0
    rate = min(_FIT_RATE_HZ, native)
    if rate <= 0:
        return t_s.copy(), x.copy()
    cell = np.floor((t_s - t_s[0]) * rate + 1e-9).astype(np.int64)
    n = int(cell[-1]) + 1
    count = np.bincount(cell, minlength=n).astype(np.float64)
    full = count > 0
    tc = np.bincount(cell, weights=t_s, minlength=n)[full] / count[full]
    xc = np.bincount(cell, weights=x, minlength=n)[full] / count[full]
    grid = np.flatnonzero(full)
    every = np.arange(n)
    return np.interp(every, grid, tc), np.interp(every, grid, xc)


@dataclass(slots=True)
class SwayModel:
    """Autocovariance of the wearer's differenced 10 Hz sway (lags 0…``_SWAY_LAGS`` − 1), poolable.

    A hold adds the sway-only stretches around it (:meth:`add`); a detector pools its holds, so
    that the covariance used for later holds rests on more of the wearer's sway than one hold
    shows. No parametric form is assumed: slow 1/f-like wander, a resonance of the balance
    control or sensor noise are all just lags of the same estimate.
    """

    products: FloatArray = field(default_factory=lambda: np.zeros(_SWAY_LAGS))
    pairs: FloatArray = field(default_factory=lambda: np.zeros(_SWAY_LAGS))

    @property
    def n(self) -> int:
        """Differenced sway samples seen."""
        return int(self.pairs[0])

    def add(self, t_s: FloatArray, x: FloatArray, rise_s: float, fall_s: float) -> None:
        """Add the stretches of a resampled hold away from both moves (before, middle, after)."""
        stretches = (
            t_s < rise_s - _SWAY_GUARD_S,
            (t_s > rise_s + _SWAY_GUARD_S) & (t_s < fall_s - _SWAY_GUARD_S),
            t_s > fall_s + _SWAY_GUARD_S,
        )
        for inside in stretches:
            y = np.diff(x[inside])  # each stretch is contiguous
            if y.size < 10:
                continue
            y = y - np.mean(y)
            for lag in range(min(_SWAY_LAGS, y.size)):
                self.products[lag] += float(y[: y.size - lag] @ y[lag:])
                self.pairs[lag] += y.size - lag

    def covariance(self, n: int) -> FloatArray | None:
        """(n, n) covariance of n consecutive differenced samples; None below 20 samples.

        The lags are tapered (Hann) so that the sparsely estimated long lags count less and the
        matrix is a proper covariance; small eigenvalues are floored at 5 % of the variance.
        """
        if self.pairs[0] < 20 or self.products[0] <= 0:
            return None
        gamma = self.products / np.maximum(self.pairs, 1.0)
        lags = np.arange(_SWAY_LAGS)
        gamma = gamma * 0.5 * (1.0 + np.cos(np.pi * lags / _SWAY_LAGS))
        apart = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        cov = np.where(apart < _SWAY_LAGS, gamma[np.minimum(apart, _SWAY_LAGS - 1)], 0.0)
        w, v = np.linalg.eigh(cov)
        w = np.maximum(w, _SWAY_FLOOR * gamma[0])
        out: FloatArray = (v * w) @ v.T
        return out


def _fit_transition(
    t_s: FloatArray, x: FloatArray, mid_s: float, cov: FloatArray | None, lo_s: float, hi_s: float
) -> tuple[float, float] | None:
    """(start s, length s) of the min-jerk move from 0 up to 1·A (A free) whose 50 % crossing
    was seen at ``mid_s``, fitted to the differenced samples within ``_FIT_WINDOW_S`` of it
    (and between ``lo_s`` and ``hi_s``) by generalised least squares with the sway covariance
    ``cov`` of differenced samples (:meth:`SwayModel.covariance`; None: ordinary least squares).

    For every candidate length T and middle c, the model A·mj((t − c + T/2)/T) is differenced
    and whitened like the data (Cholesky factor of the covariance), the best amplitude follows
    in closed form and the pair with the least residual wins (a grid: 0.05 s in T, 0.01 s in c;
    the residual is not convex in them). The window is the same for every candidate, so their
    residuals compare.
    """
    inside = (t_s >= max(mid_s - _FIT_WINDOW_S, lo_s)) & (t_s <= min(mid_s + _FIT_WINDOW_S, hi_s))
    tt, dx = t_s[inside], np.diff(x[inside])
    if dx.size < 10:
        return None
    n = dx.size
    whiten = np.linalg.inv(np.linalg.cholesky(cov[:n, :n])) if cov is not None else np.eye(n)
    dx = whiten @ dx
    best = (math.inf, math.nan, math.nan)
    for length in _MOVE_GRID_S:
        starts = mid_s + _CENTRE_GRID_S - 0.5 * length
        s = np.clip((tt[:, None] - starts[None, :]) / length, 0.0, 1.0)
        model = s**3 * (10.0 + s * (-15.0 + 6.0 * s))
        dm = whiten @ np.diff(model, axis=0)
        power = np.sum(dm * dm, axis=0)
        explained = (dx @ dm) ** 2 / np.maximum(power, 1e-12)
        residual = float(dx @ dx) - explained
        k = int(np.argmin(residual))
        if residual[k] < best[0] and power[k] > 1e-12:
            best = (float(residual[k]), float(starts[k]), float(length))
    if math.isnan(best[1]):
        return None
    return best[1], best[2]


def hold_bounds(
    t_s: FloatArray,
    x_deg: FloatArray,
    entered_s: float | None = None,
    left_s: float | None = None,
    sway: SwayModel | None = None,
) -> tuple[float, float] | None:
    """(start s, end s) of the hold in one rest–move–hold–move–rest stretch of a displacement.

    ``x_deg`` is the displacement along the hold's direction (positive while held), with a few
    seconds of rest before the move in and after the move out. ``entered_s`` and ``left_s``
    (default: the first and last samples above half the held level) are times inside the
    hold, near its ends: the move in is the last crossing of half the held level before
    ``entered_s``, the move out the first after ``left_s``'s last sample above it. The hold runs
    from the end of the fitted move in to the start of the fitted move out
    (:func:`_fit_transition`), with the sway covariance of this hold's sway-only stretches,
    pooled with ``sway`` (the wearer's earlier holds) when given; ``sway`` is updated with this
    hold's stretches. None when the stretch has no clear rise and fall (no rest on either side
    of the hold).
    """
    if t_s.size < 10:
        return None
    first = 0 if entered_s is None else int(np.searchsorted(t_s, entered_s))
    last = t_s.size - 1 if left_s is None else int(np.searchsorted(t_s, left_s, "right")) - 1
    core = x_deg[first : last + 1]
    if core.size == 0:
        return None
    top = float(np.max(core))
    level = float(np.median(core[core >= 0.8 * top])) if top > 0 else 0.0
    if level <= 0:
        return None
    half = 0.5 * level
    above = np.flatnonzero(core >= half)
    if above.size == 0:
        return None
    below_before = np.flatnonzero(x_deg[: first + int(above[0]) + 1] < half)
    i_rise = int(below_before[-1]) + 1 if below_before.size else 0
    i_fall = first + int(above[-1])
    if i_rise == 0 or i_fall >= x_deg.size - 1:
        return None
    rise_s, fall_s = float(t_s[i_rise]), float(t_s[i_fall])
    td, xd = _resample(t_s, x_deg)
    model = SwayModel() if sway is None else sway
    model.add(td, xd, rise_s, fall_s)
    between = 0.5 * (rise_s + fall_s)  # neither fit may see the other move
    cov = model.covariance(round(2 * _FIT_WINDOW_S * _FIT_RATE_HZ) + 3)
    rise = _fit_transition(td, xd, rise_s, cov, -math.inf, between)
    fall = _fit_transition(td, -xd, fall_s, cov, between, math.inf)
    if rise is None or fall is None:
        return None
    start = rise[0] + rise[1]
    return start, max(start, fall[0])


class RepCounter:
    """Counts repetitions of one set.

    Args:
        config: thresholds.
        direction: +1 when the counted excursion increases the signal, −1 when it decreases.
    """

    def __init__(self, config: RepConfig, direction: float = 1.0) -> None:
        self.config = config
        self.direction = 1.0 if direction >= 0 else -1.0
        self.baseline_deg = 0.0
        self.reps: list[Rep] = []
        self.rejected = 0  # excursions too short to be a rep
        self.out_of_range = 0  # excursions far beyond the target: the wearer left the position
        self.counter_deg: list[float] = []  # deepest opposite excursion after each rep
        self._active = False
        self._buf_t: list[float] = []
        self._buf_s: list[float] = []
        self._buf_o: list[float] = []
        self._last_t = math.nan
        self._counter = 0.0

    @property
    def count(self) -> int:
        """Counted (full) repetitions so far."""
        return sum(1 for r in self.reps if not r.partial)

    @property
    def partials(self) -> int:
        return sum(1 for r in self.reps if r.partial)

    @property
    def in_rep(self) -> bool:
        return self._active

    @property
    def current_deg(self) -> float:
        """The latest detrended signal in the counted direction, degrees."""
        return self._buf_s[-1] if self._active and self._buf_s else 0.0

    def update(
        self, t_s: FloatArray, signal_deg: FloatArray, off_axis_deg: FloatArray | None = None
    ) -> list[Rep]:
        """Feed samples; returns the repetitions (full or partial) that finished in them."""
        cfg = self.config
        enter, exit_ = cfg.enter_deg, cfg.exit_deg
        off = np.zeros_like(signal_deg) if off_axis_deg is None else off_axis_deg
        done: list[Rep] = []
        for t, x, o in zip(t_s.tolist(), signal_deg.tolist(), off.tolist(), strict=True):
            dt = 0.0 if math.isnan(self._last_t) else max(0.0, t - self._last_t)
            self._last_t = t
            s = self.direction * (x - self.baseline_deg)
            if not self._active:
                if abs(s) < exit_:
                    if abs(s) < 0.5 * exit_:  # settled near the start posture: follow drift
                        step = min(1.0, dt / cfg.baseline_tau_s)
                        self.baseline_deg += (x - self.baseline_deg) * step
                    self._buf_t, self._buf_s, self._buf_o = [t], [s], [o]
                    continue
                self._counter = min(self._counter, s)
                if s <= enter:  # between the thresholds: keep the samples (rise of a rep)
                    self._buf_t.append(t)
                    self._buf_s.append(s)
                    self._buf_o.append(o)
                    continue
                self._active = True
                # the rep starts at the last sample inside the start band (drop an opposite
                # excursion kept before it)
                below = [i for i, v in enumerate(self._buf_s) if v < exit_]
                cut = below[-1] if below else 0
                del self._buf_t[:cut], self._buf_s[:cut], self._buf_o[:cut]
                if self.reps and len(self.counter_deg) < len(self.reps):
                    self.counter_deg.append(-self._counter)
                self._counter = 0.0
            self._buf_t.append(t)
            self._buf_s.append(s)
            self._buf_o.append(o)
            if self._active and s < exit_:
                self._active = False
                rep = self._finish()
                if rep is not None:
                    done.append(rep)
                self._buf_t, self._buf_s, self._buf_o = [t], [s], [o]
        return done

    def _finish(self) -> Rep | None:
        t = np.array(self._buf_t)
        s = np.array(self._buf_s)
        if t[-1] - t[0] < self.config.min_rep_s:
            self.rejected += 1
            return None
        smooth = np.convolve(np.pad(s, 2, mode="edge"), np.ones(5) / 5.0, mode="valid")
        peak = float(np.max(smooth))
        if peak > self.config.max_fraction * self.config.target_deg:
            self.out_of_range += 1
            return None
        held, h0, h1 = held_time(t, np.maximum(smooth, 0.0))
        rep = Rep(
            float(t[0]),
            float(t[-1]),
            peak,
            held,
            h1 - h0,
            peak < self.config.partial_fraction * self.config.target_deg,
            t,
            s,
            np.array(self._buf_o),
        )
        self.reps.append(rep)
        return rep

    def finish(self) -> None:
        """End of the set: record the opposite excursion after the last rep."""
        if self.reps and len(self.counter_deg) < len(self.reps):
            self.counter_deg.append(-self._counter)
        self._counter = 0.0


@dataclass(frozen=True, slots=True)
class HoldConfig:
    """Thresholds of the hold detector (degrees, seconds)."""

    shift_deg: float
    enter_fraction: float = 0.5
    exit_fraction: float = 0.3
    min_enter_deg: float = 2.0
    min_hold_s: float = 3.0

    @property
    def enter_deg(self) -> float:
        return max(self.enter_fraction * self.shift_deg, self.min_enter_deg)

    @property
    def exit_deg(self) -> float:
        return max(self.exit_fraction * self.shift_deg, 0.6 * self.min_enter_deg)


@dataclass(frozen=True, slots=True)
class Hold:
    """One hold.

    Attributes:
        start_s, end_s: the hold proper (from the end of the move in to the start of the move
            out), s.
        shift_deg: median displacement from the start posture during the hold, degrees.
        sway_ap_deg, sway_ml_deg: RMS deviation of pitch (antero-posterior) and lateral
            (medio-lateral) angle from their means during the hold, degrees.
        sway_velocity_deg_s: mean angular speed of the trunk during the hold, degrees/s.
    """

    start_s: float
    end_s: float
    shift_deg: float
    sway_ap_deg: float
    sway_ml_deg: float
    sway_velocity_deg_s: float

    @property
    def hold_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def sway_rms_deg(self) -> float:
        return math.hypot(self.sway_ap_deg, self.sway_ml_deg)


class HoldDetector:
    """Finds holds in the displacement magnitude and times them (:func:`hold_bounds`).

    The magnitude (≥ 0) decides when a hold is entered (above ``enter``) and left (below
    ``exit`` for a second: sway must not split one hold in two); the hold is reported then. The
    timing uses pitch and lateral: their displacement projected on the hold's direction (from
    the rest before it to the middle of the hold), so a move seen in both (bird-dog) counts with
    both, with ``HOLD_PRE_S`` of history before the hold for the move in and the sway before it.
    """

    def __init__(self, config: HoldConfig) -> None:
        self.config = config
        self.holds: list[Hold] = []
        self.too_short = 0
        self._active = False
        self._rows: list[tuple[float, float, float, float]] = []
        self._since_s = math.nan
        self._below_since_s = math.nan
        self._not_before_s = -math.inf  # history before this time belongs to the last hold
        self._sway = SwayModel()  # the wearer's sway, pooled over the holds so far

    @property
    def holding(self) -> bool:
        return self._active

    def held_so_far_s(self, now_s: float) -> float:
        """Seconds since this hold started (live feedback), 0 when not holding."""
        return max(0.0, now_s - self._since_s) if self._active else 0.0

    def update(
        self,
        t_s: FloatArray,
        magnitude_deg: FloatArray,
        pitch_deg: FloatArray,
        lateral_deg: FloatArray,
    ) -> list[Hold]:
        """Feed samples; returns holds that ended in them."""
        enter, exit_ = self.config.enter_deg, self.config.exit_deg
        done: list[Hold] = []
        rows = zip(
            t_s.tolist(),
            magnitude_deg.tolist(),
            pitch_deg.tolist(),
            lateral_deg.tolist(),
            strict=True,
        )
        for row in rows:
            t, m = row[0], abs(row[1])
            self._rows.append(row)
            if not self._active:
                if m > enter:
                    self._active = True
                    self._since_s = t
                    self._below_since_s = math.nan
                else:
                    self._trim(t)
                continue
            if m >= exit_:
                self._below_since_s = math.nan
            elif math.isnan(self._below_since_s):
                self._below_since_s = t
            # end only after 1 s below the exit level: sway must not split one hold in two
            if m < exit_ and t - self._below_since_s >= _HOLD_DEBOUNCE_S:
                self._active = False
                hold = self._finish(self._below_since_s)
                if hold is not None:
                    done.append(hold)
        return done

    def _trim(self, now_s: float) -> None:
        """Keep ``HOLD_PRE_S`` of history (not reaching back into the last hold's move out)."""
        keep = max(now_s - HOLD_PRE_S, self._not_before_s)
        drop = 0
        while drop < len(self._rows) and self._rows[drop][0] < keep:
            drop += 1
        if drop:
            del self._rows[:drop]

    def _bounds(
        self, t_s: FloatArray, mag: FloatArray, along: FloatArray, entered_s: float, left_s: float
    ) -> tuple[float, float]:
        """(start s, end s) of the hold in the rows kept (magnitude, displacement along it)."""
        bounds = hold_bounds(t_s, along, entered_s, left_s, self._sway)
        if bounds is None:  # no rest seen before the hold (it began with the recording)
            _, start, end = held_time(t_s, mag)
            return start, end
        return bounds

    def _finish(self, left_s: float) -> Hold | None:
        """Measure the hold entered at ``_since_s`` and left (below the exit level) at
        ``left_s`` from the rows kept; the next hold's history starts after its move out."""
        arr = np.array(self._rows)
        entered_s = self._since_s
        self._rows = []
        self._not_before_s = left_s + _HOLD_DEBOUNCE_S
        t, mag = arr[:, 0], np.abs(arr[:, 1])
        moved = arr[:, 2:4]
        core = (t >= entered_s) & (t <= left_s)
        before = t < entered_s
        rest = np.median(moved[before], axis=0) if np.any(before) else np.zeros(2)
        way = np.median(moved[core], axis=0) - rest if np.any(core) else np.zeros(2)
        norm = float(np.hypot(way[0], way[1]))
        along = moved @ (way / norm) if norm > 1e-6 else mag
        start, end = self._bounds(t, mag, along, entered_s, left_s)
        if end - start < self.config.min_hold_s:
            self.too_short += 1
            return None
        inside = (t >= start) & (t <= end)
        level = float(np.median(mag[inside])) if np.any(inside) else float(np.max(mag))
        pitch, lateral = arr[inside, 2], arr[inside, 3]
        dt = np.diff(t[inside])
        speed = np.hypot(np.diff(pitch), np.diff(lateral))
        velocity = float(np.sum(speed) / np.sum(dt)) if dt.size and np.sum(dt) > 0 else 0.0
        hold = Hold(
            start,
            end,
            level,
            float(np.std(pitch)) if pitch.size else 0.0,
            float(np.std(lateral)) if lateral.size else 0.0,
            velocity,
        )
        self.holds.append(hold)
        return hold
