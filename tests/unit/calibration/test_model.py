"""Calibration value type: angle conventions, JSON round trip, version refusal."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.model import (
    NOMINAL_R_BS,
    SCHEMA_VERSION,
    Calibration,
    CalibrationFormatError,
)


def _up_body(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    return np.stack(
        [-np.sin(theta), np.cos(theta) * np.sin(phi), np.cos(theta) * np.cos(phi)], axis=1
    )


def _nominal() -> Calibration:
    return Calibration((1.0, 0.0, 0.0), NOMINAL_R_BS)


@given(
    st.floats(-89.0, 89.0),
    st.floats(-89.0, 89.0),
)
@settings(max_examples=200, deadline=None)
def test_angles_invert_the_convention(flexion_deg: float, lateral_deg: float) -> None:
    cal = _nominal()
    up_b = _up_body(np.radians([flexion_deg]), np.radians([lateral_deg]))
    up_s = up_b @ cal.r_bs  # R_bsᵀ · up_b
    flex, lat = cal.angles(up_s)
    assert flex[0] == pytest.approx(flexion_deg, abs=1e-9)
    assert lat[0] == pytest.approx(lateral_deg, abs=1e-9)


def test_nominal_mounting_signs() -> None:
    cal = _nominal()
    # upright: accelerometer +x up
    flex, lat = cal.angles(np.array([[1.0, 0.0, 0.0]]))
    assert (flex[0], lat[0]) == (pytest.approx(0.0), pytest.approx(0.0))
    # bent forward 90°: the back (sensor +z, out of the back) faces up
    flex, _ = cal.angles(np.array([[0.0, 0.0, 1.0]]))
    assert flex[0] == pytest.approx(90.0)
    # bent to the right: gravity's opposite tilts towards the wearer's left (+y sensor)
    _, lat = cal.angles(np.array([[np.cos(0.2), np.sin(0.2), 0.0]]))
    assert lat[0] == pytest.approx(np.degrees(0.2))


def test_small_and_large_blocks_give_identical_angles() -> None:
    rng = np.random.default_rng(0)
    up = rng.normal(size=(100, 3))
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    cal = Calibration((0.0, 0.0, 1.0), ((0.6, 0.0, 0.8), (0.0, 1.0, 0.0), (-0.8, 0.0, 0.6)))
    whole = cal.angles(up)
    pieces = [cal.angles(up[i : i + 3]) for i in range(0, 100, 3)]
    assert np.array_equal(whole[0], np.concatenate([p[0] for p in pieces]))
    assert np.array_equal(whole[1], np.concatenate([p[1] for p in pieces]))


def test_json_round_trip(tmp_path: Path) -> None:
    cal = Calibration(
        (0.9, 0.1, 0.4123105625617661),
        NOMINAL_R_BS,
        device="sim:desk_day",
        created="2026-11-30T18:00:00+00:00",
        method="neutral+forward",
        accel_offset_m_s2=(0.1, -0.05, 0.02),
        accel_scale=(1.01, 0.99, 1.0),
        gyro_bias_rad_s=(0.001, 0.002, -0.003),
        neutral_gyro_rms_deg_s=0.4,
        neutral_accel_std_m_s2=0.03,
        forward_bend_deg=34.0,
    )
    assert Calibration.from_dict(cal.to_dict()) == cal
    assert cal.to_dict()["schema_version"] == SCHEMA_VERSION
    path = tmp_path / "cal.json"
    cal.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Calibration.load(path) == cal


def test_unknown_version_is_refused_with_advice() -> None:
    data = _nominal().to_dict()
    data["schema_version"] = 99
    with pytest.raises(CalibrationFormatError, match=r"schema_version 99.*posture calibrate"):
        Calibration.from_dict(data)
    del data["schema_version"]
    with pytest.raises(CalibrationFormatError, match="schema_version None"):
        Calibration.from_dict(data)


def test_malformed_content_is_refused(tmp_path: Path) -> None:
    data = _nominal().to_dict()
    data["r_body_sensor"] = [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    with pytest.raises(CalibrationFormatError, match="rotation"):
        Calibration.from_dict(data)
    data = _nominal().to_dict()
    del data["neutral_up_sensor"]
    with pytest.raises(CalibrationFormatError, match="malformed"):
        Calibration.from_dict(data)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CalibrationFormatError, match="not a JSON"):
        Calibration.load(bad)
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(CalibrationFormatError):
        Calibration.load(bad)


def test_failed_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "cal.json"
    target.mkdir()  # cannot be replaced by a file
    with pytest.raises(OSError):
        _nominal().save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.json"]


def test_binary_file_is_a_format_error_not_a_decode_crash(tmp_path: Path) -> None:
    bad = tmp_path / "cal.json"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CalibrationFormatError, match="not UTF-8"):
        Calibration.load(bad)


def test_load_messages_leave_the_path_to_the_caller(tmp_path: Path) -> None:
    bad = tmp_path / "cal.json"
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(CalibrationFormatError) as info:
        Calibration.load(bad)
    assert "cal.json" not in str(info.value)


def test_missing_field_is_named() -> None:
    data = _nominal().to_dict()
    del data["r_body_sensor"]
    with pytest.raises(CalibrationFormatError, match="no field 'r_body_sensor'"):
        Calibration.from_dict(data)


def test_sensor_corrections() -> None:
    cal = Calibration(
        (1.0, 0.0, 0.0),
        NOMINAL_R_BS,
        accel_offset_m_s2=(0.1, 0.2, 0.3),
        accel_scale=(2.0, 1.0, 0.5),
        gyro_bias_rad_s=(0.01, 0.0, 0.0),
    )
    acc = np.array([[2.1, 1.2, 0.8]])
    np.testing.assert_allclose(cal.correct_accel(acc), [[1.0, 1.0, 1.0]])
    np.testing.assert_allclose(cal.correct_gyro(np.array([[0.01, 0.0, 0.0]])), [[0.0, 0.0, 0.0]])
    plain = _nominal()
    assert plain.correct_accel(acc) is acc


def test_small_block_path_clips_and_keeps_nan_like_the_vectorised_one() -> None:
    cal = Calibration((0.0, 0.0, 1.0), ((0.6, 0.0, 0.8), (0.0, 1.0, 0.0), (-0.8, 0.0, 0.6)))
    rng = np.random.default_rng(3)
    up = rng.normal(size=(40, 3))
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    up[5] = (-0.6 * 1.0000001, 0.0, -0.8 * 1.0000001)  # rotates to a sine just above 1: clipped
    up[7] = (np.nan, 0.0, 1.0)
    whole = cal.angles(up)
    assert whole[0][5] == 90.0
    assert np.isnan(whole[0][7])
    for size in (1, 2, 5, 16):
        pieces = [cal.angles(up[i : i + size]) for i in range(0, 40, size)]
        for k in (0, 1):
            assert np.array_equal(whole[k], np.concatenate([p[k] for p in pieces]), equal_nan=True)
    empty = cal.angles(np.zeros((0, 3)))
    assert empty[0].shape == empty[1].shape == (0,)


@pytest.mark.parametrize(
    ("offset", "scale"),
    [((0.1, -0.2, 0.3), (1.01, 0.99, 1.0)), (None, (1.01, 0.99, 1.0)), ((0.1, 0.2, 0.3), None)],
)
def test_corrections_are_the_documented_formula_exactly(
    offset: tuple[float, float, float] | None, scale: tuple[float, float, float] | None
) -> None:
    cal = Calibration(
        (1.0, 0.0, 0.0),
        NOMINAL_R_BS,
        accel_offset_m_s2=offset,
        accel_scale=scale,
        gyro_bias_rad_s=(0.01, -0.02, 0.003),
    )
    rng = np.random.default_rng(4)
    acc = rng.normal(size=(7, 3))
    gyr = rng.normal(size=(7, 3))
    expected = (acc - np.array(offset or (0.0, 0.0, 0.0))) / np.array(scale or (1.0, 1.0, 1.0))
    assert np.array_equal(cal.correct_accel(acc), expected)
    assert np.array_equal(cal.correct_gyro(gyr), gyr - np.array([0.01, -0.02, 0.003]))
    assert cal.has_sensor_corrections
    assert not _nominal().has_sensor_corrections
    # derived caches never reach the file format
    assert set(cal.to_dict()) == set(_nominal().to_dict())
    assert not any(key.startswith("_") for key in cal.to_dict())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("r_body_sensor", [[0, 0, -1], [0, 1, 0]], r"r_body_sensor must be a 3x3 matrix"),
        ("r_body_sensor", [[0, 0], [0, 1, 0], [1, 0, 0]], r"r_body_sensor must be a 3x3 matrix"),
        ("r_body_sensor", "identity", r"r_body_sensor must be a 3x3 matrix.*not 'identity'"),
        ("neutral_up_sensor", [1, 0], r"neutral_up_sensor must be a list of 3 finite numbers"),
        ("neutral_up_sensor", None, r"neutral_up_sensor must be a list of 3 finite numbers"),
        ("accel_scale", [1, "x", 1], r"accel_scale must be a list of 3 finite numbers or null"),
        ("forward_bend_deg", "lots", r"forward_bend_deg must be a number or null, not 'lots'"),
    ],
)
def test_a_malformed_field_is_named_with_its_shape(name: str, value: object, message: str) -> None:
    data = _nominal().to_dict()
    data[name] = value
    with pytest.raises(CalibrationFormatError, match=rf"^malformed calibration: {message}") as info:
        Calibration.from_dict(data)
    assert "Error(" not in str(info.value)  # no exception repr leaking into the message
