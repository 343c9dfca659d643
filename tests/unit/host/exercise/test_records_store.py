"""Storing exercise sessions and ROM checks is all or nothing (real SQLite failures)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from host.errors import StoreError
from host.exercise.coach import CoachResult, SetResult
from host.exercise.counting import Hold
from host.exercise.records import load_sessions, record_exercise, record_rom
from host.exercise.rom import RomResult
from host.exercise.summary import SessionEvents, exercise_days
from host.recording.store import SessionStore

WHEN = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def _holds() -> CoachResult:
    sets = tuple(
        SetResult(i, 60.0 * i, 60.0 * i + 50.0, 2,
                  holds=(Hold(60.0 * i + 5, 60.0 * i + 25, 30.0, 0.5, 0.4, 0.2),
                         Hold(60.0 * i + 30, 60.0 * i + 50, 30.0, 0.5, 0.4, 0.2)),
                  hold_target_s=20.0)
        for i in range(2)
    )  # fmt: skip
    return CoachResult("hamstring_stretch", "hold", None, sets, 2, 2, 20.0)


@contextlib.contextmanager
def _failing(db: Path, kind: str) -> Iterator[None]:
    """Another program's trigger makes the insert of a ``kind`` event fail (after the
    session row and the earlier events were written), until the block ends."""
    with contextlib.closing(sqlite3.connect(db)) as other:
        other.execute(
            f"CREATE TRIGGER fail BEFORE INSERT ON events WHEN NEW.kind = '{kind}' "
            "BEGIN SELECT RAISE(ABORT, 'no room'); END"
        )
        other.commit()
        try:
            yield
        finally:
            other.execute("DROP TRIGGER fail")
            other.commit()


def test_a_failed_exercise_store_leaves_nothing_and_storing_again_counts_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.sqlite3"
    result = _holds()
    with SessionStore.open(db) as store:
        with _failing(db, "exercise_set"), pytest.raises(StoreError):
            record_exercise(store, result, device="sim", started_at=WHEN, pain_before=3,
                            pain_after=2)  # fmt: skip
        assert store.sessions() == []
        sid = record_exercise(store, result, device="sim", started_at=WHEN, pain_before=3,
                              pain_after=2)  # fmt: skip
        (info,) = store.sessions()
        assert info.id == sid
        assert info.ended_at is not None
        kinds = [e.kind for e in store.events(sid)]
        assert kinds.count("exercise_set") == 2
        assert kinds.count("pain") == 2
        (day,) = exercise_days(load_sessions(store))
    assert (day.sets, day.holds) == (2, 4)


def test_a_failed_rom_store_leaves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    results = [(5.0, RomResult("flexion", 61.0, "deg")), (9.0, RomResult("sts", 11.0, "s"))]
    with SessionStore.open(db) as store:
        with _failing(db, "rom"), pytest.raises(StoreError):
            record_rom(store, results, device="sim")
        assert store.sessions() == []
        sid = record_rom(store, results, device="sim")
        assert len(store.events(sid)) == 2


def test_an_exercise_session_without_sets_is_no_exercise_day() -> None:
    assert exercise_days([SessionEvents(WHEN, "exercise:bridge", [])]) == []
