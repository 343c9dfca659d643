"""Bad and awkward input files through every command that reads a CSV recording.

analyze, import, calibrate and ``monitor --device replay:`` share host.csvio; each must exit 2
with the file's name and the reason (no traceback, no numpy warning: pytest runs with -W error),
and leave nothing behind.
"""

from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibration.synthetic import desk_motion, synthesize
from host.cli import main
from host.csvio import MIN_SAMPLES, write_csv
from host.samples import SampleBlock

RATE_HZ = 100.0


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> SampleBlock:
    t, flex, lat, head, walk, act = desk_motion(30.0, RATE_HZ, seed=5)
    return synthesize(t, flex, lat, head, walking=walk, seed=6, activity=act).samples


def _commands(path: Path, tmp: Path) -> dict[str, list[str]]:
    return {
        "analyze": ["analyze", str(path), "-o", str(tmp / "o.csv")],
        "import": ["import", str(path), "--db", str(tmp / "s.db")],
        "calibrate": ["calibrate", str(path), "--neutral", "0:1", "-o", str(tmp / "c.json")],
        "replay": ["monitor", "--device", f"replay:{path}", "--duration", "5", "--no-calibrate"],
    }


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name != "tiny.csv")


@pytest.mark.parametrize("command", ["analyze", "import", "calibrate", "replay"])
@pytest.mark.parametrize("n", [0, 1, 2, MIN_SAMPLES - 1])
def test_too_few_samples_exit_2_saying_how_many(
    day: SampleBlock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    n: int,
) -> None:
    path = tmp_path / "tiny.csv"
    if n:
        write_csv(path, day.slice(0, n))
    else:
        path.write_text("t,ax,ay,az,gx,gy,gz\n")
    assert main(_commands(path, tmp_path)[command]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    many = "no samples after the header" if n == 0 else f"only {n} sample{'s' if n > 1 else ''}"
    assert f"tiny.csv: {many}; need at least {MIN_SAMPLES}" in err
    assert _leftovers(tmp_path) == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
        ),
        max_size=MIN_SAMPLES + 2,
    ),
    gyro=st.booleans(),
)
def test_any_tiny_file_is_refused_cleanly_or_read(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[tuple[float, float]],
    gyro: bool,
) -> None:
    """Arbitrary short files (any time values, any accelerations): exit 0 or 2, never a crash."""
    path = tmp_path / "tiny.csv"
    header = "t,ax,ay,az,gx,gy,gz" if gyro else "t,ax,ay,az"
    tail = ",0.01,0,0" if gyro else ""
    path.write_text(
        header + "\n" + "".join(f"{t!r},{a!r},0.1,0.2{tail}\n" for t, a in rows),
        encoding="utf-8",
    )
    code = main(["analyze", str(path), "-o", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("posture: error: ")
        assert "tiny.csv" in err
    else:
        assert len(rows) >= MIN_SAMPLES


def test_time_in_milliseconds_is_converted_for_analyze(
    day: SampleBlock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seconds, millis = tmp_path / "s.csv", tmp_path / "ms.csv"
    write_csv(seconds, day)
    write_csv(millis, SampleBlock(day.t_s * 1000.0, day.accel_m_s2, day.gyro_rad_s))
    assert main(["analyze", str(seconds), "-o", str(tmp_path / "a.csv")]) == 0
    assert main(["analyze", str(millis), "-o", str(tmp_path / "b.csv")]) == 0
    err = capsys.readouterr().err
    assert "ms.csv: time looks like it is in milliseconds" in err
    assert "deg/s" not in err  # the gyroscope was not "converted" for the time unit's sake
    a = np.genfromtxt(tmp_path / "a.csv", delimiter=",", skip_header=1)
    b = np.genfromtxt(tmp_path / "b.csv", delimiter=",", skip_header=1)
    np.testing.assert_allclose(b[:, 3:6], a[:, 3:6], atol=1e-5)  # the same up vectors


def test_one_hz_calibration_says_the_rate_is_too_low(
    day: SampleBlock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = tmp_path / "slow.csv"
    keep = np.arange(0, len(day), int(RATE_HZ))
    assert day.gyro_rad_s is not None
    write_csv(slow, SampleBlock(day.t_s[keep], day.accel_m_s2[keep], day.gyro_rad_s[keep]))
    code = main(["calibrate", str(slow), "--neutral", "2:8", "-o", str(tmp_path / "c.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert "slow.csv: sample rate 1 Hz is too low (need ≥ 25 Hz)" in err
    assert "too short" not in err


def test_overwritten_analyze_outputs_become_private(day: SampleBlock, tmp_path: Path) -> None:
    """Health data: an existing 0644 output or alerts file is left 0600 (like export)."""
    rec = tmp_path / "day.csv"
    write_csv(rec, day)
    out, alerts = tmp_path / "pub.csv", tmp_path / "pal.json"
    for path in (out, alerts):
        path.write_text("old")
        path.chmod(0o644)
    argv = ["analyze", str(rec), "-o", str(out), "--neutral", "2:8", "--alerts", str(alerts)]
    assert main(argv) == 0
    for path in (out, alerts):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert out.read_text().startswith("t,flexion_deg")
    assert not math.isnan(float(out.read_text().splitlines()[1].split(",")[1]))
