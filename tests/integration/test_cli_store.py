"""The store commands end to end: import → sessions → stats → export → re-import → delete."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from host.cli import main
from host.csvio import read_csv, write_csv
from host.recording.schema import SCHEMA_VERSION
from host.recording.store import SessionStore
from host.recording.synthetic import SITTING, Segment, desk_day, synthesize

PREAMBLE = [
    Segment(10.0, SITTING, 0.0),  # calibration preamble as in every simulator scenario
    Segment(2.0, SITTING, 15.0),
    Segment(4.0, SITTING, 35.0),
    Segment(2.0, SITTING, 10.0),
]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    segments = PREAMBLE + desk_day(hours=0.12, seed=5)
    samples, posture = synthesize(segments, rate_hz=50.0, seed=5)
    path = tmp_path_factory.mktemp("rec") / "day.csv"
    write_csv(path, samples)
    return path, posture.flexion_deg


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_stats_export_round_trip(
    tmp_path: Path, recording: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path, truth_deg = recording
    db = str(tmp_path / "s.sqlite3")
    code, out, err = _run(
        capsys,
        "import",
        str(csv_path),
        "--neutral",
        "2:8",
        "--forward",
        "12:16",
        "--db",
        db,
        "--start",
        "2026-11-02T09:00:00+01:00",
    )
    assert code == 0, err
    assert out.strip() == "1"  # only the id on stdout

    code, out, _ = _run(capsys, "sessions", "--db", db)
    assert code == 0
    assert "import:day.csv" in out
    assert f"{len(read_csv(csv_path).samples):,}" in out

    code, out, _ = _run(capsys, "stats", "1", "--json", "--db", db)
    stats = json.loads(out)
    p50 = stats["overall"]["percentiles_deg"]["P50"]
    # per-second flexion from the offline analysis vs the known truth
    assert p50 == pytest.approx(float(np.median(truth_deg)), abs=1.0)
    assert stats["days"][0]["label"] == "2026-11-02"
    code, out, _ = _run(capsys, "stats", "--from", "2026-11-02", "--to", "2026-11-02", "--db", db)
    assert code == 0
    assert "ISO 11226 zones" in out

    exported = tmp_path / "export.csv"
    code, _, _ = _run(capsys, "export", "1", "--format", "csv", "-o", str(exported), "--db", db)
    assert code == 0
    assert exported.stat().st_mode & 0o077 == 0
    a, b = read_csv(csv_path).samples, read_csv(exported).samples
    assert len(a) == len(b)
    assert np.max(np.abs(a.t_s - b.t_s)) <= 2e-6
    step = np.max(np.abs(a.accel_m_s2)) / 32767
    assert np.max(np.abs(a.accel_m_s2 - b.accel_m_s2)) <= step / 2 + 1e-5  # + CSV rounding
    assert np.max(np.abs(a.gyro_rad_s - b.gyro_rad_s)) <= 1e-5  # type: ignore[operator]

    # stdout export equals the file export
    code, out, _ = _run(capsys, "export", "1", "--format", "csv", "--db", db)
    assert out == exported.read_text()

    code, out, err = _run(
        capsys, "import", str(exported), "--neutral", "2:8", "--forward", "12:16", "--db", db
    )
    assert (code, out.strip()) == (0, "2"), err

    code, out, _ = _run(capsys, "export", "2", "--format", "jsonl", "--db", db)
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["type"] == "session"
    assert lines[0]["pseudonym"].startswith("PC-")
    seconds = [x for x in lines if x["type"] == "second"]
    assert len(seconds) == pytest.approx(len(a) / 50.0, abs=1)
    assert {x["kind"] for x in lines if x["type"] == "event"} >= {"calibration"}

    code, _, err = _run(capsys, "delete", "2", "--db", db)  # no terminal, no --yes
    assert code == 2
    assert "--yes" in err
    code, out, _ = _run(capsys, "delete", "2", "--yes", "--db", db)
    assert code == 0
    code, _, err = _run(capsys, "export", "2", "--format", "csv", "--db", db)
    assert code == 2
    assert "no session 2" in err


def test_report_from_cli(
    tmp_path: Path, recording: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.sqlite3")
    assert _run(capsys, "import", str(recording[0]), "--db", db)[0] == 0  # auto calibration
    pdf = tmp_path / "r.pdf"
    code, _out, err = _run(capsys, "report", "1", "-o", str(pdf), "--html", "--db", db)
    assert code == 0, err
    assert pdf.stat().st_size > 10_000
    assert pdf.stat().st_mode & 0o077 == 0
    assert "data:image/png;base64," in pdf.with_suffix(".html").read_text()


def test_damaged_database_exit_code_and_others_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad, newer = tmp_path / "good.db", tmp_path / "bad.db", tmp_path / "newer.db"
    for db in (good, newer):
        SessionStore.open(db).close()  # read-only commands no longer create databases
        assert _run(capsys, "sessions", "--db", str(db))[0] == 0
    bad.write_bytes(b"\x00garbage" * 4096)
    code, _, err = _run(capsys, "sessions", "--db", str(bad))
    assert code == 1
    assert str(bad) in err
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    con.close()
    code, _, err = _run(capsys, "stats", "--db", str(newer))
    assert code == 1
    assert "newer" in err
    assert _run(capsys, "sessions", "--db", str(good))[0] == 0


def test_console_script_import_prints_only_the_id(tmp_path: Path) -> None:
    samples, _ = synthesize([*PREAMBLE, Segment(40.0, SITTING, 25.0)], rate_hz=50.0)
    small = tmp_path / "small.csv"
    write_csv(small, samples)
    recording = (small, None)
    exe = Path(sys.executable).parent / "posture"
    result = subprocess.run(
        [str(exe), "import", str(recording[0]), "--neutral", "2:8", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"
    bad = subprocess.run(
        [str(exe), "import", str(recording[0]), "--neutral", "8:2", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "--neutral" in bad.stderr


def test_record_from_the_simulator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "live.db")
    code, out, err = _run(
        capsys, "record", "--device", "sim:desk_day?speed=40", "--duration", "3", "--db", db
    )
    assert code == 0, err
    sid = int(out.strip())
    from host.recording.store import SessionStore

    with SessionStore.open(Path(db)) as store:
        info = store.session(sid)
        assert info.ended_at is not None
        assert info.n_samples > 2000  # ≥ 20 s of 100 Hz data at 40× in 3 s, minus start-up
        assert len(store.samples(sid)) == info.n_samples
        kinds = {e.kind for e in store.events(sid)}
        assert {"link", "calibration"} <= kinds
        s = store.summaries(sid)
        assert len(s) >= info.duration_s - 1
        assert np.isfinite(s.flexion_deg).mean() > 0.5  # calibrated after the first 5 s


def test_simulated_day_statistics_match_ground_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Simulator (random mounting) → CSV → import with calibration windows → stats ≈ truth."""
    from device_sim.generate import generate

    g = generate("desk_day", seed=3, minutes=12, random_mount=True)
    csv_path = tmp_path / "sim.csv"
    write_csv(csv_path, g.samples)
    db = str(tmp_path / "s.db")
    code, out, err = _run(
        capsys, "import", str(csv_path), "--neutral", "2:8", "--forward", "12:16", "--db", db
    )
    assert code == 0, err
    code, out, _ = _run(capsys, "stats", out.strip(), "--json", "--db", db)
    o = json.loads(out)["overall"]
    sec = np.floor(g.truth.t_s).astype(int)
    truth = np.bincount(sec, g.truth.flexion_deg) / np.bincount(sec)
    for name, q in (("P10", 10), ("P50", 50), ("P90", 90)):
        assert o["percentiles_deg"][name] == pytest.approx(np.percentile(truth, q), abs=1.5)
    valid = o["valid_s"]
    high = (o["iso_zone_s"]["20-60"] + o["iso_zone_s"][">60"]) / valid
    assert high == pytest.approx(np.mean(truth > 20.0), abs=0.03)


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions"],
        ["sessions", "--json"],
        ["stats"],
        ["stats", "1"],
        ["report", "-o", "r.pdf"],
        ["export", "1", "--format", "csv"],
        ["delete", "1", "--yes"],
    ],
)
def test_read_commands_do_not_create_a_mistyped_database(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    missing = tmp_path / "typo" / "a.db"
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv, "--db", str(missing))
    assert code == 2
    assert f"no session database at {missing}" in err
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no file, no report


