"""Guided exercise session: start posture, sets, reps or holds, rests, live feedback (pure).

:class:`Coach` is fed body-frame up vectors block by block (live from the engine's posture
output, or a whole recording at once: the result is the same) and answers with
:class:`Feedback` lines for the wearer. It never looks at a clock; all times are sample times.

Phases: ``waiting`` (for 2 s of stillness in the expected start posture, which becomes the
reference of every signal), ``active`` (counting), ``rest`` (between sets; a rep started early
simply begins the next set) and ``done``. A set ends when its target number of attempts is
reached, or when the wearer has stopped for ``set_gap_s`` after at least one rep or hold (an
incomplete set). A pause during the prescribed rest never ends a set: the gap is counted from
the end of the rest, so a rep made while resting is the first of the next set, not a set of one.

The prescription decides what counts: a full-range rep (or a hold) shorter than 80 % of the
prescribed hold less 0.5 s (:func:`~host.exercise.scoring.held_enough`) is an attempt, shown
and stored, but not a counted rep or hold, and a set is complete only when its counted reps or
holds reach the prescribed number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from calibration.model import Calibration
from host.exercise.counting import Hold, HoldConfig, HoldDetector, Rep, RepConfig, RepCounter
from host.exercise.library import ExerciseSpec
from host.exercise.scoring import RepScore, held_enough, score_rep
from host.exercise.signals import StartPosture, StartWatch, relative_signals
from host.samples import SampleBlock

__all__ = [
    "Coach",
    "CoachResult",
    "Feedback",
    "ScoredRep",
    "SetResult",
    "coach_block",
    "coach_recording",
]

FloatArray = npt.NDArray[np.float64]

_HOLD_TICK_S = 5.0


@dataclass(frozen=True, slots=True)
class Feedback:
    """One line for the wearer: ``kind`` is count, hint, hold, rest, set, posture or done."""

    t_s: float
    text: str
    kind: str


@dataclass(frozen=True, slots=True)
class ScoredRep:
    """A repetition with its score; ``number`` is its attempt number in the set (0 for a
    partial). It counts when it is full-range and held as prescribed."""

    rep: Rep
    score: RepScore
    number: int

    @property
    def counted(self) -> bool:
        return not self.rep.partial and self.score.held


@dataclass(frozen=True, slots=True)
class SetResult:
    """One set: its repetitions (full and partial) or holds, and whether it reached its target.

    ``hold_target_s`` is the prescribed hold (of each hold, or at the top of each rep); reps and
    holds shorter than it (see :func:`~host.exercise.scoring.held_enough`) do not count.
    """

    index: int
    start_s: float
    end_s: float
    target: int
    reps: tuple[ScoredRep, ...] = ()
    holds: tuple[Hold, ...] = ()
    hold_target_s: float = 0.0

    @property
    def full_reps(self) -> int:
        """Full-range reps (held as prescribed or not)."""
        return sum(1 for r in self.reps if not r.rep.partial)

    @property
    def counted_reps(self) -> int:
        """Reps that count: full range and held at the top as prescribed."""
        return sum(1 for r in self.reps if r.counted)

    @property
    def short_reps(self) -> int:
        """Full-range reps not held at the top as long as prescribed (not counted)."""
        return self.full_reps - self.counted_reps

    @property
    def partial_reps(self) -> int:
        return sum(1 for r in self.reps if r.rep.partial)

    @property
    def full_holds(self) -> int:
        """Holds that lasted as long as prescribed (counted)."""
        return sum(1 for h in self.holds if held_enough(h.hold_s, self.hold_target_s))

    @property
    def done(self) -> int:
        """Counted reps, or holds, in this set."""
        return self.full_holds if self.holds else self.counted_reps

    @property
    def complete(self) -> bool:
        return self.done >= self.target

    @property
    def mean_quality(self) -> float:
        full = [r.score.quality for r in self.reps if not r.rep.partial]
        return float(np.mean(full)) if full else math.nan


@dataclass(frozen=True, slots=True)
class CoachResult:
    """A whole guided session."""

    exercise: str
    kind: str
    start: StartPosture | None
    sets: tuple[SetResult, ...]
    prescribed_sets: int
    prescribed_reps: int
    hold_s: float

    @property
    def total_reps(self) -> int:
        return sum(s.full_reps for s in self.sets)

    @property
    def total_partials(self) -> int:
        return sum(s.partial_reps for s in self.sets)

    @property
    def holds(self) -> list[Hold]:
        return [h for s in self.sets for h in s.holds]

    @property
    def counted(self) -> int:
        """Counted reps or holds over the session (as prescribed)."""
        return sum(s.done for s in self.sets)

    @property
    def prescribed_total(self) -> int:
        """Reps or holds prescribed over the session (sets × reps)."""
        return self.prescribed_sets * self.prescribed_reps

    @property
    def complete(self) -> bool:
        """Every prescribed set was done and complete."""
        return len(self.sets) >= self.prescribed_sets and all(s.complete for s in self.sets)


@dataclass(slots=True)
class _SetState:
    index: int
    start_s: float
    reps: list[ScoredRep] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    last_activity_s: float = math.nan
    rest_until_s: float = -math.inf  # opened during the rest: no gap ends it before this

    @property
    def idle_from_s(self) -> float:
        return max(self.last_activity_s, self.rest_until_s)


class Coach:
    """Guides one exercise.

    Args:
        spec: the exercise.
        sets, reps, hold_s: the prescription (default: the library's).
        set_gap_s: a pause this long after some activity ends an incomplete set, s.
    """

    def __init__(
        self,
        spec: ExerciseSpec,
        *,
        sets: int | None = None,
        reps: int | None = None,
        hold_s: float | None = None,
        set_gap_s: float = 15.0,
    ) -> None:
        self.spec = spec
        self.sets_target = sets or spec.sets
        self.reps_target = reps or spec.reps
        self.hold_target_s = spec.hold_s if hold_s is None else hold_s
        self.set_gap_s = set_gap_s
        self.phase = "waiting"
        self.start: StartPosture | None = None
        self.sets: list[SetResult] = []
        self._watch = StartWatch(spec.start_posture)
        self._last_prompt_s = -math.inf
        self._current: _SetState | None = None
        self._rest_since_s = math.nan
        self._next_tick_s = math.inf
        self._counter = RepCounter(
            RepConfig(spec.target_deg, partial_fraction=spec.partial_fraction), spec.direction
        )
        self._holds = HoldDetector(
            HoldConfig(spec.target_deg, min_hold_s=min(3.0, 0.3 * max(self.hold_target_s, 1.0)))
        )

    # ------------------------------------------------------------------ reading

    def latest(self) -> tuple[ScoredRep | None, Hold | None]:
        """The newest scored rep and the newest hold, of the open set or else the last closed one.

        For live displays; like every other method, call it on the thread that feeds the coach.
        """
        cur = self._current
        reps: Sequence[ScoredRep] = cur.reps if cur is not None else ()
        holds: Sequence[Hold] = cur.holds if cur is not None else ()
        if not reps and not holds and self.sets:
            reps, holds = self.sets[-1].reps, self.sets[-1].holds
        return (reps[-1] if reps else None), (holds[-1] if holds else None)

    @property
    def set_done(self) -> int:
        """Counted reps or holds (as prescribed, like :attr:`SetResult.done`) of the open set,
        or else of the last closed one (0 before the first). For live displays."""
        cur = self._current
        if cur is None:
            return self.sets[-1].done if self.sets else 0
        if cur.holds:
            return sum(1 for h in cur.holds if held_enough(h.hold_s, self.hold_target_s))
        return sum(1 for r in cur.reps if r.counted)

    # ------------------------------------------------------------------ feeding

    def update(self, t_s: FloatArray, up_body: FloatArray) -> list[Feedback]:
        """Feed (N,) times (s) and (N, 3) body-frame up vectors; returns feedback lines."""
        out: list[Feedback] = []
        if self.phase == "done" or len(t_s) == 0:
            return out
        first = 0
        if self.phase == "waiting":
            first = self._wait(t_s, up_body, out)
            if self.start is None:
                return out
        if first < len(t_s):
            self._count(t_s[first:], up_body[first:], out)
        return out

    def _wait(self, t_s: FloatArray, up: FloatArray, out: list[Feedback]) -> int:
        """Look for a still window in the start posture; returns the first unused index."""
        start, used = self._watch.update(t_s, up)
        wrong = self._watch.wrong_posture_s
        if start is None and wrong - self._last_prompt_s > 10.0:
            self._last_prompt_s = wrong
            where = self.spec.start_posture.replace("_", " ")
            out.append(Feedback(wrong, f"get into the start position: {where}", "posture"))
        if start is None:
            return used
        self.start = start
        self.phase = "active"
        self._open_set(start.t_s, out)
        return used

    def _open_set(self, t: float, out: list[Feedback]) -> _SetState:
        index = len(self.sets)
        self._current = _SetState(index, t)
        if self.phase == "rest":  # started early: the rest still protects it from the gap
            self._current.rest_until_s = self._rest_since_s + self.spec.rest_s
        what = "holds" if self.spec.kind == "hold" else "reps"
        out.append(
            Feedback(t, f"set {index + 1}/{self.sets_target}: {self.reps_target} {what}", "set")
        )
        return self._current

    def _count(self, t_s: FloatArray, up: FloatArray, out: list[Feedback]) -> None:
        if self.start is None:
            return
        sig = relative_signals(up, self.start)
        main = sig[self.spec.signal]
        off = sig["lateral" if self.spec.signal == "pitch" else "pitch"]
        if self.spec.kind == "reps":
            for rep in self._counter.update(t_s, main, off):
                self._on_rep(rep, out)
            active = self._counter.in_rep
        else:
            if self.spec.signal == "tilt" or self.spec.direction == 0:
                magnitude = np.abs(main)  # either side: one sensor cannot tell which limb
            else:
                magnitude = np.maximum(self.spec.direction * main, 0.0)
            was = self._holds.holding
            for hold in self._holds.update(t_s, magnitude, sig["pitch"], sig["lateral"]):
                self._on_hold(hold, out)
            active = self._holds.holding
            if active and not was:
                self._ensure_set(float(t_s[-1]), out)
                out.append(Feedback(float(t_s[-1]), "hold", "hold"))
                self._next_tick_s = float(t_s[-1]) + _HOLD_TICK_S
            if active and float(t_s[-1]) >= self._next_tick_s:
                held = self._holds.held_so_far_s(float(t_s[-1]))
                out.append(Feedback(float(t_s[-1]), f"hold {held:.0f} s", "hold"))
                self._next_tick_s += _HOLD_TICK_S
        self._check_gap(float(t_s[-1]), active, out)

    def _ensure_set(self, t: float, out: list[Feedback]) -> _SetState:
        if self._current is not None:
            return self._current
        cur = self._open_set(t, out)
        self.phase = "active"
        return cur

    def _after_gap(self, start_s: float, out: list[Feedback]) -> _SetState:
        """The set a rep or hold starting at ``start_s`` belongs to (a long pause closes one)."""
        cur = self._current
        if cur is not None and start_s - cur.idle_from_s >= self.set_gap_s:
            self._close_set(cur.idle_from_s + self.set_gap_s, out)
        return self._ensure_set(start_s, out)

    def _on_rep(self, rep: Rep, out: list[Feedback]) -> None:
        cur = self._after_gap(rep.start_s, out)
        score = score_rep(rep, self.spec, hold_target_s=self.hold_target_s)
        number = 0 if rep.partial else sum(1 for r in cur.reps if not r.rep.partial) + 1
        scored = ScoredRep(rep, score, number)
        cur.reps.append(scored)
        cur.last_activity_s = rep.end_s
        if rep.partial:
            pct = 100.0 * score.range_ratio
            out.append(
                Feedback(rep.end_s, f"partial rep ({pct:.0f} % of range): go further", "hint")
            )
            return
        if scored.counted:
            out.append(Feedback(rep.end_s, f"rep {number}/{self.reps_target}", "count"))
        else:
            out.append(
                Feedback(
                    rep.end_s,
                    f"rep {number}/{self.reps_target} held {rep.hold_s:.0f} s: not counted, "
                    f"hold {self.hold_target_s:.0f} s at the top",
                    "count",
                )
            )
        if score.hint and not score.hint.startswith("hold "):  # that one is said above
            out.append(Feedback(rep.end_s, score.hint, "hint"))
        if number >= self.reps_target:
            self._close_set(rep.end_s, out)

    def _on_hold(self, hold: Hold, out: list[Feedback]) -> None:
        cur = self._after_gap(hold.start_s, out)
        cur.holds.append(hold)
        cur.last_activity_s = hold.end_s
        n = len(cur.holds)
        full = held_enough(hold.hold_s, self.hold_target_s)
        note = "" if full else f" (short of {self.hold_target_s:.0f} s: not counted)"
        out.append(
            Feedback(hold.end_s, f"hold {n}/{self.reps_target}: {hold.hold_s:.0f} s{note}", "count")
        )
        if hold.sway_rms_deg > self.spec.stillness_max_deg:
            out.append(Feedback(hold.end_s, "try to keep your trunk still", "hint"))
        elif not full:
            out.append(Feedback(hold.end_s, f"hold longer: {self.hold_target_s:.0f} s", "hint"))
        if n >= self.reps_target:
            self._close_set(hold.end_s, out)

    def _check_gap(self, t: float, active: bool, out: list[Feedback]) -> None:
        cur = self._current
        idle_s = math.nan if cur is None else t - cur.idle_from_s
        if not active and idle_s >= self.set_gap_s:
            self._close_set(t, out)
        if self.phase == "rest" and t - self._rest_since_s >= self.spec.rest_s:
            self.phase = "active"
            self._rest_since_s = math.inf
            out.append(Feedback(t, f"start set {len(self.sets) + 1}", "set"))

    def _close_set(self, t: float, out: list[Feedback]) -> None:
        cur = self._current
        if cur is None:
            return
        if self.spec.kind == "reps":
            self._counter.finish()
        self.sets.append(
            SetResult(
                cur.index,
                cur.start_s,
                t,
                self.reps_target,
                tuple(cur.reps),
                tuple(cur.holds),
                self.hold_target_s,
            )
        )
        self._current = None
        if len(self.sets) >= self.sets_target:
            self.phase = "done"
            out.append(Feedback(t, "done: " + self.verdict(), "done"))
            return
        self.phase = "rest"
        self._rest_since_s = t
        out.append(Feedback(t, f"rest {self.spec.rest_s:.0f} s", "rest"))

    # ------------------------------------------------------------------ result

    def verdict(self) -> str:
        """ "well done!" when every prescribed set is complete, else what was counted of the
        prescription: "7/10 reps — next time aim for 10"."""
        done = sum(s.done for s in self.sets)
        total = self.sets_target * self.reps_target
        if len(self.sets) >= self.sets_target and all(s.complete for s in self.sets):
            return "well done!"
        what = "holds" if self.spec.kind == "hold" else "reps"
        held = f" of {self.hold_target_s:.0f} s" if self.hold_target_s >= 1.0 else ""
        return f"{done}/{total} {what}{held} — next time aim for {total}"

    def finish(self) -> CoachResult:
        """Close an open set and return the session (call once, at the end)."""
        cur = self._current
        if cur is not None and (cur.reps or cur.holds):
            self._close_set(cur.last_activity_s, [])
        return CoachResult(
            self.spec.name,
            self.spec.kind,
            self.start,
            tuple(self.sets),
            self.sets_target,
            self.reps_target,
            self.hold_target_s,
        )


def coach_recording(
    spec: ExerciseSpec,
    t_s: FloatArray,
    up_body: FloatArray,
    *,
    start_s: float = 0.0,
    block: int = 0,
    sets: int | None = None,
    reps: int | None = None,
    hold_s: float | None = None,
) -> tuple[CoachResult, list[Feedback]]:
    """Run a :class:`Coach` over a recording (from ``start_s``), in blocks of ``block`` samples
    (0: all at once). Returns the result and every feedback line."""
    coach = Coach(spec, sets=sets, reps=reps, hold_s=hold_s)
    first = int(np.searchsorted(t_s, start_s))
    t, u = t_s[first:], up_body[first:]
    step = block or len(t) or 1
    lines: list[Feedback] = []
    for i in range(0, len(t), step):
        lines += coach.update(t[i : i + step], u[i : i + step])
    return coach.finish(), lines


def coach_block(
    spec: ExerciseSpec,
    samples: SampleBlock,
    calibration: Calibration,
    *,
    start_s: float = 0.0,
    sets: int | None = None,
    reps: int | None = None,
    hold_s: float | None = None,
) -> tuple[CoachResult, list[Feedback]]:
    """Coach a recorded :class:`~host.samples.SampleBlock` offline, through the same causal
    analysis the live engine runs (so the counts equal what the live coach would have said)."""
    from host.analysis import analyze
    from host.exercise.signals import up_from_angles

    analysis = analyze(samples, calibration)
    up = up_from_angles(analysis.flexion_deg, analysis.lateral_deg)
    return coach_recording(
        spec, analysis.t_s, up, start_s=start_s, sets=sets, reps=reps, hold_s=hold_s
    )
