"""Quality of one repetition or hold (pure).

Each rep gets four components, each 0–1, and a 0–100 score:

* **range**: peak excursion / target range (capped at 1). 40 % of the score.
* **tempo**: 1 when the rep lasted inside the exercise's ``tempo_s`` window, falling off
  linearly to 0 at half the shortest or twice the longest duration. 20 %.
* **smoothness**: spectral arc length (SPARC, Balasubramanian et al. 2015) of the angular speed
  profile, mapped from −4 (jerky, 0) to −1.6 (one smooth min-jerk move, 1). 20 %.
* **steadiness**: RMS of the off-axis signal (lateral wobble while pitching), 1 below half the
  exercise's ``steadiness_max_deg``, 0 at twice it. 20 %.

The **prescribed hold** decides whether a rep counts: a rep held at the top for less than
:data:`HOLD_TOLERANCE` (80 %) of the prescribed hold (the therapist's ``hold_s``, else the
library's) less :data:`HOLD_TIMING_S` (0.5 s) is ``held = False`` and gets the hint "hold N s at
the top"; the coach does not count it towards a complete set. Why: a wearer doing as asked still
varies about ±15 % around the prescribed time (our simulated wearer does, by design), and the
detector times a hold's edges to about ±0.5 s (tests/integration/test_exercise_sim.py); 90 %
alone would drop every third compliant 3 s bridge, while this rule still refuses a 3 s hold
against a prescribed 10 s (needs 7.5 s), 31 s against 90 s (needs 71.5 s) and a rushed rep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from host.exercise.counting import Rep
from host.exercise.library import ExerciseSpec

__all__ = ["HOLD_TIMING_S", "HOLD_TOLERANCE", "RepScore", "held_enough", "score_rep", "sparc"]

FloatArray = npt.NDArray[np.float64]

HOLD_TOLERANCE = 0.8
"""A hold (or the hold at the top of a rep) counts when it lasts ≥ this share of the prescribed
hold, less :data:`HOLD_TIMING_S`."""
HOLD_TIMING_S = 0.5
"""Allowance for the detector's timing of a hold's edges, s."""


def held_enough(hold_s: float, prescribed_hold_s: float) -> bool:
    """Whether a hold of ``hold_s`` meets a prescribed hold (always, without one: < 1 s)."""
    if prescribed_hold_s < 1.0:
        return True
    return hold_s >= HOLD_TOLERANCE * prescribed_hold_s - HOLD_TIMING_S


def sparc(speed: FloatArray, rate_hz: float, *, fc_hz: float = 10.0, amp_th: float = 0.05) -> float:
    """Spectral arc length of a speed profile (dimensionless, ≤ 0; closer to 0 is smoother).

    Balasubramanian, Melendez-Calderon, Roby-Brami & Burdet (2015), J NeuroEng Rehabil 12:112:
    arc length of the normalised magnitude spectrum up to an adaptive cut-off (the last
    frequency below ``fc_hz`` whose magnitude exceeds ``amp_th``).
    """
    v = np.asarray(speed, dtype=np.float64)
    if v.size < 4 or not np.any(v > 0):
        return 0.0
    nfft = int(2 ** (math.ceil(math.log2(v.size)) + 4))
    mag = np.abs(np.fft.rfft(v, nfft))
    mag = mag / mag[0] if mag[0] > 0 else mag
    freq = np.fft.rfftfreq(nfft, 1.0 / rate_hz)
    inband = np.flatnonzero(freq <= fc_hz)
    mag, freq = mag[inband], freq[inband]
    above = np.flatnonzero(mag >= amp_th)
    last = int(above[-1]) + 1 if above.size else 2
    mag, freq = mag[:last], freq[:last]
    df = np.diff(freq) / (freq[-1] - freq[0]) if freq[-1] > freq[0] else np.diff(freq)
    return float(-np.sum(np.sqrt(df**2 + np.diff(mag) ** 2)))


@dataclass(frozen=True, slots=True)
class RepScore:
    """Score of one repetition.

    Attributes:
        range_ratio: peak excursion / target range (not capped).
        duration_s: rep duration, s.
        sparc: spectral arc length of the angular speed (≤ 0).
        wobble_deg: RMS of the off-axis signal during the rep, degrees.
        range_score, tempo_score, smooth_score, steady_score: components 0–1.
        quality: weighted 0–100.
        hint: ``""`` or the one thing to improve ("go further", "slower", ...).
        held: the hold at the top met the prescribed hold (see :data:`HOLD_TOLERANCE`).
    """

    range_ratio: float
    duration_s: float
    sparc: float
    wobble_deg: float
    range_score: float
    tempo_score: float
    smooth_score: float
    steady_score: float
    quality: float
    hint: str
    held: bool = True


def _clip01(x: float) -> float:
    return max(0.0, min(1.0, x))


def score_rep(rep: Rep, spec: ExerciseSpec, *, hold_target_s: float | None = None) -> RepScore:
    """Score a finished repetition against its exercise and the prescribed hold at the top
    (``hold_target_s``; default: the library's ``hold_s``)."""
    target_hold_s = spec.hold_s if hold_target_s is None else hold_target_s
    held = held_enough(rep.hold_s, target_hold_s)
    ratio = rep.peak_deg / spec.target_deg
    lo, hi = spec.tempo_s
    d = rep.duration_s
    if d < lo:
        tempo = _clip01((d - lo / 2.0) / (lo / 2.0))
    elif d > hi:
        tempo = _clip01((2.0 * hi - d) / hi)
    else:
        tempo = 1.0
    t = rep.t_s
    rate = (t.size - 1) / (t[-1] - t[0]) if t.size > 1 and t[-1] > t[0] else 100.0
    speed = np.abs(np.gradient(rep.signal_deg, t)) if t.size > 2 else np.zeros(1)
    s = sparc(speed, rate)
    smooth = _clip01((s + 4.0) / 2.4)
    wobble = (
        float(np.sqrt(np.mean((rep.off_axis_deg - np.mean(rep.off_axis_deg)) ** 2)))
        if rep.off_axis_deg.size
        else 0.0
    )
    m = spec.steadiness_max_deg
    steady = _clip01((2.0 * m - wobble) / (1.5 * m))
    range_score = _clip01(ratio)
    quality = 100.0 * (0.4 * range_score + 0.2 * tempo + 0.2 * smooth + 0.2 * steady)
    hint = ""
    if ratio < 0.8:
        hint = "go further"
    elif d < lo:
        hint = "slower"
    elif wobble > m:
        hint = "keep your trunk level"
    elif not held:
        hint = f"hold {target_hold_s:.0f} s at the top"
    elif d > hi:
        hint = "a little quicker"
    return RepScore(ratio, d, s, wobble, range_score, tempo, smooth, steady, quality, hint, held)
