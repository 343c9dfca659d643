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
