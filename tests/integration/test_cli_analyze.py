"""CLI contract of issue 3 (posture calibrate, posture analyze) and issue 5 (--alerts)."""

from __future__ import annotations

import importlib.util
import json
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from calibration.model import NOMINAL_R_BS
from calibration.synthetic import desk_motion, random_rotation, synthesize
from host.analysis import LiveAnalyzer
from host.cli import main
from host.commands.analyze import HEADER
from host.csvio import write_csv

RATE_HZ = 100.0
CONTRACT_HEADER = "t,flexion_deg,lateral_deg,up_x,up_y,up_z"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    t, flex, lat, head, walk, act = desk_motion(120.0, RATE_HZ, seed=31)
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(32))
    rec = synthesize(t, flex, lat, head, r_bs=mount, walking=walk, seed=33, activity=act)
    path = tmp_path_factory.mktemp("cli") / "day.csv"
    write_csv(path, rec.samples)
    return path, rec


def _read_out(path: Path) -> tuple[str, np.ndarray]:
    text = path.read_text()
    header = text.partition("\n")[0]
    data = np.genfromtxt(path, delimiter=",", skip_header=1)
    return header, data


def test_calibrate_then_analyze(day, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path, rec = day
    cal = tmp_path / "cal.json"
    out = tmp_path / "out.csv"
    assert (
        main(["calibrate", str(path), "--neutral", "2:8", "--forward", "12:16", "-o", str(cal)])
        == 0
    )
    assert stat.S_IMODE(cal.stat().st_mode) == 0o600
    assert json.loads(cal.read_text())["schema_version"] == 1
    assert "forward bend 35" in capsys.readouterr().out
    assert main(["analyze", str(path), "-o", str(out), "--calibration", str(cal)]) == 0
    header, data = _read_out(out)
    assert header.startswith(CONTRACT_HEADER)
    assert header == HEADER
    assert data.shape == (len(rec.samples), 8)
    np.testing.assert_allclose(data[:, 0], rec.samples.t_s, atol=1e-6)
    assert np.sqrt(np.mean((data[:, 1] - rec.flexion_deg) ** 2)) < 0.6
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_online_output_is_what_the_live_pipeline_produced(day, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _rec = day
    out = tmp_path / "out.csv"
    assert (
        main(["analyze", str(path), "-o", str(out), "--neutral", "2:8", "--forward", "12:16"]) == 0
    )
    _, data = _read_out(out)
    # replay the same file through the live analyzer in 5-sample blocks, as the engine would
    from calibration.procedures import fit_mounting
    from host.commands.calibrate import select_window
    from host.csvio import read_csv

    samples = read_csv(path).samples
    cal = fit_mounting(
        select_window(samples, "2:8", "--neutral"), select_window(samples, "12:16", "--forward")
    )
    live = LiveAnalyzer(RATE_HZ, gyro=True, calibration=cal)
    flex = np.concatenate(
        [live.update(samples.slice(i, i + 5)).flexion_deg for i in range(0, len(samples), 5)]
    )
    np.testing.assert_allclose(data[:, 1], flex, atol=6e-5)  # the file keeps 4 decimals


def test_offline_and_no_calibration(day, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, rec = day
    out = tmp_path / "off.csv"
    assert (
        main(
            [
                "analyze",
                str(path),
                "-o",
                str(out),
                "--neutral",
                "2:8",
                "--forward",
                "12:16",
                "--offline",
            ]
        )
        == 0
    )
    _, data = _read_out(out)
    assert np.sqrt(np.mean((data[:, 1] - rec.flexion_deg) ** 2)) < 0.3
    bare = tmp_path / "bare.csv"
    assert main(["analyze", str(path), "-o", str(bare)]) == 0
    lines = bare.read_text().splitlines()
    assert len(lines) == len(rec.samples) + 1
    fields = lines[1].split(",")
    assert fields[1] == ""
    assert fields[2] == ""
    assert abs(np.linalg.norm([float(v) for v in fields[3:6]]) - 1.0) < 1e-5


def test_gyroless_recording(day, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    _, rec = day
    path = tmp_path / "nogyro.csv"
    from host.samples import SampleBlock

    write_csv(path, SampleBlock(rec.samples.t_s, rec.samples.accel_m_s2))
    out = tmp_path / "out.csv"
    assert (
        main(["analyze", str(path), "-o", str(out), "--neutral", "2:8", "--forward", "12:16"]) == 0
    )
    _, data = _read_out(out)
    walking = rec.activity == "walking"
    assert np.median(data[walking, 6]) < 0.5  # confidence drops while walking
    err = data[~walking, 1] - rec.flexion_deg[~walking]
    assert np.sqrt(np.mean(err**2)) < 1.5


def _bad(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--neutral", "2-8"], "expected T0:T1"),
        (["--neutral", "8:2"], "T0 < T1"),
        (["--neutral", "nan:5"], "--neutral 'nan:5': T0 and T1 must be finite"),
        (["--neutral", "2:8", "--forward", "12:inf"], "--forward '12:inf': T0 and T1 must be"),
        (["--neutral", "2:500"], "outside the recording"),
        (["--neutral", "5:15"], "you moved during the neutral capture"),
        (["--neutral", "2:8", "--forward", "2.5:7"], "bend forward further"),
        (["--forward", "12:16"], "--forward needs --neutral"),
        (["--neutral", "2:2.001"], "make it longer"),
        (["--threshold", "20"], "--threshold and --hold go together"),
        (["--alerts", "x.json"], "--alerts needs a calibration"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(
    day,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    path, _ = day
    assert main(["analyze", str(path), "-o", str(tmp_path / "o.csv"), *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("t,ax,ay,az\n0,9.81,0,0\n0.01,9.81,0,0\n0.01,9.81,0,0\n", ":4: time repeats"),
        ("t,ax,ay,az\n0,9.81,0,0\n0.01,nan,0,0\n", ":3: column ax"),
        ("t,ax,ay\n0,9.81,0\n", "lacks column(s) az"),
        ("t,ax,ay,az\n0,9.81,0,0\n-1,9.81,0,0\n", "goes backwards"),
    ],
)
def test_bad_files_exit_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = _bad(tmp_path / "bad.csv", content)
    assert main(["analyze", str(path), "-o", str(tmp_path / "o.csv")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--threshold", "-5"), ("--threshold", "nan"), ("--threshold", "91"),
     ("--hold", "-1"), ("--hold", "inf"), ("--hold", "abc")],
)  # fmt: skip
@pytest.mark.parametrize("command", ["analyze", "monitor"])
def test_a_bad_alert_rule_names_the_flag_and_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, flag: str, value: str
) -> None:
    rule = {"--threshold": "20", "--hold": "30", flag: value}
    argv = (
        ["analyze", "day.csv", "-o", str(tmp_path / "o.csv"), "--alerts", "a.json"]
        if command == "analyze"
        else ["monitor", "--device", "sim:desk_day?speed=0"]
    )
    with pytest.raises(SystemExit) as info:
        main([*argv, *(item for pair in rule.items() for item in pair)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: '{value}'" in err
    assert "tolerance_deg" not in err
    assert "delay_s" not in err


def test_bad_calibration_file_exits_2(
    day, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    path, _ = day
    cal = _bad(tmp_path / "cal.json", json.dumps({"schema_version": 7}))
    assert (
        main(["analyze", str(path), "-o", str(tmp_path / "o.csv"), "--calibration", str(cal)]) == 2
    )
    assert "schema_version 7" in capsys.readouterr().err
    missing = tmp_path / "missing.json"
    assert (
        main(["analyze", str(path), "-o", str(tmp_path / "o.csv"), "--calibration", str(missing)])
        == 2
    )
    both = ["--calibration", str(cal), "--neutral", "2:8"]
    assert main(["analyze", str(path), "-o", str(tmp_path / "o.csv"), *both]) == 2


def test_calibrate_rejects_movement(
    day, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    path, _ = day
    assert main(["calibrate", str(path), "--neutral", "9:13", "-o", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert "--neutral 9:13: you moved during the neutral capture" in err
    assert not (tmp_path / "c.json").exists()


def test_alerts_contract(day, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("host.alerts")
    path, _ = day
    alerts = tmp_path / "alerts.json"
    args = ["--neutral", "2:8", "--forward", "12:16", "--alerts", str(alerts)]
    assert (
        main(
            [
                "analyze",
                str(path),
                "-o",
                str(tmp_path / "o.csv"),
                *args,
                "--threshold",
                "20",
                "--hold",
                "5",
            ]
        )
        == 0
    )
    found = json.loads(alerts.read_text())
    assert isinstance(found, list)
    assert found, "the preamble holds 35° for 4 s plus bends: a 5 s hold must fire"
    for alert in found:
        assert {"t", "kind", "start", "peak_deg"} <= set(alert)
        assert alert["t"] >= alert["start"] + 5.0 - 0.02
    assert main(["analyze", str(path), "-o", str(tmp_path / "o.csv"), *args]) == 0
    assert isinstance(json.loads(alerts.read_text()), list)


def test_help_teaches() -> None:
    for command in ("analyze", "calibrate"):
        result = subprocess.run(
            [sys.executable, "-m", "host.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert result.returncode == 0
        assert "examples:" in result.stdout
        assert "--neutral 2:8 --forward 12:16" in result.stdout


_POSTURE_SIM = [sys.executable, "-m", "device_sim"]  # the posture-sim console script's module


def _simulator_available() -> bool:
    if importlib.util.find_spec("device_sim.__main__") is None:
        return False
    probe = subprocess.run(
        [*_POSTURE_SIM, "generate", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return probe.returncode == 0 and "--random-mount" in probe.stdout


@pytest.mark.slow
def test_simulated_desk_day_with_random_mount(tmp_path: Path) -> None:
    if not _simulator_available():
        pytest.skip("posture-sim generate (device_sim) is not available yet")
    day, truth = tmp_path / "day.csv", tmp_path / "truth.csv"
    gen = [*_POSTURE_SIM, "generate", "desk_day", "--out", str(day), "--truth", str(truth)]
    subprocess.run(
        [*gen, "--seed", "3", "--minutes", "3", "--random-mount"], check=True, timeout=120
    )
    cal, out = tmp_path / "cal.json", tmp_path / "out.csv"
    assert (
        main(["calibrate", str(day), "--neutral", "2:8", "--forward", "12:16", "-o", str(cal)]) == 0
    )
    assert main(["analyze", str(day), "-o", str(out), "--calibration", str(cal)]) == 0
    names = truth.read_text().partition("\n")[0].split(",")
    want = np.genfromtxt(
        truth,
        delimiter=",",
        skip_header=1,
        usecols=[names.index("flexion_deg"), names.index("lateral_deg")],
    )
    _, got = _read_out(out)
    assert got.shape[0] == want.shape[0]
    flex_rmse = float(np.sqrt(np.mean((got[:, 1] - want[:, 0]) ** 2)))
    lat_rmse = float(np.sqrt(np.mean((got[:, 2] - want[:, 1]) ** 2)))
    assert flex_rmse < 1.0, flex_rmse
    assert lat_rmse < 1.5, lat_rmse


@pytest.mark.parametrize("gyro", [True, False], ids=["gyro", "gyroless"])
def test_device_sim_desk_day_random_mount(tmp_path: Path, gyro: bool) -> None:
    """The project's simulator (device_sim) → CSV → calibrate → analyze vs its truth CSV."""
    generate = pytest.importorskip("device_sim.generate").generate
    truth_mod = pytest.importorskip("device_sim.truth")
    generated = generate("desk_day", seed=7, minutes=4, gyro=gyro, random_mount=True)
    day, truth = tmp_path / "day.csv", tmp_path / "truth.csv"
    write_csv(day, generated.samples)
    truth_mod.write_truth_csv(truth, generated.truth)
    cal, out = tmp_path / "cal.json", tmp_path / "out.csv"
    assert (
        main(["calibrate", str(day), "--neutral", "2:8", "--forward", "12:16", "-o", str(cal)]) == 0
    )
    assert main(["analyze", str(day), "-o", str(out), "--calibration", str(cal)]) == 0
    names = truth.read_text().partition("\n")[0].split(",")
    cols = [names.index("flexion_deg"), names.index("lateral_deg")]
    want = np.genfromtxt(truth, delimiter=",", skip_header=1, usecols=cols)
    _, got = _read_out(out)
    assert got.shape[0] == want.shape[0] == len(generated.samples)
    flex_rmse = float(np.sqrt(np.mean((got[:, 1] - want[:, 0]) ** 2)))
    lat_rmse = float(np.sqrt(np.mean((got[:, 2] - want[:, 1]) ** 2)))
    assert flex_rmse < (0.6 if gyro else 1.5), flex_rmse
    assert lat_rmse < (0.6 if gyro else 1.5), lat_rmse
