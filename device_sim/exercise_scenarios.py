"""Simulated home-exercise and range-of-motion sessions with ground truth (pure, seeded).

Every scenario starts with the common calibration preamble (sitting upright, a forward bend),
then the wearer gets into the exercise's start posture (quadruped, supine, prone or standing),
settles, and performs the session: sets of repetitions with rests between them, or timed holds.
The sets are not all perfect on purpose: partial repetitions (35–50 % of the target range),
poor form (a lateral wobble, a rushed repetition), fatigue in the last set (slower, shrinking
range) and small fidgets during the rests, so that counting can be tested for what matters:
every true repetition counted, partials told apart, no phantom repetitions while resting.

Angles in the script are the trunk's pitch (the ``flexion_deg`` channel, which here runs past
±90°: quadruped and prone are +90°, supine −90°, a bridge lifts the pelvis to about −115°) and
lateral bend. The ground truth (:func:`exercise_truth`) replays the scenario's cycle with the
same seeded generator as :class:`device_sim.motion.Motion`, so it describes exactly the motion
the simulated sensor renders. Repetition peaks and holds are the scripted (design) values; the
rendered motion adds postural sway (≈0.5° RMS) on top.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np

from device_sim.scenarios import PREAMBLE_S, SITTING_Z_M, STANDING_Z_M, Scenario, preamble
from device_sim.script import ScriptBuilder

__all__ = [
    "EXERCISE_SCENARIOS",
    "ExerciseTruth",
    "TrueHold",
    "TrueRep",
    "TrueRom",
    "exercise_truth",
    "truth_json",
]

# Motion's generator for scenario cycles is default_rng(SeedSequence([seed, _MOTION_KEY]))
# (device_sim/motion.py); the truth replays the cycle with the same stream.
_MOTION_KEY = 0x5C3
_LYING_Z_M = 0.25
_QUADRUPED_Z_M = 0.55


@dataclass(frozen=True, slots=True)
class TrueRep:
    """One scripted repetition.

    Attributes:
        set_index: 0-based set number.
        start_s, end_s: script times the repetition starts and ends (back at the start pose).
        peak_deg: design excursion in the exercise's direction from the start posture, degrees
            (positive = the counted direction).
        partial: scripted as a partial repetition (below 50 % of the target range).
        hold_s: time held at the peak (from the end of the move in to the start of the move out).
        form: ``good``, ``wobble`` (lateral wobble during the rep) or ``rushed`` (too fast).
    """

    set_index: int
    start_s: float
    end_s: float
    peak_deg: float
    partial: bool
    hold_s: float
    form: str = "good"


@dataclass(frozen=True, slots=True)
class TrueHold:
    """One scripted hold: from the end of the move into position to the start of the move out.

    Attributes:
        start_s, end_s: hold start and end, script time, s.
        shift_deg: design displacement of the trunk from the start posture (pitch or lateral).
        sway_gain: multiplier of the postural sway during the hold (balance: > 1).
    """

    start_s: float
    end_s: float
    shift_deg: float
    sway_gain: float = 1.0

    @property
    def hold_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class TrueRom:
    """One range-of-motion trial held at its peak: ``peak_deg`` held from start_s to end_s."""

    test: str
    start_s: float
    end_s: float
    peak_deg: float


@dataclass(slots=True)
class ExerciseTruth:
    """What the simulated wearer did in an exercise or ROM scenario.

    Attributes:
        scenario: scenario name.
        exercise: exercise name of the library (``""`` for ROM scenarios).
        ready_s: time the wearer is settled in the start posture.
        reps: scripted repetitions (full and partial).
        holds: scripted holds.
        rests: (start_s, end_s) rest windows between sets (fidgets included).
        rom: range-of-motion trials.
        sts_start_s, sts_end_s: five-times sit-to-stand: start of the first rise, end of the
            fifth sit-down (NaN when the scenario has none).
        end_s: time the session is over (the wearer then stays still).
    """

    scenario: str
    exercise: str
    ready_s: float = math.nan
    reps: list[TrueRep] = field(default_factory=list)
    holds: list[TrueHold] = field(default_factory=list)
    rests: list[tuple[float, float]] = field(default_factory=list)
    rom: list[TrueRom] = field(default_factory=list)
    sts_start_s: float = math.nan
    sts_end_s: float = math.nan
    end_s: float = math.nan

    @property
    def full_reps(self) -> int:
        return sum(1 for r in self.reps if not r.partial)

    @property
    def partial_reps(self) -> int:
        return sum(1 for r in self.reps if r.partial)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _glide(
    b: ScriptBuilder, duration_s: float, targets: dict[str, float], activity: str | None = None
) -> None:
    """``b.move`` with channel targets computed at run time (the channel name is data)."""
    b.move(duration_s, activity, **cast("dict[str, Any]", targets))


# ----------------------------------------------------------------------------- postures

# start posture -> (pitch of the trunk, hip height, activity label)
_POSTURES: dict[str, tuple[float, float, str]] = {
    "standing": (0.0, STANDING_Z_M, "standing"),
    "sitting": (0.0, SITTING_Z_M, "sitting"),
    "quadruped": (90.0, _QUADRUPED_Z_M, "lying"),
    "prone": (90.0, _LYING_Z_M, "lying"),
    "supine": (-90.0, _LYING_Z_M, "lying"),
}


def _get_into(
    b: ScriptBuilder, rng: np.random.Generator, posture: str, truth: ExerciseTruth
) -> None:
    pitch, z_m, label = _POSTURES[posture]
    b.hold(_u(rng, 2.0, 4.0), "sitting")
    b.move(
        3.5 if abs(pitch) > 45 else 2.0,
        "transition",
        flexion_deg=pitch,
        lateral_deg=0.0,
        pivot_z_m=z_m,
    )
    b.label(label)
    b.hold(_u(rng, 4.0, 6.0))  # settle: the coach captures the start posture here
    truth.ready_s = b.t_s


@dataclass(frozen=True, slots=True)
class _RepPlan:
    """How one exercise's repetitions are scripted."""

    posture: str
    direction: float  # +1: the counted excursion increases pitch (or lateral)
    target_deg: float
    channel: str = "flexion_deg"
    move_s: float = 1.8
    hold_s: float = 0.0
    counter_deg: float = 0.0  # excursion the other way inside each rep (cat-camel)
    reps: int = 10
    sets: int = 3


