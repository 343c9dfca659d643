"""Settings: defaults < TOML < env, round trip, errors naming file and line."""

from __future__ import annotations

import dataclasses
import re
import stat
from pathlib import Path

import pytest

from host.errors import ConfigError
from host.settings import (
    Settings,
    alert_config_from_settings,
    load_settings,
    load_settings_sources,
    parse_clock,
    save_settings,
)


def test_defaults_when_no_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "missing.toml", env={}) == Settings()


def test_round_trip_is_private(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.toml"
    wanted = dataclasses.replace(
        Settings(),
        device="serial:/dev/ttyACM0",
        tolerance_deg=25.5,
        delay_s=90.0,
        policy_mode="iso11226",
        quiet_start="22:00",
        quiet_end="07:30",
        snooze_min=60,
        sound=False,
        record=True,
    )
    save_settings(wanted, path)
    assert load_settings(path, env={}) == wanted
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_env_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('tolerance_deg = 30\ndevice = "sim:upright_sitting"\n')
    env = {"POSTURE_TOLERANCE_DEG": "12.5", "POSTURE_SOUND": "off"}
    settings = load_settings(path, env=env)
    assert settings.tolerance_deg == 12.5
    assert settings.device == "sim:upright_sitting"
    assert settings.sound is False


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('device = "sim:desk_day"\ntolerance_deg = = 3\n')
    with pytest.raises(ConfigError, match=r"settings\.toml.*line 2"):
        load_settings(path, env={})


def test_unreadable_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(ConfigError, match=r"settings\.toml: cannot read"):
        load_settings(path, env={})
    path.unlink()
    path.mkdir()
    with pytest.raises(ConfigError, match=r"settings\.toml: cannot read"):
        load_settings(path, env={})


def test_wrong_type_and_unknown_key_name_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('device = "sim:desk_day"\ndelay_s = "long"\n')
    with pytest.raises(ConfigError, match=r"line 2: delay_s must be a float"):
        load_settings(path, env={})
    path.write_text("colour = 3\n")
    with pytest.raises(ConfigError, match=r"line 1: unknown setting 'colour'"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    "env",
    [
        {"POSTURE_POLICY_MODE": "nag"},
        {"POSTURE_SNOOZE_MIN": "7"},
        {"POSTURE_TOLERANCE_DEG": "abc"},
        {"POSTURE_QUIET_START": "25:00", "POSTURE_QUIET_END": "07:00"},
        {"POSTURE_QUIET_START": "22:00"},
    ],
)
def test_bad_values_rejected(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "none.toml", env=env)


def test_quiet_hours_over_midnight() -> None:
    settings = dataclasses.replace(Settings(), quiet_start="22:00", quiet_end="07:00")
    assert settings.in_quiet_hours(parse_clock("23:15"))
    assert settings.in_quiet_hours(parse_clock("06:59"))
    assert not settings.in_quiet_hours(parse_clock("07:00"))
    assert not settings.in_quiet_hours(parse_clock("12:00"))
    assert not Settings().in_quiet_hours(0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"POSTURE_TOLERANCE_DEG": "500"}, "POSTURE_TOLERANCE_DEG='500'"),
        ({"POSTURE_DELAY_S": "-1"}, "POSTURE_DELAY_S='-1'"),
        ({"POSTURE_QUIET_START": "25:00", "POSTURE_QUIET_END": "07:00"}, "POSTURE_QUIET_START"),
        ({"POSTURE_QUIET_START": "22:00"}, "POSTURE_QUIET_START"),
    ],
)
def test_a_refused_variable_is_named(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_settings(tmp_path / "none.toml", env=env)


def test_quiet_hours_from_two_variables(tmp_path: Path) -> None:
    env = {"POSTURE_QUIET_START": "22:00", "POSTURE_QUIET_END": "07:00"}
    assert load_settings(tmp_path / "none.toml", env=env).quiet_end == "07:00"


def test_sources_tell_chosen_values_from_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("tolerance_deg = 18\n")
    settings, chosen = load_settings_sources(path, env={"POSTURE_DELAY_S": "90"})
    assert chosen == {"tolerance_deg", "delay_s"}
    config = alert_config_from_settings(settings)
    assert (config.tolerance_deg, config.delay_s, config.mode) == (18.0, 90.0, "threshold")
    _, chosen = load_settings_sources(tmp_path / "none.toml", env={})
    assert chosen == frozenset()
