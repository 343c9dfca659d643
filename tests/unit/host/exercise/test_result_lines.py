"""The end-of-exercise summary is worded the same on the command line and the dashboard."""

from __future__ import annotations

import pytest

from host.commands.exercise import _print_result
from host.exercise.coach import CoachResult, SetResult
from host.exercise.counting import Hold
from host.exercise.summary import result_heading, set_lines


def _short_holds() -> CoachResult:
    """Hamstring stretch prescribed 90 s, held 32, 26 and 34 s: nothing counts."""
    holds, t = [], 0.0
    for held in (32.0, 26.0, 34.0):
        holds.append(Hold(t, t + held, 30.0, 0.5, 0.4, 0.2))
        t += held + 10.0
    sets = (SetResult(0, 0.0, t, 3, holds=tuple(holds), hold_target_s=90.0),)
    return CoachResult("hamstring_stretch", "hold", None, sets, 1, 3, 90.0)


def test_cli_and_dashboard_say_what_counts(capsys: pytest.CaptureFixture[str]) -> None:
    result = _short_holds()
    assert set_lines(result) == ["set 1: 0/3 holds of 90 s (held 32, 26, 34 s)"]
    _print_result(result)
    assert capsys.readouterr().out.split("\n")[1:3] == [
        result_heading(result),
        "  set 1: 0/3 holds of 90 s (held 32, 26, 34 s)",
    ]
    pytest.importorskip("PyQt6.QtWidgets")
    from host.gui.exercise_tab import _summary

    assert _summary(result) == (
        "hamstring_stretch: 1 of 1 set(s). set 1: 0/3 holds of 90 s (held 32, 26, 34 s)"
    )
