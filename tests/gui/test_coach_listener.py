"""The coach's engine listener on a recorded hold exercise: state, hold timer and counts."""

from __future__ import annotations

import numpy as np

from calibration.procedures import fit_mounting
from device_sim.exercise_scenarios import exercise_truth
from device_sim.generate import generate
from host.analysis import analyze
from host.exercise.coach import Coach
from host.exercise.library import get_exercise
from host.gui.exercise_live import CoachListener, CoachView
from host.posture import PostureBlock

from .conftest import Update


def _updates(scenario: str, seed: int, block: int = 10) -> list[Update]:
    g = generate(scenario, seed=seed, minutes=4.0)
    s, t = g.samples, g.samples.t_s
    i, j, k, m = (int(x) for x in np.searchsorted(t, [2.0, 8.0, 12.0, 16.0]))
    analysis = analyze(s, fit_mounting(s.slice(i, j), s.slice(k, m)))
    n = len(analysis.t_s)
    out = []
    for a in range(int(np.searchsorted(analysis.t_s, 20.0)), n, block):
        b = min(a + block, n)
        posture = PostureBlock(
            t_s=analysis.t_s[a:b],
            flexion_deg=analysis.flexion_deg[a:b],
            lateral_deg=analysis.lateral_deg[a:b],
            zone=np.zeros(b - a, dtype=np.int8),
            activity=np.zeros(b - a, dtype=np.int8),
            dwell_s=np.zeros(b - a),
            confidence=np.ones(b - a),
        )
        out.append(Update(posture, None))
    return out


def test_hold_exercise_views_follow_the_coach() -> None:
    spec = get_exercise("hamstring_stretch")
    coach = Coach(spec)
    views: list[CoachView] = []
    ticks = iter(range(10**9))
    listener = CoachListener(coach, views.append, clock=lambda: next(ticks) * 0.01)
    for update in _updates("ex_hamstring_stretch", 1):
        listener.on_update(update)  # type: ignore[arg-type]  # LiveUpdate's shape
        if listener.done.is_set():
            break
    truth = exercise_truth("ex_hamstring_stretch", 1)
    assert listener.done.is_set()
    assert coach.phase == "done"
    assert views[-1].phase == "done"
    assert views[-1].state == "done"
    holds = [h for s in coach.sets for h in s.holds]
    assert len(holds) == len(truth.holds) == views[-1].reps_target * views[-1].sets_target
    states = [v.state for v in views]
    assert states[0] == "waiting for the start posture"
    assert "holding" in states
    assert "counting" in states
    # while holding the view carries the hold's start, and the timer grows to the hold's length
    timers = [v.t_s - v.hold_started_s for v in views if v.hold_started_s is not None]
    assert max(timers) >= 0.9 * max(h.hold_s for h in holds)
    # every counted hold is reported with its length, and the count follows the coach's lines
    finals = [v for v in views if any(line.kind == "count" for line in v.lines)]
    assert [round(v.last_hold_s or 0, 3) for v in finals] == [round(h.hold_s, 3) for h in holds]
    assert views[-1].count == coach.sets[-1].done
    # silent views are rate-limited (1/15 s of the injected clock), lines are never dropped
    lines = [line.text for v in views for line in v.lines]
    assert lines.count("hold") == len(holds)
    assert "done: well done!" in lines


def test_finish_from_another_thread_waits_for_the_block_being_fed() -> None:
    """The GUI thread may end the coaching while the engine thread is inside a block (Stop,
    a new device, quitting): finish() waits for that block, and later blocks are ignored, so
    the coach is never used by two threads at once and the result is final."""
    import threading

    updates = _updates("ex_hamstring_stretch", 1)
    inside, release = threading.Event(), threading.Event()
    fed: list[int] = []

    def emit(_view: CoachView) -> None:  # called by on_update, inside the block
        inside.set()
        release.wait(5.0)

    listener = CoachListener(Coach(get_exercise("hamstring_stretch")), emit)
    engine = threading.Thread(target=lambda: (listener.on_update(updates[0]), fed.append(1)))  # type: ignore[arg-type,func-returns-value]
    engine.start()
    assert inside.wait(5.0)
    finishing = threading.Thread(target=listener.finish)
    finishing.start()
    finishing.join(0.2)
    assert finishing.is_alive(), "finish() ran while the engine thread was feeding the coach"
    release.set()
    engine.join(5.0)
    finishing.join(5.0)
    assert fed == [1]
    assert not finishing.is_alive()
    result = listener.finish()
    assert listener.finish() is result  # once, whoever asks
    samples = listener.samples
    listener.on_update(updates[1])  # type: ignore[arg-type]  # a block after the end
    assert listener.samples == samples


def test_holds_too_brief_for_the_prescription_are_not_counted_on_the_dashboard() -> None:
    """A hold shorter than prescribed is said ("not counted") but the big count stays at what
    counts: it never goes up and then falls back at the set's end."""
    coach = Coach(get_exercise("hamstring_stretch"), hold_s=90.0)
    views: list[CoachView] = []
    listener = CoachListener(coach, views.append, clock=lambda: 0.0)
    for update in _updates("ex_hamstring_stretch", 1):
        listener.on_update(update)  # type: ignore[arg-type]  # LiveUpdate's shape
    result = listener.finish()
    lines = [line.text for v in views for line in v.lines if line.kind == "count"]
    assert lines
    assert all("not counted" in text for text in lines)
    assert result.counted == 0
    assert [v.count for v in views if v.count] == []
