"""The live commands read the dashboard's settings: flags > POSTURE_* > settings.toml > defaults.

A broken settings file or variable stops them before connecting (exit 2, naming what is wrong),
and a recorded live session stores the alert policy and calibration it used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from host.cli import main
from host.recording.store import SessionStore

# 'slouching' slouches for good from about 10 min 50 s of sensor time; with the 2 min delay the
# alert fires at 12 min 50 s, i.e. 7.7 s of wall time at 100x.
_SLOUCH = "sim:slouching?speed=100"


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG config home (the settings.toml the dashboard uses), no POSTURE_* vars."""
    import os

    for name in list(os.environ):
        if name.startswith("POSTURE_"):
            monkeypatch.delenv(name)
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def _settings(config_home: Path, text: str) -> Path:
    path = config_home / "posture-companion" / "settings.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _alert_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("ALERT slouch")]


def test_monitor_alerts_with_the_settings_tolerance(
    config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(config_home, "tolerance_deg = 18\ndelay_s = 120.0\n")
    code = main(["monitor", "--device", _SLOUCH, "--duration", "10", "--no-haptics"])
    out = capsys.readouterr().out
    assert code == 0, out
    alerts = _alert_lines(out)
    assert alerts, out
    assert "above 18°" in alerts[0]
    # elapsed sensor time in words, not a clock-like 00:12:50
    assert "min" in alerts[0]
    assert "(sensor time)" in alerts[0]


def test_flags_override_the_settings(
    config_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(config_home, "tolerance_deg = 18\n")
    monkeypatch.setenv("POSTURE_TOLERANCE_DEG", "19")  # env beats the file, flags beat both
    code = main(
        ["monitor", "--device", _SLOUCH, "--duration", "10", "--no-haptics",
         "--threshold", "25", "--hold", "120"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    alerts = _alert_lines(out)
    assert alerts, out
    assert "above 25°" in alerts[0]


@pytest.mark.parametrize(
    ("text", "env", "named"),
    [
        ('tolerance_deg = "lots"\n', {}, "tolerance_deg"),
        ("tolerance_deg = \n", {}, "not valid TOML"),
        ("tolerance = 18\n", {}, "unknown setting 'tolerance'"),
        ("", {"POSTURE_TOLERANCE_DEG": "abc"}, "POSTURE_TOLERANCE_DEG"),
        ("", {"POSTURE_DELAY_S": "-5"}, "POSTURE_DELAY_S"),
    ],
)
@pytest.mark.parametrize("command", ["monitor", "record"])
def test_broken_settings_exit_2_before_connecting(
    command: str,
    text: str,
    env: dict[str, str],
    named: str,
    config_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _settings(config_home, text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "s.sqlite3"
    extra = ["--record"] if command == "monitor" else []
    code = main([command, "--device", _SLOUCH, "--duration", "5", "--db", str(db), *extra])
    captured = capsys.readouterr()
    assert code == 2
    assert named in captured.err
    if not env:
        assert str(path) in captured.err  # the file is named
    assert "link:" not in captured.out + captured.err  # never started connecting
    assert not db.exists()  # nothing created


def test_explicit_settings_file_and_its_device(
    config_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--settings FILE is used instead of the user's; its device is the default device."""
    _settings(config_home, 'tolerance_deg = "broken, but not the one used"\n')
    own = tmp_path / "mine.toml"
    own.write_text('device = "sim:upright_sitting?speed=20"\nhaptics = false\n')
    code = main(["monitor", "--settings", str(own), "--duration", "2", "--no-calibrate"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "connecting to sim:upright_sitting" in out


def test_monitor_db_without_record_is_a_usage_error(
    config_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    code = main(["monitor", "--device", _SLOUCH, "--duration", "2", "--db", str(db)])
    assert code == 2
    assert "--record" in capsys.readouterr().err
    assert not db.exists()


def test_record_stores_the_policy_and_calibration_it_used(
    config_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(config_home, 'tolerance_deg = 18\ndelay_s = 90\npolicy_mode = "iso11226"\n')
    db = tmp_path / "s.sqlite3"
    code = main(
        ["record", "--device", "sim:upright_sitting?speed=20", "--duration", "3",
         "--no-haptics", "--db", str(db)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # progress reads like monitor's
    assert "link: connecting… (connecting to sim:upright_sitting" in captured.err
    with SessionStore.open(db) as store:
        (info,) = store.sessions()
        # the upright calibration finished after the session began; the header has it
        assert info.calibration is not None
        assert "r_body_sensor" in info.calibration
        assert info.policy is not None
        alerts = info.policy["alerts"]
        assert isinstance(alerts, dict)
        assert alerts["tolerance_deg"] == 18.0
        assert alerts["delay_s"] == 90.0
        assert alerts["mode"] == "iso11226"


def test_rom_refuses_a_broken_settings_file_before_connecting(
    config_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _settings(config_home, "delay_s = [1, 2]\n")
    db = tmp_path / "s.sqlite3"
    code = main(["rom", "--device", "sim:rom_all?speed=0", "--test", "flexion", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err
    assert "delay_s" in err
    assert not db.exists()


def test_exercise_run_refuses_a_broken_settings_file_before_connecting(
    config_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _settings(config_home, "tolerance_deg = \n")
    db = tmp_path / "s.sqlite3"
    code = main(["exercise", "run", "bridge", "--device", "sim:ex_bridge?speed=0", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err
    assert not db.exists()


def test_exercise_run_uses_the_settings_device(
    config_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --device, the device of settings.toml is used (not 'ble:', absent on CI)."""
    _settings(config_home, 'device = "sim:ex_bridge?speed=0"\n')
    db = tmp_path / "s.sqlite3"
    code = main(["exercise", "run", "bridge", "--duration", "30", "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with SessionStore.open(db) as store:
        (info,) = store.sessions()
        assert info.device.startswith("sim:ex_bridge")
