"""Every folder created for health data is 0700; folders that existed are left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calibration.model import NOMINAL_R_BS, Calibration
from calibration.store import CalibrationStore
from host.private_dirs import make_private_dirs
from host.recording.store import SessionStore
from host.settings import Settings, save_settings


@pytest.fixture(autouse=True)
def _loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default: mkdir's parents would come out 0755
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _save_settings(target: Path) -> None:
    save_settings(Settings(), target / "settings.toml")


def _save_calibration(target: Path) -> None:
    CalibrationStore(target).save(Calibration((0.0, 0.0, 1.0), NOMINAL_R_BS, device="sim:x"))


def _open_store(target: Path) -> None:
    SessionStore.open(target / "s.sqlite3").close()


@pytest.mark.parametrize(
    "save", [make_private_dirs, _save_settings, _save_calibration, _open_store]
)
def test_created_parents_are_private_and_existing_ones_untouched(
    tmp_path: Path, save: Callable[[Path], None]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    target = shared / "a" / "b" / "c"
    save(target)
    assert target.is_dir()
    for created in (shared / "a", shared / "a" / "b", target):
        assert _mode(created) == 0o700, created
    assert _mode(shared) == 0o755  # existed before: not ours to change


def test_a_file_in_the_way_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(OSError):
        make_private_dirs(tmp_path / "f" / "sub")
