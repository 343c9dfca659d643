"""Range-of-motion checks and clinical tests from one back sensor (pure, streaming).

Tests (domain notes §7): active **flexion**, **extension** and **lateral** bend (bend as far as
comfortable, hold 2 s, return; the result is the largest angle *held*, the plateau median, not
a momentary peak), the timed **five-times sit-to-stand** (5xSTS: from the start of the first
rise to the end of the fifth sit-down, found as ten trunk-lean excursions in one run), and
**single-leg stance** (hold time and sway in degrees: RMS antero-posterior and medio-lateral
deviation, mean sway speed).

Angles are relative to the start posture captured when the wearer stands (or, for 5xSTS, sits)
still, so they do not depend on the seated calibration's neutral.

Norms: Troke et al. 2001 (Clin Rehabil 15:371, n = 405): flexion 72° → 40°, extension 29° → 6°,
lateral 29° → 15° each side from age 16 to 90. Our notes hold only the two ends, so the norm at
an age is the straight line between them (a decade table would be better). It is a population
reference for a lumbar measure, not a diagnosis, and our single sensor measures segment
inclination, which is not the same as their lumbar angle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from host.exercise.counting import (
    Hold,
    HoldConfig,
    HoldDetector,
    Rep,
    RepConfig,
    RepCounter,
    excursion_bounds,
)
from host.exercise.signals import StartPosture, StartWatch, relative_signals

__all__ = ["NORM_NOTE", "RESULT_TITLES", "TESTS", "RomCheck", "RomResult", "norms_deg"]

FloatArray = npt.NDArray[np.float64]

TESTS = ("flexion", "extension", "lateral", "sts", "balance")
NORM_NOTE = (
    "population reference (Troke et al. 2001, interpolated by age), not a diagnosis; "
    "one back sensor measures segment inclination, not the lumbar angle"
)

# Troke et al. 2001: group means at the youngest and oldest ages of the sample.
_TROKE_AGES = (16.0, 90.0)
_TROKE = {"flexion": (72.0, 40.0), "extension": (29.0, 6.0), "lateral": (29.0, 15.0)}

RESULT_TITLES = {
    "flexion": "trunk flexion",
    "extension": "trunk extension",
    "lateral": "lateral bend",
    "lateral_right": "lateral bend right",
    "lateral_left": "lateral bend left",
    "sts": "5× sit-to-stand",
    "balance": "single-leg stance",
}
"""What the report and the CLI call each stored result (``RomResult.test``)."""

_TRIALS = {"flexion": 3, "extension": 3, "lateral": 4, "sts": 10, "balance": 1}
_IDLE_DONE_S = 15.0  # a test with some trials is over after this long without another
_STS_RUN_GAP_S = 2.0  # excursions further apart than this are not one 5xSTS run


def norms_deg(age_years: float) -> dict[str, float]:
    """Troke 2001 norm (degrees) per ROM test at an age (clamped to 16–90 years)."""
    a0, a1 = _TROKE_AGES
    f = (min(max(age_years, a0), a1) - a0) / (a1 - a0)
    return {k: young + (old - young) * f for k, (young, old) in _TROKE.items()}


@dataclass(frozen=True, slots=True)
class RomResult:
    """One measured figure.

    Attributes:
        test: ``flexion``, ``extension``, ``lateral_right``, ``lateral_left``, ``sts`` or
            ``balance``.
        value: the figure (degrees for ROM, seconds for 5xSTS and balance hold time); NaN when
            the test was not completed.
        unit: ``deg`` or ``s``.
        trials: held angles of each trial (ROM), degrees; empty otherwise.
        norm: age norm (ROM with an age given), degrees, else None.
        detail: extra numbers (sway, cycles found...).
    """

    test: str
    value: float
    unit: str
    trials: tuple[float, ...] = ()
    norm: float | None = None
    detail: dict[str, float] = field(default_factory=dict)

    @property
    def percent_of_norm(self) -> float | None:
        if self.norm is None or not math.isfinite(self.value):
            return None
        return 100.0 * self.value / self.norm


class RomCheck:
    """One test, fed live or offline: waits for the start posture, then finds the trials.

    Args:
        test: one of :data:`TESTS`.
        age_years: for the norm (ROM tests), or None.
        timeout_s: give up this long after the start posture was captured.
    """

    def __init__(self, test: str, *, age_years: float | None = None, timeout_s: float = 120.0):
        if test not in TESTS:
            raise ValueError(f"unknown test {test!r}")
        self.test = test
        self.age_years = age_years
        self.timeout_s = timeout_s
        self.start: StartPosture | None = None
        self._watch = StartWatch("sitting" if test == "sts" else "standing")
        self._holds: dict[str, HoldDetector] = {}
        if test == "flexion":
            self._holds["flexion"] = HoldDetector(HoldConfig(20.0, min_hold_s=1.5))
        elif test == "extension":
            self._holds["extension"] = HoldDetector(HoldConfig(10.0, min_hold_s=1.5))
        elif test == "lateral":
            for side in ("lateral_right", "lateral_left"):
                self._holds[side] = HoldDetector(HoldConfig(12.0, min_hold_s=1.5))
        elif test == "balance":
            self._holds["balance"] = HoldDetector(HoldConfig(7.0, min_hold_s=3.0))
        self._sts = RepCounter(RepConfig(30.0, min_rep_s=0.3, partial_fraction=0.3))
        self._last_activity_s = math.nan
        self._now_s = math.nan

    # ------------------------------------------------------------------ feeding

    def update(self, t_s: FloatArray, up_body: FloatArray) -> None:
        """Feed (N,) times (s) and (N, 3) body-frame up vectors."""
        if self.done or len(t_s) == 0:
            return
        first = 0
        if self.start is None:
            self.start, first = self._watch.update(t_s, up_body)
            if self.start is None:
                return
        t, up = t_s[first:], up_body[first:]
        if len(t) == 0:
            return
        self._now_s = float(t[-1])
        sig = relative_signals(up, self.start)
        pitch, lateral = sig["pitch"], sig["lateral"]
        if self.test == "sts":
            if self._sts.update(t, pitch) or self._sts.in_rep:
                self._last_activity_s = self._now_s
            return
        level = {
            "flexion": np.maximum(pitch, 0.0),
            "extension": np.maximum(-pitch, 0.0),
            "lateral_right": np.maximum(lateral, 0.0),
            "lateral_left": np.maximum(-lateral, 0.0),
            "balance": np.abs(lateral),
        }
        for name, detector in self._holds.items():
            if detector.update(t, level[name], pitch, lateral) or detector.holding:
                self._last_activity_s = self._now_s

    @property
    def now_s(self) -> float:
        """Time of the last sample seen after the start posture (NaN before), s."""
        return self._now_s

    @property
    def trials_found(self) -> int:
        if self.test == "sts":
            return len(self._sts_run())
        return sum(len(d.holds) for d in self._holds.values())

    @property
    def done(self) -> bool:
        """All trials found, a pause after some, or the timeout."""
        if self.start is None:
            return False
        if self.trials_found >= _TRIALS[self.test] and not self._busy():
            return True
        idle = self._now_s - self._last_activity_s
        if self.trials_found and idle >= _IDLE_DONE_S:
            return True
        return self._now_s - self.start.t_s >= self.timeout_s

    def _busy(self) -> bool:
        if self.test == "sts":
            return self._sts.in_rep
        return any(d.holding for d in self._holds.values())

    def _sts_run(self) -> list[Rep]:
        """The first run of ≥ 10 excursions without a pause, else the longest run."""
        runs: list[list[Rep]] = []
        for rep in self._sts.reps:
            if runs and rep.start_s - runs[-1][-1].end_s < _STS_RUN_GAP_S:
                runs[-1].append(rep)
            else:
                runs.append([rep])
        full = [r for r in runs if len(r) >= 10]
        if full:
            return full[0][:10]
        return max(runs, key=len) if runs else []

    # ------------------------------------------------------------------ results

    def results(self) -> list[RomResult]:
        """The figures (a test without trials gives NaN values)."""
        norms = norms_deg(self.age_years) if self.age_years is not None else {}
        if self.test == "sts":
            return [self._sts_result()]
        if self.test == "balance":
            return [_balance(self._holds["balance"].holds)]
        out = []
        for name, detector in self._holds.items():
            trials = tuple(h.shift_deg for h in detector.holds)
            value = max(trials) if trials else math.nan
            norm = norms.get(name.split("_")[0])
            out.append(RomResult(name, value, "deg", trials, norm, {"trials": float(len(trials))}))
        return out

    def _sts_result(self) -> RomResult:
        run = self._sts_run()
        cycles = len(run) // 2
        if len(run) < 10:
            return RomResult("sts", math.nan, "s", detail={"cycles": float(cycles)})
        start, _ = excursion_bounds(run[0].t_s, np.maximum(run[0].signal_deg, 0.0))
        _, end = excursion_bounds(run[-1].t_s, np.maximum(run[-1].signal_deg, 0.0))
        lean = [r.peak_deg for r in run]
        return RomResult(
            "sts",
            end - start,
            "s",
            detail={
                "cycles": float(cycles),
                "start_s": start,
                "end_s": end,
                "mean_lean_deg": float(np.mean(lean)),
            },
        )


def _balance(holds: list[Hold]) -> RomResult:
    if not holds:
        return RomResult("balance", math.nan, "s")
    h = max(holds, key=lambda x: x.hold_s)
    return RomResult(
        "balance",
        h.hold_s,
        "s",
        detail={
            "sway_ap_deg": h.sway_ap_deg,
            "sway_ml_deg": h.sway_ml_deg,
            "sway_rms_deg": h.sway_rms_deg,
            "sway_velocity_deg_s": h.sway_velocity_deg_s,
            "start_s": h.start_s,
            "end_s": h.end_s,
        },
    )
