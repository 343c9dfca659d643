"""The report's exercise section: titles, one rounding, the kept age norm, chosen sessions
only, a broken program left out with a warning, and exercise-only reports without posture."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from host.exercise.coach import CoachResult, SetResult
from host.exercise.counting import Hold
from host.exercise.records import record_exercise, record_rom, report_html, rom_event
from host.exercise.rom import RomResult
from host.recording.store import SessionStore

DAY = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def _hold_result() -> CoachResult:
    holds = tuple(Hold(40.0 * i, 40.0 * i + 31.0, 20.0, 0.5, 0.5, 0.2) for i in range(3))
    return CoachResult("hamstring_stretch", "hold", None, (SetResult(0, 0.0, 120.0, 3, (), holds,
                       30.0),), 1, 3, 30.0)  # fmt: skip


def test_rom_values_are_rounded_once_as_the_command_prints_them() -> None:
    event = rom_event(RomResult("flexion", 69.5527, "deg", (69.5527,), 59.46), 45.0)
    assert event["value"] == 69.6  # printed "69.6°" by posture rom; 69.55 read back as "69.5"
    assert event["norm"] == 59.0  # printed "age norm 59°"


def test_titles_kept_norm_and_styled_tables(tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        record_exercise(store, _hold_result(), device="sim", started_at=DAY)
        aged = [(5.0, RomResult("lateral_right", 25.0, "deg", (25.0,), 24.0)),
                (9.0, RomResult("sts", 12.3, "s"))]  # fmt: skip
        record_rom(store, aged, device="sim", age_years=40, started_at=DAY)
        later = [(5.0, RomResult("lateral_right", 27.0, "deg", (27.0,), None))]  # no --age
        record_rom(store, later, device="sim", started_at=DAY + dt.timedelta(days=1))
        page = report_html(store, DAY.date(), DAY.date() + dt.timedelta(days=1),
                           program_path=tmp_path / "none.toml")  # fmt: skip
    assert "<td>Hamstring stretch</td>" in page
    assert "hamstring_stretch" not in page
    assert "<td>lateral bend right</td>" in page
    assert "<td>5× sit-to-stand</td>" in page
    assert "<td>24°</td>" in page  # the norm of the last run that had an age
    assert page.count('<table border="0.5" cellspacing="0" cellpadding="3" width="100%">') == 2
    assert page.startswith('<h2 style="page-break-before: always">Home exercise</h2>')


def test_chosen_sessions_only_and_a_broken_program_is_left_out(tmp_path: Path) -> None:
    bad = tmp_path / "program.toml"
    bad.write_text("[program\n", encoding="utf-8")
    warnings: list[str] = []
    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        sid = record_exercise(store, _hold_result(), device="sim", started_at=DAY)
        record_rom(store, [(5.0, RomResult("flexion", 61.0, "deg"))], device="sim",
                   started_at=DAY)  # fmt: skip
        one = report_html(store, ids=[sid], program_path=bad, warn=warnings.append)
        period = report_html(store, DAY.date(), DAY.date(), program_path=bad, warn=warnings.append)
    assert "Hamstring stretch" in one
    assert "Range of motion" not in one  # the other session's results stay out
    assert "Range of motion" in period
    assert len(warnings) == 1
    assert str(bad) in warnings[0]
    assert "left out of the report" in warnings[0]


def test_exercise_only_report_has_no_posture_sections(tmp_path: Path) -> None:
    from host.reports.load import load_session_data
    from host.reports.metrics import compute
    from host.reports.pdf import ReportInput, build_html, render_figures

    with SessionStore.open(tmp_path / "s.sqlite3") as store:
        sid = record_exercise(store, _hold_result(), device="sim", started_at=DAY)
        sessions = store.sessions()
        data = load_session_data(store, sessions)
        section = report_html(store, ids=[sid])
    r = ReportInput("PC-1", sessions, data, compute(data), DAY, exercise_html=section)
    assert not r.has_posture
    assert render_figures(r) == {}
    page = build_html(r, {})
    for absent in ("Data quality", "Per day", "0 days", "sessions,", "page-break-before"):
        assert absent not in page
    assert "1 session: exercise" in page
    assert "Hamstring stretch" in page


@pytest.mark.parametrize("low", [False, True])
def test_low_wear_footnote_only_when_a_day_is_under_8_h(low: bool) -> None:
    from types import SimpleNamespace

    from host.reports.pdf import _days

    day = SimpleNamespace(label="2026-11-24", low_wear=low, wear_s=3600.0, valid_s=3600.0,
                          span_s=3600.0, activity_s={}, percentiles_deg={"P50": 5.0},
                          iso_zone_s={"20-60": 0.0, ">60": 0.0}, episodes=0, sitting_bouts=0,
                          shifts_per_15min=0.0, alerts_corrected=0, alerts=0)  # fmt: skip
    html = _days(SimpleNamespace(stats=SimpleNamespace(days=[day])))  # type: ignore[arg-type]
    assert ("under 8 h valid wear" in html) is low
    if low:
        assert html.index("under 8 h valid wear") < html.index("</table>")  # inside the table
