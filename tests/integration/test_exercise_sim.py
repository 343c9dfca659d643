"""Exercise coach and ROM checks on simulated sessions against the simulator's ground truth.

Targets of issue 8: ≥ 98 % of true reps counted, no phantom reps during rests, partial reps
identified, holds timed within ±0.5 s, range of motion within ±2° of the truth.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from bench.bench_exercise import simulate
from device_sim.exercise_scenarios import ExerciseTruth, exercise_truth
from device_sim.generate import generate
from host.analysis import analyze
from host.exercise.coach import CoachResult, coach_recording
from host.exercise.library import load_library
from host.exercise.rom import RomCheck, RomResult
from host.exercise.signals import StartPosture, relative_signals, up_from_angles

LIBRARY = load_library()
REPS = [n for n, s in LIBRARY.items() if s.kind == "reps"]
HOLDS = [n for n, s in LIBRARY.items() if s.kind == "hold"]
SEEDS = (1, 2)


@functools.cache
def _session(scenario: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, ExerciseTruth]:
    """(t, estimated up, true up, truth): generated, calibrated from the preamble and analysed
    like the live path, by the same code the benchmark uses."""
    s = simulate(scenario, seed)
    return s.t_s, s.up_body, s.true_up_body, s.truth


def _coach(name: str, seed: int) -> tuple[CoachResult, ExerciseTruth]:
    t, up, _, truth = _session(f"ex_{name}", seed)
    result, _ = coach_recording(LIBRARY[name], t, up, start_s=20.0, block=10)
    return result, truth


def _overlap(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) > max(a0, b0)


def test_truth_matches_the_rendered_motion() -> None:
    t, _, true_up, truth = _session("ex_bridge", 1)
    start = StartPosture.capture(
        np.zeros(1), true_up[np.searchsorted(t, truth.ready_s)][None], "supine"
    )
    pitch = relative_signals(true_up, start)["pitch"]
    for rep in truth.reps:
        inside = (t > rep.start_s) & (t < rep.end_s)
        # bridge lifts the pelvis: pitch goes negative by the design peak (plus ≈0.5° sway)
        assert -pitch[inside].min() == pytest.approx(rep.peak_deg, abs=2.0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", REPS)
def test_reps_counted_partials_identified_no_phantoms(name: str, seed: int) -> None:
    result, truth = _coach(name, seed)
    counted = [r.rep for s in result.sets for r in s.reps]
    full = [r for r in truth.reps if not r.partial]
    hits = sum(
        any(_overlap(c.start_s, c.end_s, r.start_s, r.end_s) and not c.partial for c in counted)
        for r in full
    )
    assert hits >= math.ceil(0.98 * len(full)), f"{hits}/{len(full)} reps counted"
    assert result.total_reps == len(full)
    partials = [r for r in truth.reps if r.partial]
    assert result.total_partials == len(partials)
    for r in partials:
        assert any(_overlap(c.start_s, c.end_s, r.start_s, r.end_s) and c.partial for c in counted)
    for c in counted:  # every counted rep or partial is a true one: nothing during rests
        assert any(_overlap(c.start_s, c.end_s, r.start_s, r.end_s) for r in truth.reps)
        for r0, r1 in truth.rests:
            assert not (r0 < c.start_s and c.end_s < r1)


@pytest.mark.parametrize("name", REPS)
def test_sets_follow_the_rests(name: str) -> None:
    result, truth = _coach(name, 1)
    true_sets = max(r.set_index for r in truth.reps) + 1
    assert len(result.sets) == true_sets
    for s in result.sets:
        true = [r for r in truth.reps if r.set_index == s.index and not r.partial]
        assert s.full_reps == len(true)


@pytest.mark.parametrize("name", [n for n in REPS if LIBRARY[n].hold_s >= 1.0])
def test_rep_holds_timed_within_half_a_second(name: str) -> None:
    errors = []
    for seed in SEEDS:
        result, truth = _coach(name, seed)
        counted = [r.rep for s in result.sets for r in s.reps if not r.rep.partial]
        for r in truth.reps:
            if r.partial:
                continue
            match = [c for c in counted if _overlap(c.start_s, c.end_s, r.start_s, r.end_s)]
            errors.append(abs(match[0].hold_s - r.hold_s))
    assert max(errors) <= 0.5


@pytest.mark.parametrize("name", HOLDS)
def test_holds_found_and_timed(name: str) -> None:
    errors = []
    for seed in SEEDS:
        result, truth = _coach(name, seed)
        assert len(result.holds) == len(truth.holds)
        for h in truth.holds:
            match = [m for m in result.holds if _overlap(m.start_s, m.end_s, h.start_s, h.end_s)]
            errors.append(abs(match[0].hold_s - h.hold_s))
    # small trunk shifts (bird-dog, single-leg stance: 5–8°) compete with postural sway of
    # the same order: the moves are fitted whole, with the sway whitened, to meet ±0.5 s
    assert max(errors) <= 0.5


def test_partial_and_poor_form_get_feedback() -> None:
    result, truth = _coach("pelvic_tilt", 1)
    reps = [r for s in result.sets for r in s.reps]
    rushed = [t for t in truth.reps if t.form == "rushed" and not t.partial]
    for t in rushed:
        match = [r for r in reps if _overlap(r.rep.start_s, r.rep.end_s, t.start_s, t.end_s)]
        assert match[0].score.hint in ("slower", "go further")
    partial = [r for r in reps if r.rep.partial]
    assert partial
    assert all(r.score.range_ratio < 0.6 for r in partial)


def _rom(seed: int) -> tuple[list[tuple[RomCheck, list[RomResult]]], tuple]:  # type: ignore[type-arg]
    t, up, true_up, truth = _session("rom_all", seed)
    k = int(np.searchsorted(t, 20.0))
    out = []
    for test in ("flexion", "extension", "lateral", "sts", "balance"):
        check = RomCheck(test, age_years=50)
        while k < t.size and not check.done:
            check.update(t[k : k + 10], up[k : k + 10])
            k += 10
        out.append((check, check.results()))
    return out, (t, true_up, truth)


@pytest.mark.parametrize("seed", SEEDS)
def test_rom_within_two_degrees_of_truth(seed: int) -> None:
    checks, (t, true_up, truth) = _rom(seed)
    for (check, results), test in zip(checks[:3], ("flexion", "extension", "lateral"), strict=True):
        assert check.start is not None
        m = (t > check.start.t_s - 2.0) & (t <= check.start.t_s)
        start = StartPosture.capture(t[m], true_up[m], "standing")
        sig = relative_signals(true_up, start)
        channel = sig["pitch"] if test != "lateral" else sig["lateral"]
        for result in results:
            trials = [r for r in truth.rom if r.test == result.test]
            true_held = [
                abs(float(np.median(channel[(t >= r.start_s) & (t <= r.end_s)]))) for r in trials
            ]
            assert len(result.trials) == len(trials)
            assert result.value == pytest.approx(max(true_held), abs=2.0)
            assert result.norm is not None


@pytest.mark.parametrize("seed", SEEDS)
def test_sit_to_stand_and_balance_against_truth(seed: int) -> None:
    checks, (t, true_up, truth) = _rom(seed)
    sts = checks[3][1][0]
    assert sts.detail["cycles"] == 5
    assert sts.value == pytest.approx(truth.sts_end_s - truth.sts_start_s, abs=0.5)
    balance = checks[4][1][0]
    hold = truth.holds[0]
    assert balance.value == pytest.approx(hold.hold_s, abs=0.5)
    # sway against the true angles over the same window
    start = checks[4][0].start
    assert start is not None
    m = (t > start.t_s - 2.0) & (t <= start.t_s)
    sig = relative_signals(true_up, StartPosture.capture(t[m], true_up[m], "standing"))
    w = (t >= balance.detail["start_s"]) & (t <= balance.detail["end_s"])
    assert balance.detail["sway_ap_deg"] == pytest.approx(float(np.std(sig["pitch"][w])), abs=0.3)
    assert balance.detail["sway_ml_deg"] == pytest.approx(float(np.std(sig["lateral"][w])), abs=0.3)


def test_offline_block_equals_live_sized_blocks() -> None:
    from calibration.procedures import fit_mounting as fit
    from host.exercise.coach import coach_block

    g = generate("ex_bridge", seed=3, minutes=4.0)
    t = g.samples.t_s
    i, j, k, m = np.searchsorted(t, [2.0, 8.0, 12.0, 16.0])
    cal = fit(g.samples.slice(int(i), int(j)), g.samples.slice(int(k), int(m)))
    whole, _ = coach_block(LIBRARY["bridge"], g.samples, cal, start_s=20.0)
    analysis = analyze(g.samples, cal)
    live, _ = coach_recording(
        LIBRARY["bridge"],
        t,
        up_from_angles(analysis.flexion_deg, analysis.lateral_deg),
        start_s=20.0,
        block=7,
    )
    assert (
        whole.total_reps
        == live.total_reps
        == sum(1 for r in exercise_truth("ex_bridge", 3).reps if not r.partial and r.end_s < t[-1])
    )
    assert [r.rep.peak_deg for s in whole.sets for r in s.reps] == [
        r.rep.peak_deg for s in live.sets for r in s.reps
    ]


def test_latest_follows_the_newest_rep_while_feeding() -> None:
    """``Coach.latest`` names the rep just counted, in the open set and after it closes."""
    from host.exercise.coach import Coach

    t, up, _, _ = _session("ex_bridge", 1)
    coach = Coach(LIBRARY["bridge"])
    assert coach.latest() == (None, None)
    first = int(np.searchsorted(t, 20.0))
    seen: list[float] = []
    for i in range(first, len(t), 10):
        coach.update(t[i : i + 10], up[i : i + 10])
        rep, hold = coach.latest()
        assert hold is None  # a rep exercise has no timed holds
        if rep is not None and (not seen or rep.rep.start_s != seen[-1]):
            seen.append(rep.rep.start_s)
    result = coach.finish()
    every = [r.rep.start_s for s in result.sets for r in s.reps]
    assert seen == every  # each rep was the newest once, in order, none skipped
    assert coach.latest()[0] is result.sets[-1].reps[-1]
