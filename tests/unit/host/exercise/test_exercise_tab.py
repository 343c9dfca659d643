"""The dashboard's Exercise tab shows the program, what is due, adherence and ROM trends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from host.exercise.coach import CoachResult, ScoredRep, SetResult
from host.exercise.counting import Rep
from host.exercise.library import get_exercise
from host.exercise.program import save_program
from host.exercise.records import record_exercise, record_rom
from host.exercise.rom import RomResult
from host.exercise.scoring import score_rep
from host.gui.exercise_tab import ExerciseTab
from host.recording.store import SessionStore

pytestmark = pytest.mark.gui

PROGRAM = """\
[program]
title = "Back plan"
days_per_week = 5
[[exercise]]
name = "bridge"
sets = 1
reps = 2
[[exercise]]
name = "cat_camel"
"""


def _bridge_set() -> CoachResult:
    import numpy as np

    spec = get_exercise("bridge")
    reps = []
    for i in range(2):
        t = np.linspace(10.0 * i, 10.0 * i + 6.0, 601)
        s = 25.0 * np.sin(np.pi * (t - t[0]) / 6.0) ** 2
        rep = Rep(t[0], t[-1], 25.0, 25.0, 3.0, False, t, s, np.zeros_like(t))
        reps.append(ScoredRep(rep, score_rep(rep, spec), i + 1))
    return CoachResult(
        "bridge", "reps", None, (SetResult(0, 0.0, 20.0, 2, tuple(reps)),), 1, 2, 3.0
    )


def test_exercise_tab(qtbot: QtBot, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    program = tmp_path / "program.toml"
    save_program(PROGRAM, program)
    with SessionStore.open(db) as store:
        record_exercise(store, _bridge_set(), device="sim")
        record_rom(store, [(3.0, RomResult("flexion", 62.0, "deg", (62.0,), 58.0))], device="sim")
    tab = ExerciseTab(db, program)
    qtbot.addWidget(tab)
    tab.refresh()
    assert "Back plan" in tab.program_label.text()
    assert "Cat–camel" in tab.due_label.text()  # titles for people, not library ids
    assert "Bridge" not in tab.due_label.text()  # done today
    # the guided picker offers what is due first, then the whole library
    assert tab.choice.itemText(0).startswith("Next due: ")
    assert tab.selected().name == "cat_camel"
    assert tab.choice.count() == 1 + len(tab.library)
    assert "quadruped" in tab.instructions_label.text()
    assert "What the sensor sees" in tab.instructions_label.text()
    assert "Pain" not in tab.pain_label.text()  # no ratings stored
    assert not tab.start_exercise()  # no live session behind this tab
    assert "Connect a sensor first" in tab.message_label.text()
    cells = [tab.table.item(0, c).text() for c in range(tab.table.columnCount())]  # type: ignore[union-attr]
    assert cells[:5] == ["Bridge", "1 x 2, hold 3 s, 5 d/wk", "1/20", "1", "2"]
    assert tab.rom_table.rowCount() == 1
    assert tab.rom_table.item(0, 0).text() == "trunk flexion"  # type: ignore[union-attr]
    assert "62.0°" in tab.rom_table.item(0, 1).text()  # type: ignore[union-attr]
    assert tab.rom_table.item(0, 2).text() == "58°"  # type: ignore[union-attr]


def test_exercise_tab_without_program_or_database(qtbot: QtBot, tmp_path: Path) -> None:
    tab = ExerciseTab(tmp_path / "none.sqlite3", tmp_path / "none.toml")
    qtbot.addWidget(tab)
    tab.refresh(dt.date(2026, 11, 30))
    assert "No program" in tab.program_label.text()
    assert tab.table.rowCount() == 0
    assert not (tmp_path / "none.sqlite3").exists()  # viewing never creates the database
