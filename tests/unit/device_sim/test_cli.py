"""posture-sim: generate files that read back with host.csvio, with truth and sidecar."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device_sim.__main__ import main
from device_sim.csvfast import format_rows
from host.csvio import read_csv


def test_generate_writes_data_truth_and_sidecar(tmp_path: Path) -> None:
    out, truth = tmp_path / "rec" / "day.csv", tmp_path / "rec" / "truth.csv"
    (tmp_path / "rec").mkdir()  # generate creates no folders (see test_outputs_are_checked_first)
    code = main(["generate", "slouching", "--minutes", "2", "--seed", "3", "--random-mount",
                 "--out", str(out), "--truth", str(truth)])  # fmt: skip
    assert code == 0
    recording = read_csv(out)
    assert recording.warnings == []
    samples = recording.samples
    assert len(samples) == 12000
    assert samples.gyro_rad_s is not None
    assert np.all(np.diff(samples.t_s) > 0)
    rows = np.genfromtxt(truth, delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert rows.dtype.names == (
        "t", "flexion_deg", "lateral_deg", "rotation_deg", "up_x", "up_y", "up_z", "activity",
        "slouch",
    )  # fmt: skip
    assert len(rows) == 12000
    assert np.allclose(rows["t"], samples.t_s, atol=1e-6)  # row-aligned with the data
    up = np.stack([rows["up_x"], rows["up_y"], rows["up_z"]], axis=1)
    assert np.allclose(np.linalg.norm(up, axis=1), 1.0, atol=1e-5)
    still = (rows["t"] > 2) & (rows["t"] < 8)
    a = samples.accel_m_s2[still]
    measured_up = a.mean(axis=0) / np.linalg.norm(a.mean(axis=0))
    assert np.degrees(np.arccos(np.clip(measured_up @ up[still][0], -1, 1))) < 1.5
    assert set(rows["activity"]) <= {"sitting", "bending", "transition", "standing", "walking"}
    meta = json.loads((tmp_path / "rec" / "truth.json").read_text())
    assert meta["scenario"] == "slouching"
    assert meta["seed"] == 3
    assert meta["random_mount"] is True
    assert np.allclose(np.linalg.det(np.array(meta["mount_R_bs"])), 1.0)
    assert meta["error_model"]["accel_noise_ug_rthz"] == 160.0
    for episode in meta["slouch_episodes"]:
        assert 20.0 < episode["peak_deg"] < 37.0
        flagged = (rows["t"] >= episode["start_s"]) & (rows["t"] < episode["end_s"])
        assert rows["slouch"][flagged].all()
    for path in (out, truth, tmp_path / "rec" / "truth.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # health data: the user's only


def test_generate_without_gyro_has_no_gyro_columns(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert main(["generate", "walking", "--minutes", "0.5", "--no-gyro", "--rate", "50",
                 "--out", str(out), "--truth", str(tmp_path / "t.csv")]) == 0  # fmt: skip
    assert out.read_text().splitlines()[0] == "t,ax,ay,az"
    assert len(read_csv(out).samples) == 1500


def test_same_seed_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        data, truth = str(tmp_path / f"{name}.csv"), str(tmp_path / f"{name}t.csv")
        main(
            [
                "generate",
                "pick_up",
                "--minutes",
                "0.5",
                "--seed",
                "8",
                "--out",
                data,
                "--truth",
                truth,
            ]
        )
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "at.csv").read_bytes() == (tmp_path / "bt.csv").read_bytes()


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "moonwalk", "--out", "x.csv", "--truth", "y.csv"],
        ["generate", "desk_day", "--rate", "5", "--out", "x.csv", "--truth", "y.csv"],
        ["generate", "desk_day", "--minutes", "-1", "--out", "x.csv", "--truth", "y.csv"],
        ["generate", "desk_day"],
        ["frobnicate"],
        ["--bogus"],
        ["generate", "desk_day", "--out", "x.csv", "--truth", "x.csv"],
        ["generate", "desk_day", "--out", "./x.csv", "--truth", "x.csv"],
        ["generate", "desk_day", "--out", "x.json", "--truth", "x.csv"],
        ["generate", "desk_day", "--out", "x.csv", "--truth", "missing/y.csv"],
        ["generate", "desk_day", "--out", ".", "--truth", "y.csv"],
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code == 2
    assert list(tmp_path.iterdir()) == []  # nothing written, no folder created


def test_outputs_are_checked_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in a folder name leaves no folder behind; out and truth never overwrite each
    other."""
    missing = tmp_path / "typo" / "deeper"
    code = main(["generate", "slouching", "--minutes", "1",
                 "--out", str(missing / "a.csv"), "--truth", str(tmp_path / "t.csv")])  # fmt: skip
    assert code == 2
    assert f"--out {missing / 'a.csv'}: {missing} does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    same = str(tmp_path / "a.csv")
    assert main(["generate", "slouching", "--minutes", "1", "--out", same, "--truth", same]) == 2
    assert "--out and --truth are the same file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_version_comes_from_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"posture-sim {version('posture-companion')}\n"


def test_unknown_options_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_scenarios_listed_and_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    listing = capsys.readouterr().out
    for name in ("calibration", "upright_sitting", "slouching", "leaning_back", "standing",
                 "walking", "pick_up", "sit_to_stand", "desk_day", "guided"):  # fmt: skip
        assert name in listing
    result = subprocess.run(
        [sys.executable, "-m", "device_sim", "generate", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "examples:" in result.stdout
    assert "--neutral 2:8 --forward 12:16" in result.stdout


def test_fast_csv_formatting_matches_printf() -> None:
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0, 50, 2000), [0.0, -0.0, -0.0004, 0.0005, 1e4, -1e4]])
    text = format_rows([(values, 3), (values, 0), np.array([b"ab", b"c"] * 1003)])
    lines = text.decode().splitlines()
    assert len(lines) == values.size
    for line, v, label in zip(lines, values, [b"ab", b"c"] * 1003, strict=True):
        a, b, c = line.split(",")
        # exact halves may round the other way (round-half-even): one unit in the last place
        assert float(a) == pytest.approx(float(f"{v:.3f}"), abs=1.0001e-3)
        assert float(a) == pytest.approx(v, abs=0.5001e-3)
        assert float(b) == pytest.approx(v, abs=0.5000001)
        assert c == label.decode()


def test_serve_help_examples_name_real_scenarios() -> None:
    from device_sim.motion import SCENARIOS
    from device_sim.serve import _EPILOG

    named = [
        line.split()[2]
        for line in _EPILOG.splitlines()
        if line.strip().startswith("posture-sim serve ")
    ]
    assert named
    assert [name for name in named if name not in SCENARIOS] == []