_REP_PLANS: dict[str, _RepPlan] = {
    "cat_camel": _RepPlan("quadruped", 1.0, 15.0, move_s=2.0, counter_deg=10.0, reps=10, sets=2),
    "pelvic_tilt": _RepPlan("supine", 1.0, 10.0, move_s=1.5, hold_s=2.0, reps=12, sets=2),
    "bridge": _RepPlan("supine", -1.0, 25.0, move_s=2.0, hold_s=3.0, reps=10, sets=2),
    "prone_press_up": _RepPlan("prone", -1.0, 20.0, move_s=2.0, hold_s=1.5, reps=10, sets=2),
    "knee_to_chest": _RepPlan("supine", 1.0, 15.0, move_s=2.0, hold_s=20.0, reps=3, sets=2),
}


def _rep(
    b: ScriptBuilder,
    rng: np.random.Generator,
    plan: _RepPlan,
    base: float,
    amp: float,
    tempo: float,
    form: str,
) -> tuple[float, float, float]:
    """Script one repetition; returns (start_s, end_s, held_s)."""
    t0 = b.t_s
    move = plan.move_s * tempo * _u(rng, 0.9, 1.1)
    if form == "rushed":
        move = 0.5
    # the trunk's roll: lateral bend when upright, rotation about the spine when horizontal
    roll = "lateral_deg" if plan.posture in ("standing", "sitting") else "axial_deg"
    wobble = {roll: _u(rng, 6.0, 9.0) * (1 if rng.random() < 0.5 else -1)}
    extra = wobble if form == "wobble" else {}
    _glide(b, move, {plan.channel: base + plan.direction * amp, **extra})
    hold = plan.hold_s * _u(rng, 0.85, 1.15) if plan.hold_s > 0 else _u(rng, 0.2, 0.5)
    if form == "rushed":
        hold = 0.1
    b.hold(hold)
    if plan.counter_deg > 0:
        back = move * 1.2
        _glide(b, back, {plan.channel: base - plan.direction * plan.counter_deg * amp / 15.0})
        b.hold(_u(rng, 0.3, 0.6))
        _glide(b, back / 2.0, {plan.channel: base, roll: 0.0})
    else:
        _glide(b, move, {plan.channel: base, roll: 0.0})
    return t0, b.t_s, hold


