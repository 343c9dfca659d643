"""History tab over a real session store: list, timeline, statistics, report export."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from host.alerts import Alert
from host.gui.history import HistoryTab
from host.gui.main_window import recorded_zone_seconds
from host.posture import Zone
from host.recording.recorder import Recorder
from host.recording.store import SessionStore
from host.recording.synthetic import SITTING, WALKING, Segment, synthesize


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "sessions.sqlite3"
    samples, posture = synthesize(
        [Segment(600.0, SITTING, 5.0), Segment(300.0, SITTING, 35.0), Segment(120, WALKING, 3)],
        rate_hz=50.0,
    )
    with SessionStore.open(path) as store:
        session = store.create_session(device="sim:desk_day", source="live")
        recorder = Recorder(store, session)
        recorder.on_block(samples, posture)
        recorder.on_alert(Alert(760.0, "slouch", 640.0, 35.0, "flexion 35° for 2 min"))
        recorder.close()
        store.end_session(session)
    return path


def test_lists_sessions_and_shows_statistics(qtbot: QtBot, db: Path) -> None:
    tab = HistoryTab(db)
    qtbot.addWidget(tab)
    assert tab.table.rowCount() == 1
    assert tab.table.item(0, 3).text() == "sim:desk_day"  # type: ignore[union-attr]
    tab.table.selectRow(0)
    assert tab.export_button.isEnabled()
    stats = dict(tab.shown_statistics)
    assert stats["Alerts"].startswith("1 ")
    assert "17 min" in stats["Worn"]  # 600 + 300 + 120 s
    x, y = tab.curve.getData()
    assert len(y) == 1020  # one point per second
    start = tab.sessions[0].started_at.astimezone()
    assert x[0] == pytest.approx(start.hour + start.minute / 60 + start.second / 3600, abs=1e-3)


def test_export_report_writes_private_pdf(qtbot: QtBot, db: Path, tmp_path: Path) -> None:
    tab = HistoryTab(db)
    qtbot.addWidget(tab)
    out = tmp_path / "report.pdf"
    assert tab.write_report(tab.sessions[0].id, out)
    assert out.read_bytes()[:5] == b"%PDF-"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_no_database_is_not_created(qtbot: QtBot, tmp_path: Path) -> None:
    tab = HistoryTab(tmp_path / "none.sqlite3")
    qtbot.addWidget(tab)
    assert tab.table.rowCount() == 0
    assert not (tmp_path / "none.sqlite3").exists()
    assert "No recordings" in tab.message.text()


def test_today_baseline_from_recorded_sessions(db: Path, tmp_path: Path) -> None:
    today = datetime.now().astimezone().date()
    totals = recorded_zone_seconds(db, today)
    assert sum(totals.values()) == pytest.approx(1020.0, abs=2.0)
    assert totals[int(Zone.UPRIGHT)] == pytest.approx(720.0, abs=2.0)  # sitting + walking
    assert totals[int(Zone.SLOUCHED)] == pytest.approx(300.0, abs=2.0)
    assert recorded_zone_seconds(db, today - timedelta(days=1)) == {}
    assert recorded_zone_seconds(tmp_path / "absent.sqlite3", today) == {}


def test_day_timeline_shows_the_days_other_sessions(qtbot: QtBot, db: Path) -> None:
    samples, posture = synthesize([Segment(120.0, SITTING, 25.0)], rate_hz=50.0)
    with SessionStore.open(db) as store:
        later = store.create_session(device="sim:desk_day", source="live")
        recorder = Recorder(store, later)
        recorder.on_block(samples, posture)
        recorder.close()
        store.end_session(later)
    tab = HistoryTab(db)
    qtbot.addWidget(tab)
    assert tab.table.rowCount() == 2
    tab.show_session(later)
    assert len(tab.timeline.getPlotItem().listDataItems()) == 2
    _x, y = tab.curve.getData()
    assert len(y) == 120
