"""``posture dashboard``: exit codes without a display, argument errors, screenshot mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from host.cli import main
from host.gui.app import has_display


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env.update(XDG_CONFIG_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path), **extra)
    return env


def test_has_display() -> None:
    assert not has_display({})
    assert has_display({"DISPLAY": ":0"})
    assert has_display({"QT_QPA_PLATFORM": "offscreen"})


def test_no_display_exits_3_with_advice(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "host.cli", "dashboard"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3
    assert "posture monitor" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["dashboard", "--screenshot", "x.png"],
        ["dashboard", "--exit-after", "-1"],
        ["dashboard", "--device", "bogus:thing", "--screenshot", "x.png", "--exit-after", "1"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dashboard", "--help"])
    out = capsys.readouterr().out
    assert "--screenshot" in out
    assert "examples:" in out


@pytest.mark.slow
def test_screenshot_mode_writes_png_offscreen(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "host.cli",
            "-v",
            "dashboard",
            "--device",
            "sim:upright_sitting?speed=10",
            "--screenshot",
            str(shot),
            "--exit-after",
            "2.5",
        ],
        env=_env(tmp_path),  # no DISPLAY, no QT_QPA_PLATFORM: must pick offscreen itself
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct(shot.stat().st_mode & 0o777) == "0o600"
    assert "first sample plotted" in done.stderr
    assert not (tmp_path / "posture-companion" / "settings.toml").exists()  # nothing remembered


@pytest.mark.slow
def test_db_option_records_into_that_database(tmp_path: Path) -> None:
    """Every command that touches the store takes --db (issue 6); the dashboard records too."""
    db = tmp_path / "study" / "p07.sqlite3"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "host.cli",
            "dashboard",
            "--db",
            str(db),
            "--device",
            "sim:upright_sitting?speed=10",
            "--screenshot",
            str(tmp_path / "shot.png"),
            "--exit-after",
            "2",
        ],
        env=_env(tmp_path, POSTURE_RECORD="true"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    from host.recording.store import SessionStore

    with SessionStore.open(db) as store:
        sessions = store.sessions()
    assert len(sessions) == 1
    assert sessions[0].ended_at is not None
    assert not (tmp_path / "posture-companion" / "sessions.sqlite3").exists()
