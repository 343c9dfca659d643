"""Recorder under real write failures: the store is full (SQLite max_page_count)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from host.recording.recorder import Recorder
from host.recording.store import SessionStore
from host.recording.synthetic import SITTING, Segment, slice_posture, synthesize

BLOCK = 10


def _fill_up(store: SessionStore) -> None:
    """No room for another page: every write now fails with "database or disk is full"."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages}")


def test_a_full_database_is_reported_once_retried_and_loses_nothing(tmp_path: Path) -> None:
    samples, posture = synthesize([Segment(6.0, SITTING, 20.0)])  # 600 samples at 100 Hz
    problems: list[str] = []
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        sid = store.create_session(device="sim:x", source="live")
        rec = Recorder(store, sid, on_problem=problems.append, give_up_s=30.0)
        _fill_up(store)
        written = -1
        for i in range(0, 300, BLOCK):
            rec.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
            rec.flush()  # fails once the free pages are used up, then on every retry
            if rec.failing and written < 0:
                written = rec.samples_written
        assert rec.failing
        assert len(problems) == 1, problems  # said once, not once per failed write
        assert "database or disk is full" in problems[0]
        assert rec.samples_written == written  # nothing more went in while full
        store._db.execute("PRAGMA max_page_count=1073741823")  # room again
        time.sleep(0.6)  # past the first retry delay
        for i in range(300, 600, BLOCK):
            rec.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
        rec.close()
        store.end_session(sid)
        assert not rec.failing
        assert "resumed" in problems[-1]
        assert (rec.samples_written, rec.lost_samples, rec.failed) == (600, 0, False)
        assert len(store.samples(sid)) == 600
        assert store.summaries(sid).n_samples.sum() == 600


def test_writes_failing_for_too_long_give_up_recording_and_count_the_loss(
    tmp_path: Path,
) -> None:
    samples, posture = synthesize([Segment(60.0, SITTING, 20.0)])
    problems: list[str] = []
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        sid = store.create_session(device="sim:x", source="live")
        rec = Recorder(store, sid, on_problem=problems.append, give_up_s=0.4)
        _fill_up(store)
        deadline = time.monotonic() + 10.0
        i = 0
        written = -1
        while not rec.failed and time.monotonic() < deadline:
            rec.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
            rec.flush()
            if rec.failing and written < 0:
                written = rec.samples_written
            i += BLOCK
            time.sleep(0.01)
        assert rec.failed, "gave up within the bound"
        assert len(problems) == 2, problems  # failing, then giving up
        rec.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
        rec.close()
        assert "recording stopped" in problems[-1]
        assert rec.samples_written == written
        # everything handed over after the failure is counted, also after giving up
        assert rec.samples_written + rec.lost_samples == i + BLOCK
        store._db.execute("PRAGMA max_page_count=1073741823")
        store.end_session(sid)
        info = store.session(sid)
        assert info.ended_at is not None
        assert info.n_samples == written  # what was committed before the failure is kept


class _WriteLock:
    """Another program holding the database's write lock (a real SQLite lock)."""

    def __init__(self, db: Path) -> None:
        self._con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self._con.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self._con.execute("ROLLBACK")
        self._con.close()


def _locked_recorder(
    db: Path, problems: list[str], **kwargs: float
) -> tuple[SessionStore, int, Recorder, _WriteLock]:
    """A recorder (with the live store's 0.2 s lock wait) that has 300 samples it could not
    write because another connection holds the write lock."""
    samples, posture = synthesize([Segment(3.0, SITTING, 20.0)])  # 300 samples at 100 Hz
    store = SessionStore.open(db, busy_timeout_s=0.2)
    sid = store.create_session(device="sim:x", source="live")
    rec = Recorder(store, sid, on_problem=problems.append, **kwargs)
    lock = _WriteLock(db)
    for i in range(0, 300, 100):
        rec.on_block(samples.slice(i, i + 100), slice_posture(posture, i, i + 100))
    rec.flush()
    assert rec.failing
    assert rec.samples_written == 0
    return store, sid, rec, lock


def test_close_waits_out_a_short_lock_and_loses_nothing(tmp_path: Path) -> None:
    problems: list[str] = []
    store, sid, rec, lock = _locked_recorder(tmp_path / "s.db", problems, close_retry_s=3.0)
    releaser = threading.Timer(0.7, lock.release)  # longer than the store's 0.2 s lock wait
    releaser.start()
    try:
        rec.close()
    finally:
        releaser.join()
    with store:
        assert (rec.samples_written, rec.lost_samples, rec.failed) == (300, 0, False)
        assert len(store.samples(sid)) == 300
        assert store.summaries(sid).n_samples.sum() == 300
        assert not any("recording stopped" in p or "not stored" in p for p in problems), problems


def test_close_under_a_long_lock_gives_up_once_in_words_for_closing(tmp_path: Path) -> None:
    problems: list[str] = []
    store, sid, rec, lock = _locked_recorder(
        tmp_path / "s.db", problems, give_up_s=0.3, close_retry_s=0.6
    )
    time.sleep(0.4)  # failing for longer than give_up_s, the next retry not yet due
    try:
        t0 = time.monotonic()
        rec.close()
        waited_s = time.monotonic() - t0
    finally:
        lock.release()
    with store:
        assert waited_s >= 0.5, "the last write was retried, not dropped at once"
        assert (rec.samples_written, rec.lost_samples, rec.failed) == (0, 300, True)
        ends = [p for p in problems if "not stored" in p]
        assert len(ends) == 1, problems  # given up once, not again with "0 samples"
        assert "300 samples were not stored" in ends[0]
        assert "monitoring goes on" not in ends[0]  # the program is closing
        assert len(store.samples(sid)) == 0


def test_a_recorder_creates_its_session_once_the_lock_is_gone(tmp_path: Path) -> None:
    """A session that cannot be created yet (database locked) is retried like any write."""
    db = tmp_path / "s.db"
    samples, posture = synthesize([Segment(3.0, SITTING, 20.0)])
    problems: list[str] = []
    with SessionStore.open(db, busy_timeout_s=0.2) as store:
        lock = _WriteLock(db)

        def create() -> int:
            return store.create_session(device="sim:x", source="live")

        rec = Recorder(store, create_session=create, on_problem=problems.append, give_up_s=30.0)
        rec.on_event(0.0, "calibration", {"pose": "upright"})
        rec.flush()
        assert rec.failing
        assert rec.session_id is None
        assert store.sessions() == []  # rolled back: no half-made session
        lock.release()
        time.sleep(0.6)  # past the first retry delay
        for i in range(0, 300, BLOCK):
            rec.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
        rec.close()
        sid = rec.session_id
        assert sid is not None
        assert not rec.failing
        assert len(store.samples(sid)) == 300
        assert [e.kind for e in store.events(sid)] == ["calibration"]
        assert "resumed" in problems[-1]
