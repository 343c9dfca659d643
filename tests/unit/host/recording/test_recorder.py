"""Recorder under real write failures: the store is full (SQLite max_page_count)."""

from __future__ import annotations

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
