"""SessionStore: round trips, privacy, versioning, damage."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from host.errors import StoreError
from host.recording.recorder import Recorder
from host.recording.schema import MIGRATIONS, SCHEMA_VERSION
from host.recording.store import SessionStore, UnknownSessionError
from host.recording.synthetic import SITTING, STANDING, Segment, slice_posture, synthesize
from host.transports.base import LinkEvent, LinkState


def _fill(store: SessionStore, minutes: float = 2.0) -> int:
    samples, posture = synthesize(
        [Segment(minutes * 30, SITTING, 25.0), Segment(minutes * 30, STANDING, 2.0)]
    )
    sid = store.create_session(device="sim:desk_day", source="test", device_info={"name": "x"})
    store.append_samples(sid, samples)
    store.append_posture(sid, posture)
    store.add_event(sid, 10.0, "alert", {"kind": "slouch", "peak_deg": 25.0})
    store.end_session(sid)
    return sid


def test_round_trip_and_listing(tmp_path: Path) -> None:
    db = tmp_path / "private" / "s.sqlite3"
    with SessionStore.open(db) as store:
        sid = _fill(store)
        info = store.session(sid)
        assert info.n_samples == 12000
        assert info.duration_s == pytest.approx(119.99)
        assert info.ended_at is not None
        assert info.pseudonym == store.study_id
        assert store.study_id.startswith("PC-")
        samples = store.samples(sid)
        assert len(samples) == 12000
        s = store.summaries(sid)
        assert len(s) == 120
        assert np.allclose(s.flexion_deg[:60], 25.0)
        (event,) = store.events(sid)
        assert (event.t_s, event.kind, event.data["peak_deg"]) == (10.0, "alert", 25.0)
        assert [i.id for i in store.sessions()] == [sid]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for side in db.parent.iterdir():
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, side


def test_reopen_keeps_study_id_and_data(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    with SessionStore.open(db) as store:
        sid = _fill(store)
        study = store.study_id
    with SessionStore.open(db) as store:
        assert store.study_id == study
        assert store.session(sid).n_samples == 12000


def test_delete_removes_everything(tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        a = _fill(store)
        b = _fill(store)
        store.delete_session(a)
        assert [i.id for i in store.sessions()] == [b]
        with pytest.raises(UnknownSessionError, match="posture sessions"):
            store.samples(a)
        rows = store._db.execute(
            "SELECT count(*) FROM sample_chunks WHERE session_id = ?", (a,)
        ).fetchone()
        assert rows[0] == 0


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    SessionStore.open(db).close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        SessionStore.open(db)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "notes.sqlite3"
    bad.write_bytes(b"this is my shopping list\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.sqlite3.*not a session database"):
        SessionStore.open(bad)


def test_truncated_database_is_clear_and_others_stay_readable(tmp_path: Path) -> None:
    good, broken = tmp_path / "good.sqlite3", tmp_path / "broken.sqlite3"
    for db in (good, broken):
        with SessionStore.open(db) as store:
            _fill(store, minutes=4)
            store.checkpoint()
    size = broken.stat().st_size
    with open(broken, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(StoreError, match=r"broken\.sqlite3.*truncated"):
        SessionStore.open(broken)
    with SessionStore.open(good) as store:
        assert len(store.samples(store.sessions()[0].id)) == 24000


def test_corrupted_pages_give_store_error(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    with SessionStore.open(db) as store:
        sid = _fill(store, minutes=4)
        store.checkpoint()
    data = bytearray(db.read_bytes())
    rng = np.random.default_rng(3)
    start = 4096 * 2  # keep the header page: damage inside the tables
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    db.write_bytes(bytes(data))
    # either opening or reading must fail, with the file named (PT012 on purpose)
    with pytest.raises(StoreError, match=r"s\.sqlite3"), SessionStore.open(db) as store:  # noqa: PT012
        store.samples(sid)
        store.summaries(sid)


def test_recorder_commits_and_closes(tmp_path: Path) -> None:
    samples, posture = synthesize([Segment(3.0, SITTING, 25.0), Segment(2.5, SITTING, 5.0)])
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        sid = store.create_session(device="sim:x", source="live")
        rec = Recorder(store, sid)
        rec.on_link(LinkEvent(LinkState.CONNECTED, "ok"))
        for i in range(0, len(samples), 7):
            rec.on_block(samples.slice(i, i + 7), slice_posture(posture, i, i + 7))
        rec.on_event(4.0, "gap", {"samples": 3})
        rec.close()
        rec.close()
        store.end_session(sid)
        assert len(store.samples(sid)) == 550
        s = store.summaries(sid)
        assert s.sec.tolist() == list(range(6))
        assert s.n_samples.tolist() == [100] * 5 + [50]
        assert [e.kind for e in store.events(sid)] == ["link", "gap"]
        assert store.session(sid).started_at <= datetime.now(UTC)


def test_migration_to_a_new_version_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import host.recording.store as store_module

    db = tmp_path / "s.sqlite3"
    with SessionStore.open(db) as store:
        sid = _fill(store, minutes=1)
    v2 = (
        "ALTER TABLE sessions ADD COLUMN note TEXT;"
        "CREATE INDEX sessions_by_start ON sessions(started_at)"
    )
    monkeypatch.setattr(store_module, "MIGRATIONS", {**MIGRATIONS, 2: v2})
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    with SessionStore.open(db) as store:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert store.session(sid).n_samples == 6000
        columns = [r[1] for r in store._db.execute("PRAGMA table_info(sessions)")]
        assert "note" in columns
    # a failing migration rolls back and leaves the database at its old version
    monkeypatch.setattr(store_module, "MIGRATIONS", {**MIGRATIONS, 3: "NOT SQL"})
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 3)
    with pytest.raises(StoreError):
        SessionStore.open(db)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    con.close()
