"""stats, export and sessions on exercise and ROM sessions (events, no posture samples)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from host.cli import main
from host.exercise.coach import CoachResult, SetResult
from host.exercise.counting import Hold
from host.exercise.records import record_exercise, record_rom
from host.exercise.rom import RomResult
from host.recording.store import SessionStore

DAY = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite3"
    holds = tuple(Hold(10.0 + 40.0 * i, 41.0 + 40.0 * i, 20.0, 0.5, 0.5, 0.2) for i in range(3))
    result = CoachResult("hamstring_stretch", "hold", None,
                         (SetResult(0, 5.0, 120.0, 3, (), holds, 30.0),), 1, 3, 30.0)  # fmt: skip
    with SessionStore.open(path) as store:
        record_exercise(store, result, device="sim", started_at=DAY)
        record_rom(store, [(5.0, RomResult("flexion", 61.0, "deg"))], device="sim",
                   started_at=DAY)  # fmt: skip
    return path


def test_stats_of_an_exercise_session_shows_its_exercise(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "1", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "session 1 is an exercise session (no posture data)" in out
    assert "Hamstring stretch" in out
    assert "3 holds, 93 s" in out
    assert "wear time" not in out  # no all-zero posture block
    assert main(["stats", "2", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "session 2 is a ROM session" in out
    assert "trunk flexion" in out
    assert main(["stats", "1", "--json", "--db", str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["posture"] is None
    assert data["exercise"]["rows"][0]["holds"] == 3


def test_export_csv_of_a_session_without_samples_is_refused(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    assert main(["export", "1", "--format", "csv", "-o", str(out), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "session 1 is an exercise session (hamstring_stretch) without samples" in err
    assert "--format jsonl" in err
    assert not out.exists()


def test_jsonl_duration_agrees_with_sessions(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "1", "--format", "jsonl", "--db", str(db)]) == 0
    header = json.loads(capsys.readouterr().out.splitlines()[0])
    assert header["duration_s"] == pytest.approx(121.0 - 5.0)  # first set start to last hold end
    assert main(["sessions", "--json", "--db", str(db)]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    flat = listed[0] if isinstance(listed[0], list) else listed
    mine = next(s for s in flat if s.get("id", s.get("session")) == 1)
    assert mine["duration_s"] == pytest.approx(header["duration_s"])
