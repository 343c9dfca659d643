"""CLI stderr: our own logged warnings read like the other CLI warnings ("posture: warning:"),
and the harmless bleak BlueZ-version warning is silenced unless -vv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from host.csvio import read_csv, write_csv
from host.samples import SampleBlock


def _csv_in_g(tmp_path: Path) -> Path:
    """A simulated recording with acceleration in g: replaying it warns that it converts."""
    raw, truth = tmp_path / "raw.csv", tmp_path / "truth.csv"
    subprocess.run(
        [sys.executable, "-m", "device_sim", "generate", "upright_sitting", "--minutes", "0.2",
         "--out", str(raw), "--truth", str(truth)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    samples = read_csv(raw).samples
    in_g = tmp_path / "g.csv"
    block = SampleBlock(samples.t_s, samples.accel_m_s2 / 9.80665, samples.gyro_rad_s)
    write_csv(in_g, block)
    return in_g


def test_replay_warning_uses_the_cli_warning_format(tmp_path: Path) -> None:
    path = _csv_in_g(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "host.cli", "monitor", "--device", f"replay:{path}?speed=20",
         "--duration", "2", "--no-calibrate"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "acceleration looks like" in line]
    assert warnings, proc.stderr
    assert warnings[0].startswith("posture: warning: "), warnings[0]
    assert "WARNING host." not in proc.stderr


def test_bluez_version_warning_is_silenced_unless_very_verbose() -> None:
    code = (
        "import logging, sys; from host.cli import run_parsed; import argparse;"
        "ns = argparse.Namespace(verbose=int(sys.argv[1]), func=lambda a: "
        "logging.getLogger('bleak.backends.bluezdbus.version').warning('Could not determine "
        "BlueZ version') or logging.getLogger('bleak.other').warning('kept') or 0);"
        "sys.exit(run_parsed('posture', ns))"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code, "0"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "BlueZ version" not in quiet.stderr
    assert "WARNING bleak.other: kept" in quiet.stderr  # other libraries' warnings stay
    loud = subprocess.run(
        [sys.executable, "-c", code, "2"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Could not determine BlueZ version" in loud.stderr