def test_sessions_without_the_default_database_lists_none_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, out, _ = _run(capsys, "sessions")
    assert (code, out.split(":")[0]) == (0, "no sessions yet")
    assert _run(capsys, "sessions", "--json")[:2] == (0, "")
    assert not (tmp_path / "data").exists()
    code, _, err = _run(capsys, "stats")
    assert code == 2
    assert "no session database at" in err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--start", "yesterday"], "--start 'yesterday': not an ISO 8601 time"),
        (["--neutral", "8:2"], "--neutral '8:2'"),
        (["--neutral", "2:8", "--forward", "x"], "--forward 'x'"),
    ],
)
def test_import_refuses_bad_flags_before_reading_or_analysing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    missing = tmp_path / "never-read.csv"  # a read would fail with "cannot read" instead
    code, out, err = _run(capsys, "import", str(missing), *flags, "--db", str(tmp_path / "s.db"))
    assert code == 2
    assert message in err
    assert "cannot read" not in err
    assert "calibrated automatically" not in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_import_placement_is_one_of_the_supported(
    recording: tuple[Path, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["import", str(recording[0]), "--placement", "forehead"])
    assert info.value.code == 2
    assert "invalid choice: 'forehead'" in capsys.readouterr().err
    db = tmp_path / "s.db"
    argv = ["import", str(recording[0]), "--neutral", "2:8", "--placement", "thoracic"]
    assert _run(capsys, *argv, "--db", str(db))[0] == 0
    with SessionStore.open(db) as store:
        assert store.session(1).placement == "thoracic"


def test_importing_the_same_recording_twice_is_refused_unless_forced(
    recording: tuple[Path, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    argv = ["import", str(recording[0]), "--neutral", "2:8", "--db", db]
    assert _run(capsys, *argv)[:2] == (0, "1\n")
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "day.csv was already imported as session 1" in err
    assert "--force" in err
    copy = tmp_path / "renamed.csv"  # the content decides, not the name
    copy.write_bytes(recording[0].read_bytes())
    assert _run(capsys, "import", str(copy), "--db", db)[0] == 2
    assert _run(capsys, *argv, "--force")[:2] == (0, "2\n")
    with SessionStore.open(db) as store:
        assert [s.id for s in store.sessions()] == [1, 2]
