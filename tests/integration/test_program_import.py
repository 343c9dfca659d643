"""`posture program import` is all or nothing: the program and the settings it changes are
validated first, then written; a failure leaves both files as they were."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from host.cli import main
from host.settings import load_settings

PROGRAM = """\
[program]
title = "Back, weeks 1-4"
days_per_week = 5

[alerts]
tolerance_deg = 18.0
delay_s = 90.0

[[exercise]]
name = "cat_camel"
"""
OLD_PROGRAM = PROGRAM.replace("weeks 1-4", "the old one")


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """(the file to import, where the program is stored, the settings.toml)."""
    for name in list(os.environ):
        if name.startswith("POSTURE_"):
            monkeypatch.delenv(name)
    program = tmp_path / "cfg" / "program.toml"
    monkeypatch.setenv("POSTURE_PROGRAM", str(program))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    source = tmp_path / "p.toml"
    source.write_text(PROGRAM)
    return source, program, tmp_path / "xdg" / "posture-companion" / "settings.toml"


def test_import_writes_program_and_settings(
    paths: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, program, settings = paths
    settings.parent.mkdir(parents=True)
    settings.write_text('device = "serial:/dev/ttyACM0"\n')
    monkeypatch.setenv("POSTURE_SOUND", "off")  # the environment must not end up in the file
    assert main(["program", "import", str(source)]) == 0
    assert program.read_text() == PROGRAM
    stored = load_settings(settings, env={})
    assert (stored.tolerance_deg, stored.delay_s) == (18.0, 90.0)
    assert stored.device == "serial:/dev/ttyACM0"  # kept
    assert stored.sound is True


def test_a_broken_settings_file_stops_the_import_before_anything_is_written(
    paths: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, program, settings = paths
    settings.parent.mkdir(parents=True)
    settings.write_text('tolerance_deg = "lots"\n')
    assert main(["program", "import", str(source)]) == 2
    captured = capsys.readouterr()
    assert str(settings) in captured.err
    assert "imported" not in captured.out
    assert not program.exists()
    assert settings.read_text() == 'tolerance_deg = "lots"\n'


@pytest.mark.parametrize("had_program", [False, True])
def test_a_failed_settings_write_leaves_the_program_as_it_was(
    paths: tuple[Path, Path, Path], had_program: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    source, program, settings = paths
    if had_program:
        program.parent.mkdir(parents=True)
        program.write_text(OLD_PROGRAM)
    # the settings folder is a plain file: the settings can be read (none) but not written
    settings.parent.parent.mkdir(parents=True)
    settings.parent.write_text("not a folder")
    assert main(["program", "import", str(source)]) == 2
    captured = capsys.readouterr()
    assert "settings" in captured.err
    assert "not imported" in captured.err
    assert "imported '" not in captured.out
    if had_program:
        assert program.read_text() == OLD_PROGRAM
    else:
        assert not program.exists()


def test_keep_alerts_ignores_a_broken_settings_file(
    paths: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, program, settings = paths
    settings.parent.mkdir(parents=True)
    settings.write_text("broken = \n")
    assert main(["program", "import", str(source), "--keep-alerts"]) == 0
    assert program.read_text() == PROGRAM
    assert "posture-alert settings" not in capsys.readouterr().out
