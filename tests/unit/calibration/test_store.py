"""Per-device calibration store."""

from __future__ import annotations

import stat
from pathlib import Path

from calibration.model import NOMINAL_R_BS, Calibration
from calibration.store import CalibrationStore, default_directory


def test_save_and_load_per_device(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path / "cal")
    a = Calibration((1.0, 0.0, 0.0), NOMINAL_R_BS, device="ble:AA:BB:CC:DD:EE:FF")
    b = Calibration((0.0, 0.0, 1.0), NOMINAL_R_BS, device="serial:/dev/ttyACM0")
    path = store.save(a)
    store.save(b)
    loaded = store.load("ble:AA:BB:CC:DD:EE:FF")
    assert loaded is not None
    assert loaded.neutral_up_sensor == a.neutral_up_sensor
    assert loaded.created  # stamped on save
    assert store.load("serial:/dev/ttyACM0").neutral_up_sensor == (0.0, 0.0, 1.0)  # type: ignore[union-attr]
    assert store.load("unknown") is None
    assert sorted(store.devices()) == sorted([a.device, b.device])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cal").stat().st_mode) == 0o700
    assert path.parent == tmp_path / "cal"
    assert "/" not in path.name


def test_unusable_file_is_ignored(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path)
    store.file_for("dev").write_text('{"schema_version": 999}')
    assert store.load("dev") is None


def test_default_directory_is_per_user() -> None:
    assert default_directory().name == "calibrations"
    assert "posture-companion" in str(default_directory())


def test_calibrations_are_keyed_by_the_device_not_its_options(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path / "cal")
    sim = Calibration((0.0, 0.0, 1.0), NOMINAL_R_BS, device="sim:desk_day?speed=1")
    path = store.save(sim)
    again = store.load("sim:desk_day?speed=10&seed=3")
    assert again is not None
    assert again.neutral_up_sensor == (0.0, 0.0, 1.0)
    assert store.file_for("sim:desk_day") == path
    assert store.load("sim:slouching?speed=1") is None  # another scenario: another wearer
    ble = Calibration((1.0, 0.0, 0.0), NOMINAL_R_BS, device="ble:aa:bb:cc:dd:ee:ff")
    store.save(ble)
    assert store.load("ble:AA:BB:CC:DD:EE:FF") is not None  # addresses ignore case
    assert store.load("ble:name=PostureSim-1A2B") is None
    assert store.devices() == ["ble:AA:BB:CC:DD:EE:FF", "sim:desk_day"]


def test_a_calibration_stored_under_the_full_device_string_is_still_found(
    tmp_path: Path,
) -> None:
    store = CalibrationStore(tmp_path / "cal")
    old = Calibration((0.0, 1.0, 0.0), NOMINAL_R_BS, device="sim:desk_day?speed=10")
    (tmp_path / "cal").mkdir()
    old.save(store._file_named(old.device))  # where earlier versions put it
    loaded = store.load("sim:desk_day?speed=10")
    assert loaded is not None
    assert loaded.neutral_up_sensor == (0.0, 1.0, 0.0)
