"""Scenario scripts of the simulated wearer (pure, seeded).

Every scenario starts with the same calibration preamble (0–10 s upright still, 10–12 s bend
forward to 35°, 12–16 s hold, 16–18 s return upright), so any generated file calibrates with
``--neutral 2:8 --forward 12:16``. After it, a scenario's ``cycle`` function is called again and
again, each call appending one stretch of behaviour; the simulated device calls it lazily, so a
live session can run for as long as it likes.

Slouch episodes are 22–35° of flexion with 1–3 s slides in and out. Their durations avoid the
22–45 s band on purpose: a "slouch held longer than 30 s" rule then has an unambiguous truth
(brief slouches are ≤ 22 s, prolonged ones ≥ 45 s).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from device_sim.script import ScriptBuilder

__all__ = ["PREAMBLE_S", "SCENARIOS", "SITTING_Z_M", "STANDING_Z_M", "Scenario", "preamble"]

SITTING_Z_M = 0.50  # hip-joint height on a chair
STANDING_Z_M = 0.92  # hip-joint height standing
PREAMBLE_S = 18.0
_RISE_FORWARD_M = 0.15  # the hips move forward over the feet when standing up

State = dict[str, float]
Cycle = Callable[[ScriptBuilder, np.random.Generator, State], None]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named scenario: one-line description, default length, and its cycle function."""

    name: str
    description: str
    default_minutes: float
    cycle: Cycle
    sway_after_preamble: float = 1.0


def preamble(b: ScriptBuilder) -> None:
    """The common calibration preamble (still: no sway, no breathing)."""
    b.hold(10.0, "sitting")
    b.move(2.0, "bending", flexion_deg=35.0)
    b.hold(4.0)
    b.move(2.0, flexion_deg=0.0)
    b.label("sitting")


# ----------------------------------------------------------------------------- building blocks


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _shift(b: ScriptBuilder, rng: np.random.Generator, lo: float = -2.0, hi: float = 6.0) -> None:
    """A small change of sitting posture (fidget)."""
    b.move(
        _u(rng, 3.0, 8.0),
        flexion_deg=_u(rng, lo, hi),
        lateral_deg=_u(rng, -2.0, 2.0),
        axial_deg=_u(rng, -3.0, 3.0),
    )


def _slouch(b: ScriptBuilder, rng: np.random.Generator, duration_s: float) -> None:
    """Slide into a 22–35° slouch, drift a little inside the band, come back."""
    back_to = b.value("flexion_deg")
    peak = _u(rng, 22.0, 35.0)
    d_in, d_out = _u(rng, 1.0, 3.0), _u(rng, 1.0, 3.0)
    b.begin_slouch(d_in, peak)
    b.move(d_in, "sitting", flexion_deg=peak, lateral_deg=_u(rng, -3.0, 3.0))
    plateau = max(1.0, duration_s - d_in / 2.0 - d_out / 2.0)
    b.move(plateau, flexion_deg=float(np.clip(peak + _u(rng, -3.0, 3.0), 22.0, 35.0)))
    b.end_slouch(d_out)
    b.move(d_out, flexion_deg=back_to, lateral_deg=_u(rng, -2.0, 2.0))


def _slouch_duration(rng: np.random.Generator, brief: bool, longest_s: float) -> float:
    return _u(rng, 5.0, 22.0) if brief else _u(rng, 45.0 if longest_s < 300 else 60.0, longest_s)


def _reach(b: ScriptBuilder, rng: np.random.Generator) -> None:
    """Reach for something on the desk: a short bend with some twist."""
    back = (b.value("flexion_deg"), b.value("lateral_deg"), b.value("axial_deg"))
    b.move(
        _u(rng, 1.0, 1.5),
        "bending",
        flexion_deg=_u(rng, 25.0, 50.0),
        lateral_deg=_u(rng, -10.0, 10.0),
        axial_deg=_u(rng, -15.0, 15.0),
    )
    b.hold(_u(rng, 1.0, 4.0))
    b.move(_u(rng, 1.0, 1.5), flexion_deg=back[0], lateral_deg=back[1], axial_deg=back[2])
    b.label("sitting")


def _lean_back(b: ScriptBuilder, rng: np.random.Generator, duration_s: float) -> None:
    back_to = b.value("flexion_deg")
    b.move(_u(rng, 2.0, 4.0), "sitting", flexion_deg=_u(rng, -20.0, -8.0))
    b.hold(duration_s)
    b.move(_u(rng, 2.0, 4.0), flexion_deg=back_to)


