"""The prescription decides what counts: the prescribed hold, the rest between sets, and the
final verdict of the coach (synthetic bridges with min-jerk moves)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from host.exercise.coach import Coach, SetResult
from host.exercise.counting import Hold
from host.exercise.library import get_exercise
from host.exercise.scoring import HOLD_TOLERANCE, held_enough

RATE_HZ = 100.0
Array = npt.NDArray[np.float64]


def _minjerk(x: Array) -> Array:
    x = np.clip(x, 0.0, 1.0)
    return np.asarray(x**3 * (10.0 - 15.0 * x + 6.0 * x**2))


def _bridges(starts_s: list[float], hold_s: float, end_s: float) -> tuple[Array, Array]:
    """Supine, 25° bridges (2 s moves) starting at ``starts_s``, each held ``hold_s`` on top."""
    t = np.arange(0.0, end_s, 1.0 / RATE_HZ)
    theta = np.full_like(t, -90.0)
    for t0 in starts_s:
        theta -= 25.0 * (_minjerk((t - t0) / 2.0) - _minjerk((t - t0 - 2.0 - hold_s) / 2.0))
    up = np.stack([-np.sin(np.radians(theta)), np.zeros_like(t), np.cos(np.radians(theta))], 1)
    return t, up


def test_reps_held_shorter_than_prescribed_are_shown_but_do_not_complete_the_set() -> None:
    t, up = _bridges([5.0, 13.0, 21.0], 3.0, 60.0)
    coach = Coach(get_exercise("bridge"), sets=1, reps=3, hold_s=10.0)
    texts = [f.text for f in coach.update(t, up)]
    result = coach.finish()
    assert result.total_reps == 3  # all three were full-range bridges...
    assert result.sets[0].counted_reps == 0  # ...none held the prescribed 10 s
    assert not result.sets[0].complete
    assert any("hold 10 s at the top" in x for x in texts)
    assert "done: well done!" not in texts
    assert "done: 0/3 reps of 10 s — next time aim for 3" in texts


def test_reps_held_as_prescribed_complete_the_set() -> None:
    t, up = _bridges([5.0, 13.0, 21.0], 3.0, 60.0)
    coach = Coach(get_exercise("bridge"), sets=1, reps=3)  # library: hold 3 s
    texts = [f.text for f in coach.update(t, up)]
    result = coach.finish()
    assert result.sets[0].counted_reps == 3
    assert result.complete
    assert texts[-1] == "done: well done!"


def test_a_rep_during_the_rest_starts_the_next_set_without_ending_the_session() -> None:
    spec = get_exercise("bridge")  # rest 45 s
    # set 1: three reps; one rep 5 s into the rest, then the wearer rests 25 s (longer than
    # the 15 s set gap, within the rest) and does the remaining two
    first = [5.0, 13.0, 21.0]
    rest_from = 21.0 + 7.0
    second = [rest_from + 5.0, rest_from + 37.0, rest_from + 45.0]
    t, up = _bridges(first + second, 3.0, rest_from + 80.0)
    coach = Coach(spec, sets=2, reps=3)
    texts = [f.text for f in coach.update(t, up)]
    result = coach.finish()
    assert [s.full_reps for s in result.sets] == [3, 3], texts
    assert result.complete
    assert texts[-1] == "done: well done!"


def test_holds_shorter_than_prescribed_do_not_count() -> None:
    def hold(start: float, length: float) -> Hold:
        return Hold(start, start + length, 20.0, 0.5, 0.5, 0.2)

    short = SetResult(0, 0.0, 200.0, 3, holds=tuple(hold(60 * i, 31.0) for i in range(3)),
                      hold_target_s=90.0)  # fmt: skip
    assert len(short.holds) == 3
    assert short.done == 0
    assert not short.complete
    ok = SetResult(0, 0.0, 400.0, 3, holds=tuple(hold(100 * i, 71.5) for i in range(3)),
                   hold_target_s=90.0)  # fmt: skip
    assert ok.done == 3  # 71.5 s = 80 % of 90 s less 0.5 s
    assert ok.complete
    assert HOLD_TOLERANCE == 0.8
    assert held_enough(7.5, 10.0)
    assert not held_enough(7.4, 10.0)
    assert held_enough(0.2, 0.0)