def _rest(b: ScriptBuilder, rng: np.random.Generator, plan: _RepPlan, truth: ExerciseTruth) -> None:
    """A rest in the start posture with small fidgets (≤ 20 % of the target); from quadruped
    the wearer also sits back on the heels for a while (child's pose: the lumbar spine flexes
    ≈40°, far beyond any repetition, which the counter must not count)."""
    start = b.t_s
    base = b.value(plan.channel)
    for _ in range(2):
        b.hold(_u(rng, 6.0, 10.0))
        _glide(b, _u(rng, 1.5, 2.5), {plan.channel: base + _u(rng, -0.2, 0.2) * plan.target_deg})
        b.hold(_u(rng, 1.0, 3.0))
        _glide(b, _u(rng, 1.5, 2.5), {plan.channel: base})
    if plan.posture == "quadruped":
        _glide(b, _u(rng, 2.0, 3.0), {plan.channel: base + _u(rng, 38.0, 45.0)})
        b.hold(_u(rng, 6.0, 9.0))
        _glide(b, _u(rng, 2.0, 3.0), {plan.channel: base})
    b.hold(_u(rng, 4.0, 6.0))
    truth.rests.append((start, b.t_s))


def _rep_session(
    b: ScriptBuilder, rng: np.random.Generator, name: str, truth: ExerciseTruth
) -> None:
    plan = _REP_PLANS[name]
    _get_into(b, rng, plan.posture, truth)
    base = b.value(plan.channel)
    for s in range(plan.sets):
        last = s == plan.sets - 1
        partial_at = {int(rng.integers(2, plan.reps - 1))} if s == 0 and plan.reps > 4 else set()
        if s == 1 and plan.reps > 4:
            partial_at = {int(rng.integers(1, plan.reps // 2))}
        for i in range(plan.reps):
            partial = i in partial_at
            fatigue = i / max(1, plan.reps - 1) if last else 0.0
            amp = plan.target_deg * (
                _u(rng, 0.35, 0.5) if partial else _u(rng, 0.95, 1.1) - 0.25 * fatigue
            )
            form = "good"
            if s == 0 and i == plan.reps - 2 and plan.hold_s < 5:
                form = "rushed"
            elif s == 0 and i == 1:
                form = "wobble"
            t0, t1, held = _rep(b, rng, plan, base, amp, 1.0 + 0.6 * fatigue, form)
            truth.reps.append(TrueRep(s, t0, t1, amp, partial, held, form))
            b.hold(_u(rng, 0.4, 1.2) + (_u(rng, 1.0, 3.0) if plan.hold_s >= 5 else 0.0))
        if not last:
            _rest(b, rng, plan, truth)
    b.hold(3.0)
    truth.end_s = b.t_s


@dataclass(frozen=True, slots=True)
class _HoldPlan:
    posture: str
    shifts: tuple[tuple[float, float], ...]  # (pitch, lateral) design shifts, cycled
    hold_s: float
    holds: int
    sway_gain: float = 1.0
    move_s: float = 2.0


_HOLD_PLANS: dict[str, _HoldPlan] = {
    "bird_dog": _HoldPlan("quadruped", ((1.5, 6.0), (1.5, -6.0)), 10.0, 6, move_s=1.5),
    "hamstring_stretch": _HoldPlan("standing", ((30.0, 0.0),), 30.0, 3),
    "hip_flexor_stretch": _HoldPlan("standing", ((-8.0, 0.0),), 30.0, 3, move_s=2.5),
    "single_leg_stance": _HoldPlan("standing", ((0.0, 7.0), (0.0, -7.0)), 25.0, 3, 2.0, 1.5),
}


def _hold_session(
    b: ScriptBuilder, rng: np.random.Generator, name: str, truth: ExerciseTruth
) -> None:
    plan = _HOLD_PLANS[name]
    _get_into(b, rng, plan.posture, truth)
    base_pitch = b.value("flexion_deg")
    roll = "lateral_deg" if plan.posture in ("standing", "sitting") else "axial_deg"
    for i in range(plan.holds):
        pitch, lateral = plan.shifts[i % len(plan.shifts)]
        scale = _u(rng, 0.8, 1.2)
        move = plan.move_s * _u(rng, 0.9, 1.2)
        targets = {"flexion_deg": base_pitch + pitch * scale, roll: lateral * scale}
        _glide(b, move, {**targets, "sway": plan.sway_gain})
        start = b.t_s
        b.hold(plan.hold_s * _u(rng, 0.8, 1.15))
        shift = abs(lateral if lateral else pitch) * scale
        truth.holds.append(TrueHold(start, b.t_s, shift, plan.sway_gain))
        _glide(b, move, {"flexion_deg": base_pitch, roll: 0.0, "sway": 1.0})
        b.hold(_u(rng, 5.0, 9.0))
    truth.end_s = b.t_s


# ----------------------------------------------------------------------------- ROM


def _rom_trials(
    b: ScriptBuilder, rng: np.random.Generator, test: str, truth: ExerciseTruth
) -> None:
    """Three trials: bend as far as comfortable, hold ≈2.5 s, return, pause."""
    for i in range(3 if test != "lateral" else 4):
        if test == "flexion":
            target, channel = _u(rng, 55.0, 75.0), "flexion_deg"
        elif test == "extension":
            target, channel = -_u(rng, 15.0, 28.0), "flexion_deg"
        else:
            target, channel = _u(rng, 18.0, 30.0) * (1 if i % 2 == 0 else -1), "lateral_deg"
        move = _u(rng, 1.8, 2.6)
        _glide(b, move, {channel: target}, "bending")
        start = b.t_s
        b.hold(_u(rng, 2.3, 3.0))
        name = test if test != "lateral" else ("lateral_right" if target > 0 else "lateral_left")
        truth.rom.append(TrueRom(name, start, b.t_s, target))
        _glide(b, move, {channel: 0.0})
        b.label("standing")
        b.hold(_u(rng, 3.5, 5.0))


def _sts(b: ScriptBuilder, rng: np.random.Generator, truth: ExerciseTruth) -> None:
    """Five sit-to-stand cycles as fast as safely possible (seated start and end)."""
    b.hold(_u(rng, 3.0, 5.0), "sitting")
    truth.sts_start_s = b.t_s
    for _ in range(5):
        b.move(_u(rng, 0.5, 0.7), "transition", flexion_deg=_u(rng, 30.0, 40.0))
        b.move(_u(rng, 0.8, 1.1), flexion_deg=_u(rng, 0.0, 3.0), pivot_z_m=STANDING_Z_M)
        b.hold(_u(rng, 0.1, 0.3), "standing")
        b.move(
            _u(rng, 0.8, 1.1), "transition", flexion_deg=_u(rng, 28.0, 36.0), pivot_z_m=SITTING_Z_M
        )
        b.move(_u(rng, 0.5, 0.7), flexion_deg=_u(rng, 0.0, 3.0))
        b.label("sitting")
        b.hold(_u(rng, 0.1, 0.3))
    truth.sts_end_s = b.t_s - 0.0
    b.hold(4.0)


def _stand(b: ScriptBuilder, rng: np.random.Generator) -> None:
    b.hold(_u(rng, 2.0, 3.0), "sitting")
    b.move(1.0, "transition", flexion_deg=35.0)
    b.move(1.4, flexion_deg=0.0, pivot_z_m=STANDING_Z_M)
    b.label("standing")
    b.hold(_u(rng, 4.0, 6.0))


def _rom_session(
    b: ScriptBuilder, rng: np.random.Generator, test: str, truth: ExerciseTruth
) -> None:
    tests = ["flexion", "extension", "lateral", "sts", "balance"] if test == "all" else [test]
    for t in tests:
        if t == "sts":
            if b.value("pivot_z_m") > SITTING_Z_M + 0.1:
                b.move(1.4, "transition", flexion_deg=30.0, pivot_z_m=SITTING_Z_M)
                b.move(0.8, flexion_deg=0.0)
                b.label("sitting")
            _sts(b, rng, truth)
            continue
        if b.value("pivot_z_m") < STANDING_Z_M - 0.1:
            _stand(b, rng)
        if truth.ready_s != truth.ready_s:  # NaN: first test
            truth.ready_s = b.t_s
        if t == "balance":
            start = b.t_s
            b.move(1.5, lateral_deg=7.0, sway=2.0)
            hold_start = b.t_s
            b.hold(_u(rng, 20.0, 28.0))
            truth.holds.append(TrueHold(hold_start, b.t_s, 7.0, 2.0))
            b.move(1.5, lateral_deg=0.0, sway=1.0)
            b.hold(5.0)
            del start
        else:
            _rom_trials(b, rng, t, truth)
    truth.end_s = b.t_s


# ----------------------------------------------------------------------------- registry

_Session = Callable[[ScriptBuilder, np.random.Generator, ExerciseTruth], None]


def _session_for(scenario: str) -> tuple[str, _Session]:
    """(exercise name, session function) of an exercise or ROM scenario name."""
    if scenario.startswith("ex_"):
        name = scenario[3:]
        if name in _REP_PLANS:
            return name, lambda b, rng, t: _rep_session(b, rng, name, t)
        if name in _HOLD_PLANS:
            return name, lambda b, rng, t: _hold_session(b, rng, name, t)
    if scenario.startswith("rom_"):
        test = scenario[4:]
        return "", lambda b, rng, t: _rom_session(b, rng, test, t)
    raise KeyError(scenario)


def _cycle(scenario: str) -> Callable[[ScriptBuilder, np.random.Generator, dict[str, float]], None]:
    def cycle(b: ScriptBuilder, rng: np.random.Generator, state: dict[str, float]) -> None:
        if state.get("done"):
            b.hold(60.0)  # the session is over: stay still where it ended
            return
        state["done"] = 1.0
        exercise, session = _session_for(scenario)
        session(b, rng, ExerciseTruth(scenario, exercise))

    return cycle


_DESCRIPTIONS = {
    "ex_cat_camel": "quadruped cat-camel: 2 sets of 10, a partial rep, wobble, rushed rep, fatigue",
    "ex_pelvic_tilt": "supine pelvic tilts: 2 sets of 12 with 2 s holds, a partial rep, fatigue",
    "ex_bridge": "supine bridges: 2 sets of 10 with 3 s holds, partial rep, rushed rep, fatigue",
    "ex_prone_press_up": "prone press-ups: 2 sets of 10, partial reps, fatigue",
    "ex_knee_to_chest": "supine knee-to-chest: 2 sets of 3 with 20 s holds",
    "ex_bird_dog": "quadruped bird-dog: 6 holds of ≈10 s, trunk shifting to alternate sides",
    "ex_hamstring_stretch": "standing hamstring stretch: 3 holds of ≈30 s (hip hinge ≈30°)",
    "ex_hip_flexor_stretch": "half-kneeling hip-flexor stretch: 3 holds of ≈30 s",
    "ex_single_leg_stance": "single-leg stance: 3 holds of ≈25 s with twice the postural sway",
    "rom_flexion": "standing: three forward bends to 55–75°, each held ≈2.5 s",
    "rom_extension": "standing: three backward bends to 15–28°, each held ≈2.5 s",
    "rom_lateral": "standing: side bends right, left, right, left to 18–30°, held ≈2.5 s",
    "rom_sts": "five-times sit-to-stand from a chair",
    "rom_balance": "standing: one single-leg stance of 20–28 s",
    "rom_all": "flexion, extension, lateral bends, five-times sit-to-stand, single-leg stance",
}

EXERCISE_SCENARIOS: dict[str, Scenario] = {
    name: Scenario(name, text, 8.0, _cycle(name), sway_after_preamble=1.0)
    for name, text in _DESCRIPTIONS.items()
}


def exercise_truth(scenario: str, seed: int = 0) -> ExerciseTruth:
    """Ground truth of an exercise or ROM scenario for a seed (replays the seeded script).

    Raises:
        KeyError: not an exercise or ROM scenario.
    """
    exercise, session = _session_for(scenario)
    b = ScriptBuilder()
    preamble(b)
    b.move(2.0, sway=EXERCISE_SCENARIOS[scenario].sway_after_preamble)
    if abs(b.t_s - (PREAMBLE_S + 2.0)) > 1e-9:
        raise RuntimeError("preamble length changed: exercise truth is out of step")
    rng = np.random.default_rng(np.random.SeedSequence([seed, _MOTION_KEY]))
    truth = ExerciseTruth(scenario, exercise)
    session(b, rng, truth)
    return truth


def truth_json(scenario: str, seed: int = 0) -> str:
    """The ground truth of an exercise or ROM scenario as JSON (NaN as null)."""
    truth = exercise_truth(scenario, seed)
    data = asdict(truth)
    data["full_reps"], data["partial_reps"] = truth.full_reps, truth.partial_reps
    for key in ("ready_s", "sts_start_s", "sts_end_s", "end_s"):
        if math.isnan(data[key]):
            data[key] = None
    return json.dumps(data, indent=1)