def _stand_up(b: ScriptBuilder, rng: np.random.Generator) -> None:
    """Sit-to-stand: lean forward, then rise while the trunk straightens."""
    heading = math.radians(b.value("heading_deg"))
    b.move(_u(rng, 0.8, 1.0), "transition", flexion_deg=_u(rng, 30.0, 40.0), lateral_deg=0.0)
    b.move(
        _u(rng, 1.2, 1.6),
        flexion_deg=_u(rng, 0.0, 3.0),
        pivot_z_m=STANDING_Z_M,
        pivot_x_m=b.value("pivot_x_m") + _RISE_FORWARD_M * math.cos(heading),
        pivot_y_m=b.value("pivot_y_m") + _RISE_FORWARD_M * math.sin(heading),
        sway=1.5,
    )
    b.label("standing")


def _sit_down(b: ScriptBuilder, rng: np.random.Generator) -> None:
    """Stand-to-sit: lower with the trunk leaning forward, then sit back upright."""
    heading = math.radians(b.value("heading_deg"))
    b.move(
        _u(rng, 1.2, 1.6),
        "transition",
        flexion_deg=_u(rng, 30.0, 38.0),
        pivot_z_m=SITTING_Z_M,
        pivot_x_m=b.value("pivot_x_m") - _RISE_FORWARD_M * math.cos(heading),
        pivot_y_m=b.value("pivot_y_m") - _RISE_FORWARD_M * math.sin(heading),
    )
    b.move(_u(rng, 0.8, 1.0), flexion_deg=_u(rng, 0.0, 4.0), sway=1.0)
    b.label("sitting")


def _walk(b: ScriptBuilder, rng: np.random.Generator, duration_s: float) -> None:
    """Walk (in place: constant forward speed adds no specific force) with turns."""
    b.move(1.0, "walking", walk=1.0, flexion_deg=_u(rng, 3.0, 6.0), lateral_deg=0.0)
    end = b.t_s + duration_s
    while b.t_s < end - 1.0:
        b.hold(min(_u(rng, 8.0, 30.0), max(0.0, end - b.t_s)))
        if b.t_s < end - 3.0:
            turn = _u(rng, 30.0, 180.0) * (1 if rng.random() < 0.5 else -1)
            b.move(_u(rng, 1.0, 3.0), heading_deg=b.value("heading_deg") + turn)
    b.move(1.0, "standing", walk=0.0, flexion_deg=_u(rng, 0.0, 3.0))


def _pick_up(b: ScriptBuilder, rng: np.random.Generator) -> None:
    """Bend down from standing to pick something up (60–90°, knees a little bent)."""
    # 1.2–2 s each way keeps the peak trunk velocity ≲ 140°/s (1.875 × 90° / 1.2 s)
    b.move(
        _u(rng, 1.2, 2.0),
        "bending",
        flexion_deg=_u(rng, 60.0, 90.0),
        pivot_z_m=STANDING_Z_M - _u(rng, 0.0, 0.12),
        lateral_deg=_u(rng, -5.0, 5.0),
        axial_deg=_u(rng, -8.0, 8.0),
    )
    b.hold(_u(rng, 1.0, 3.0))
    b.move(
        _u(rng, 1.2, 2.0),
        flexion_deg=_u(rng, 0.0, 3.0),
        pivot_z_m=STANDING_Z_M,
        lateral_deg=0.0,
        axial_deg=0.0,
    )
    b.label("standing")


def _ensure_standing(b: ScriptBuilder, rng: np.random.Generator) -> None:
    if b.value("pivot_z_m") < STANDING_Z_M - 0.2:
        b.hold(_u(rng, 3.0, 6.0), "sitting")
        _stand_up(b, rng)


# ----------------------------------------------------------------------------- scenario cycles


