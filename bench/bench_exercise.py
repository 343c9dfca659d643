"""Exercise coach accuracy on simulated sessions with ground truth (issue 8 targets).

For every exercise of the library, several seeds of its simulator scenario (``ex_<name>``,
6 minutes: calibration preamble, start posture, sets with partial reps, poor form, fatigue and
rests, or timed holds) are generated, calibrated from the preamble, run through the live
analysis pipeline and the coach. Rows per exercise:

* reps counted / true reps (%, target ≥ 98 %), partial reps found / true partials, phantom
  reps (counted reps or partials that match no true repetition; target 0);
* hold timing error: max |measured − true| over reps with a prescribed hold and over timed
  holds (s, target ≤ 0.5);

and for the ROM scenarios: max |held angle − truth| (degrees, target ≤ 2; truth = median of
the true angle over the true hold), 5xSTS time error (s) and single-leg stance hold error (s).
The peer column holds the target.

The simulator has one model of postural sway; hold timing must not rest on it. So the last rows
time synthetic sessions (:mod:`bench.sway_families`: 5–7° lateral-shift holds under 0.6° RMS
sway of six kinds, from smooth to a noise-driven 0.5 Hz oscillator) with the coach's detector
(ours) and with the detector as it was before whole-move fits (peer: the threshold-crossing
estimate of ``held_time``), 10 sessions of 4 holds per family (4 with ``--quick``).

Run standalone: ``python -m bench.bench_exercise [--quick] [--seeds N]`` (``--seeds``: the
simulated sessions use seeds 1…N instead of 1…5, e.g. 20 for an out-of-sample look).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.sway_families import (
    FAMILIES,
    ThresholdHoldDetector,
    detect,
    hold_session,
    timing_errors,
)
from calibration.procedures import fit_mounting
from device_sim.exercise_scenarios import ExerciseTruth, exercise_truth
from device_sim.generate import generate
from host.analysis import analyze
from host.exercise.coach import CoachResult, coach_recording
from host.exercise.counting import HoldConfig, HoldDetector
from host.exercise.library import load_library
from host.exercise.rom import RomCheck, RomResult
from host.exercise.signals import StartPosture, relative_signals, up_from_angles

__all__ = ["Session", "evaluate_exercise", "evaluate_rom", "family_rows", "run", "simulate"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Session:
    """A simulated session: times, estimated and true body-frame up vectors, truth."""

    t_s: FloatArray
    up_body: FloatArray
    true_up_body: FloatArray
    truth: ExerciseTruth


def simulate(scenario: str, seed: int, minutes: float = 6.0) -> Session:
    """Generate, calibrate from the preamble (2–8 s, 12–16 s) and analyse like the live path."""
    g = generate(scenario, seed=seed, minutes=minutes)
    s, t = g.samples, g.samples.t_s

    def window(a: float, b: float):  # type: ignore[no-untyped-def]
        i, j = np.searchsorted(t, [a, b])
        return s.slice(int(i), int(j))

    calibration = fit_mounting(window(2.0, 8.0), window(12.0, 16.0))
    analysis = analyze(s, calibration)
    up = up_from_angles(analysis.flexion_deg, analysis.lateral_deg)
    true_up = g.truth.up_sensor @ np.array(g.meta["mount_R_bs"]).T
    return Session(t, up, true_up, exercise_truth(scenario, seed))


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) - max(a0, b0) > 0


def evaluate_exercise(name: str, session: Session) -> dict[str, Any]:
    """Counting and timing figures of one session (coach fed in live-sized blocks)."""
    spec = load_library()[name]
    result: CoachResult
    result, _ = coach_recording(spec, session.t_s, session.up_body, start_s=20.0, block=10)
    truth = session.truth
    out: dict[str, Any] = {}
    if spec.kind == "reps":
        counted = [r.rep for s in result.sets for r in s.reps]
        true_full = [r for r in truth.reps if not r.partial]
        true_part = [r for r in truth.reps if r.partial]

        def found(true_rep: object, partial: bool) -> bool:
            return any(
                _overlaps(c.start_s, c.end_s, true_rep.start_s, true_rep.end_s)  # type: ignore[attr-defined]
                and c.partial == partial
                for c in counted
            )

        out["true_reps"] = len(true_full)
        out["counted"] = sum(1 for r in true_full if found(r, False))
        out["true_partials"] = len(true_part)
        out["partials"] = sum(1 for r in true_part if found(r, True))
        out["phantom"] = sum(
            1
            for c in counted
            if not any(_overlaps(c.start_s, c.end_s, r.start_s, r.end_s) for r in truth.reps)
        )
        errors = []
        if spec.hold_s >= 1.0:
            for r in true_full:
                match = [c for c in counted if _overlaps(c.start_s, c.end_s, r.start_s, r.end_s)]
                if match:
                    errors.append(abs(match[0].hold_s - r.hold_s))
        out["hold_errors"] = errors
    else:
        holds = result.holds
        out["true_holds"] = len(truth.holds)
        errors = []
        for h in truth.holds:
            same = [m for m in holds if _overlaps(m.start_s, m.end_s, h.start_s, h.end_s)]
            if same:
                errors.append(abs(same[0].hold_s - h.hold_s))
        out["holds"] = len(errors)
        out["phantom"] = sum(
            1
            for m in holds
            if not any(_overlaps(m.start_s, m.end_s, h.start_s, h.end_s) for h in truth.holds)
        )
        out["hold_errors"] = errors
    return out


def _run_checks(session: Session, tests: list[str]) -> list[tuple[RomCheck, list[RomResult]]]:
    t, up = session.t_s, session.up_body
    k = int(np.searchsorted(t, 20.0))
    out = []
    for test in tests:
        check = RomCheck(test)
        while k < t.size and not check.done:
            check.update(t[k : k + 10], up[k : k + 10])
            k += 10
        out.append((check, check.results()))
    return out


def evaluate_rom(session: Session) -> dict[str, float]:
    """ROM figures of a ``rom_all`` session against the truth."""
    truth = session.truth
    checks = _run_checks(session, ["flexion", "extension", "lateral", "sts", "balance"])
    measured = {r.test: r for _, results in checks for r in results}
    out: dict[str, float] = {}
    errors = []
    for (check, _), test in zip(checks[:3], ("flexion", "extension", "lateral"), strict=True):
        start = check.start
        if start is None:
            continue
        sig = relative_signals(session.true_up_body, start_true(session, start))
        for name in (test,) if test != "lateral" else ("lateral_right", "lateral_left"):
            trials = [r for r in truth.rom if r.test == name]
            inside = [(session.t_s >= r.start_s) & (session.t_s <= r.end_s) for r in trials]
            channel = sig["pitch"] if test in ("flexion", "extension") else sig["lateral"]
            true_peak = max(abs(float(np.median(channel[m]))) for m in inside)
            errors.append(abs(measured[name].value - true_peak))
    out["rom_err_deg"] = max(errors) if errors else float("nan")
    out["sts_err_s"] = abs(measured["sts"].value - (truth.sts_end_s - truth.sts_start_s))
    balance = truth.holds[0]
    out["balance_err_s"] = abs(measured["balance"].value - balance.hold_s)
    return out


def start_true(session: Session, start: StartPosture) -> StartPosture:
    """The true start posture over the same capture window as the estimated one."""
    m = (session.t_s > start.t_s - 2.0) & (session.t_s <= start.t_s)
    return StartPosture.capture(session.t_s[m], session.true_up_body[m], start.posture)


def family_rows(sessions: int) -> list[dict[str, object]]:
    """Hold timing under each synthetic sway family: ours vs the threshold-crossing estimate."""
    rows: list[dict[str, object]] = []
    for family in FAMILIES:
        figures: dict[str, list[float]] = {"ours": [], "peer": []}
        phantom, missed = 0, 0
        for seed in range(sessions):
            t, pitch, lateral, truth = hold_session(family, seed)
            for name, detector in (
                ("ours", HoldDetector(HoldConfig(6.0))),
                ("peer", ThresholdHoldDetector(HoldConfig(6.0))),
            ):
                errors, lost, extra = timing_errors(detect(detector, t, pitch, lateral), truth)
                figures[name] += errors
                if name == "ours":
                    phantom, missed = phantom + extra, missed + lost
        ours, peer = np.array(figures["ours"]), np.array(figures["peer"])
        rows.append(
            {
                "benchmark": f"holds under {family} sway: timed within ±0.5 s",
                "ours": round(100.0 * float(np.mean(ours <= 0.5)), 1),
                "peer": round(100.0 * float(np.mean(peer <= 0.5)), 1),
                "unit": "%",
                "note": f"{ours.size} holds in {sessions} synthetic sessions; median / max "
                f"error ours {np.median(ours):.2f} / {ours.max():.2f} s, peer (threshold "
                f"crossings) {np.median(peer):.2f} / {peer.max():.2f} s; "
                f"missed {missed}, phantom {phantom}",
            }
        )
    return rows


def run(quick: bool, n_seeds: int = 5) -> list[dict[str, object]]:
    """Accuracy rows per exercise and for ROM over seeds (2 with quick, ``n_seeds`` without),
    then hold timing under the synthetic sway families."""
    seeds = [1, 2] if quick else list(range(1, n_seeds + 1))
    rows: list[dict[str, object]] = []
    began = time.perf_counter()
    for name, spec in load_library().items():
        figures = [evaluate_exercise(name, simulate(f"ex_{name}", seed)) for seed in seeds]
        note = f"{len(seeds)} seeds, ex_{name}"
        if spec.kind == "reps":
            true = sum(f["true_reps"] for f in figures)
            counted = sum(f["counted"] for f in figures)
            rows.append(
                {
                    "benchmark": f"{name}: reps counted",
                    "ours": round(100 * counted / true, 1),
                    "peer": 98.0,
                    "unit": "% of true",
                    "note": f"{counted}/{true} reps, {note}",
                }
            )
            parts = sum(f["true_partials"] for f in figures)
            found = sum(f["partials"] for f in figures)
            rows.append(
                {
                    "benchmark": f"{name}: partial reps identified",
                    "ours": found,
                    "peer": parts,
                    "unit": "reps",
                    "note": note,
                }
            )
        else:
            true = sum(f["true_holds"] for f in figures)
            found = sum(f["holds"] for f in figures)
            rows.append(
                {
                    "benchmark": f"{name}: holds found",
                    "ours": found,
                    "peer": true,
                    "unit": "holds",
                    "note": note,
                }
            )
        rows.append(
            {
                "benchmark": f"{name}: phantom reps/holds",
                "ours": sum(f["phantom"] for f in figures),
                "peer": 0,
                "unit": "count",
                "note": note + " (rests included)",
            }
        )
        errs = np.array([e for f in figures for e in f["hold_errors"]])
        if errs.size:
            rows.append(
                {
                    "benchmark": f"{name}: holds timed within ±0.5 s",
                    "ours": round(100.0 * float(np.mean(errs <= 0.5)), 1),
                    "peer": 100.0,
                    "unit": "%",
                    "note": f"{errs.size} holds, {note}",
                }
            )
            rows.append(
                {
                    "benchmark": f"{name}: hold timing error median / max",
                    "ours": f"{np.median(errs):.2f} / {errs.max():.2f}",
                    "peer": 0.5,
                    "unit": "s",
                    "note": note,
                }
            )
    rom = [evaluate_rom(simulate("rom_all", seed)) for seed in seeds]
    note = f"{len(seeds)} seeds, rom_all"
    rows.append(
        {
            "benchmark": "ROM flexion/extension/lateral: max error",
            "ours": round(max(r["rom_err_deg"] for r in rom), 2),
            "peer": 2.0,
            "unit": "deg",
            "note": note + " (vs true held angle)",
        }
    )
    rows.append(
        {
            "benchmark": "5x sit-to-stand: max time error",
            "ours": round(max(r["sts_err_s"] for r in rom), 2),
            "peer": 0.5,
            "unit": "s",
            "note": note,
        }
    )
    rows.append(
        {
            "benchmark": "single-leg stance: max hold error",
            "ours": round(max(r["balance_err_s"] for r in rom), 2),
            "peer": 0.5,
            "unit": "s",
            "note": note,
        }
    )
    rows += family_rows(4 if quick else 10)
    rows.append(
        {
            "benchmark": "exercise bench wall time",
            "ours": round(time.perf_counter() - began, 1),
            "peer": "",
            "unit": "s",
            "note": "generation + analysis + coach, all rows",
        }
    )
    return rows


if __name__ == "__main__":
    n = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 5
    for row in run("--quick" in sys.argv, n):
        print(row)