def _calibration(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    if state.get("done"):
        b.hold(30.0, "sitting")
        return
    state["done"] = 1.0
    b.hold(10.0, "sitting")
    for _ in range(3):  # three slow bends: a robust sagittal axis for mounting calibration
        b.move(3.0, "bending", flexion_deg=40.0)
        b.hold(1.0)
        b.move(3.0, flexion_deg=0.0)
        b.hold(2.0, "sitting")


def _upright_sitting(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    b.hold(_u(rng, 20.0, 90.0), "sitting")
    _shift(b, rng, -2.0, 5.0)


def _slouching(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    b.hold(_u(rng, 15.0, 60.0), "sitting")
    _shift(b, rng, -1.0, 5.0)
    b.hold(_u(rng, 5.0, 20.0))
    _slouch(b, rng, _slouch_duration(rng, rng.random() < 0.4, 240.0))


def _leaning_back(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    b.hold(_u(rng, 20.0, 60.0), "sitting")
    _lean_back(b, rng, _u(rng, 30.0, 120.0))


def _standing(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    _ensure_standing(b, rng)
    b.hold(_u(rng, 20.0, 60.0), "standing")
    b.move(_u(rng, 2.0, 4.0), flexion_deg=_u(rng, -2.0, 4.0), lateral_deg=_u(rng, -3.0, 3.0))


def _walking(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    _ensure_standing(b, rng)
    b.hold(_u(rng, 3.0, 10.0), "standing")
    _walk(b, rng, _u(rng, 20.0, 120.0))


def _pick_up_cycle(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    _ensure_standing(b, rng)
    b.hold(_u(rng, 10.0, 30.0), "standing")
    _pick_up(b, rng)


def _sit_to_stand(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    b.hold(_u(rng, 8.0, 20.0), "sitting")
    _stand_up(b, rng)
    b.hold(_u(rng, 5.0, 15.0), "standing")
    _sit_down(b, rng)


def _guided(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    b.hold(60.0)  # keep whatever pose was last requested


def _desk_day(b: ScriptBuilder, rng: np.random.Generator, state: State) -> None:
    """One work block (25–55 min at the desk) followed by a break away from it."""
    block_end = b.t_s + _u(rng, 25.0, 55.0) * 60.0
    while b.t_s < block_end:
        b.hold(_u(rng, 30.0, 240.0), "sitting")
        _shift(b, rng, -2.0, 7.0)
        event = rng.choice(6, p=[0.15, 0.25, 0.27, 0.12, 0.17, 0.04])
        if event == 0:
            _slouch(b, rng, _slouch_duration(rng, False, 480.0))
        elif event == 1:
            _slouch(b, rng, _slouch_duration(rng, True, 0.0))
        elif event == 2:
            _reach(b, rng)
        elif event == 3:
            _lean_back(b, rng, _u(rng, 20.0, 180.0))
        elif event == 4:
            _shift(b, rng, -2.0, 7.0)
        else:  # stand up briefly (phone, colleague) and sit down again
            _stand_up(b, rng)
            b.hold(_u(rng, 10.0, 60.0), "standing")
            _sit_down(b, rng)
    _stand_up(b, rng)
    b.hold(_u(rng, 5.0, 60.0), "standing")
    lunch = not state.get("lunch") and b.t_s > 3.5 * 3600.0
    _walk(b, rng, _u(rng, 120.0, 300.0) if lunch else _u(rng, 30.0, 240.0))
    if lunch:
        state["lunch"] = 1.0
        b.hold(_u(rng, 60.0, 300.0), "standing")
        _sit_down(b, rng)
        end = b.t_s + _u(rng, 15.0, 25.0) * 60.0
        while b.t_s < end:  # eating: sitting, mildly flexed, many small shifts
            b.hold(_u(rng, 20.0, 90.0), "sitting")
            _shift(b, rng, 0.0, 12.0)
        _stand_up(b, rng)
        _walk(b, rng, _u(rng, 120.0, 300.0))
    if rng.random() < 0.3:
        b.hold(_u(rng, 3.0, 20.0), "standing")
        _pick_up(b, rng)
    b.hold(_u(rng, 5.0, 30.0), "standing")
    _sit_down(b, rng)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "calibration",
            "preamble, still upright, three slow forward bends to 40°, then still",
            1.0,
            _calibration,
            sway_after_preamble=0.0,
        ),
        Scenario(
            "upright_sitting", "sitting upright with small shifts and sway", 10.0, _upright_sitting
        ),
        Scenario(
            "slouching",
            "sitting with repeated 22–35° slouches, brief (≤ 22 s) and prolonged (≥ 45 s)",
            20.0,
            _slouching,
        ),
        Scenario(
            "leaning_back",
            "sitting, reclining to −8…−20° for 30–120 s at a time",
            10.0,
            _leaning_back,
        ),
        Scenario("standing", "standing with weight shifts and sway", 5.0, _standing),
        Scenario(
            "walking", "walking bouts at ≈1.8 steps/s with turns, short stops", 10.0, _walking
        ),
        Scenario(
            "pick_up",
            "standing, bending 60–90° to pick things up every 10–30 s",
            5.0,
            _pick_up_cycle,
        ),
        Scenario(
            "sit_to_stand", "repeated sit-to-stand and stand-to-sit transitions", 5.0, _sit_to_stand
        ),
        Scenario(
            "desk_day",
            "an office day: desk work with slouches, reaches and reclines; breaks, lunch walk",
            480.0,
            _desk_day,
        ),
        Scenario(
            "guided",
            "holds still upright until told otherwise (request_pose: calibration wizard)",
            10.0,
            _guided,
            sway_after_preamble=0.0,
        ),
    )
}

# Home-exercise and range-of-motion scenarios (issue 8) live in their own module; it imports
# Scenario and the preamble from here, so it is merged in after they exist.
from device_sim.exercise_scenarios import EXERCISE_SCENARIOS  # noqa: E402

SCENARIOS.update(EXERCISE_SCENARIOS)
