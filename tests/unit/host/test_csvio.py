"""Tests of the CSV interchange format (host/csvio.py): round trip, validation, unit detection."""

from __future__ import annotations

import io
import math
import stat
from pathlib import Path

import numpy as np
import pytest

from host.csvio import GRAVITY_M_S2, read_csv, write_csv, write_csv_stream
from host.errors import InputDataError
from host.samples import SampleBlock


def recording(n: int = 500, gyro: bool = True, seed: int = 0) -> SampleBlock:
    """A plausible still-then-bending recording at 100 Hz, SI units."""
    rng = np.random.default_rng(seed)
    t = 3.0 + np.arange(n) / 100.0
    theta = np.radians(30) * np.clip((t - 4.0) / 2.0, 0, 1)
    accel = GRAVITY_M_S2 * np.stack([np.cos(theta), np.zeros(n), np.sin(theta)], axis=1)
    accel += rng.normal(0, 0.02, (n, 3))
    rates = rng.normal(0, 0.01, (n, 3)) + np.array([0, 0.26, 0]) * ((t > 4) & (t < 6))[:, None]
    return SampleBlock(t, accel, rates if gyro else None)


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_with_gyro(tmp_path: Path) -> None:
    original = recording()
    path = tmp_path / "day.csv"
    write_csv(path, original)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "t,ax,ay,az,gx,gy,gz"
    rec = read_csv(path)
    assert rec.warnings == []
    assert rec.path == path
    np.testing.assert_allclose(rec.samples.t_s, original.t_s, atol=5e-7)
    np.testing.assert_allclose(rec.samples.accel_m_s2, original.accel_m_s2, atol=5e-6)
    assert rec.samples.gyro_rad_s is not None
    assert original.gyro_rad_s is not None
    np.testing.assert_allclose(rec.samples.gyro_rad_s, original.gyro_rad_s, atol=5e-7)


def test_round_trip_without_gyro(tmp_path: Path) -> None:
    original = recording(gyro=False)
    path = tmp_path / "accel_only.csv"
    write_csv(path, original)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "t,ax,ay,az"
    rec = read_csv(path)
    assert rec.samples.gyro_rad_s is None
    np.testing.assert_allclose(rec.samples.accel_m_s2, original.accel_m_s2, atol=5e-6)


def test_written_file_is_private_even_when_it_existed(tmp_path: Path) -> None:
    path = tmp_path / "health.csv"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    write_csv(path, recording(n=10))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_written_chunks_join_correctly(tmp_path: Path) -> None:
    """More rows than one write chunk: no row lost or doubled at the seams."""
    original = recording(n=25_003)
    path = tmp_path / "long.csv"
    write_csv(path, original)
    rec = read_csv(path)
    assert len(rec.samples) == 25_003
    np.testing.assert_allclose(rec.samples.t_s, original.t_s, atol=5e-7)


def test_extra_columns_order_bom_comments_and_t_s(tmp_path: Path) -> None:
    text = (
        "\ufeffnote,AZ,ay,ax,t_s\n"
        "# exported by some logger\n"
        "a,9.81,0,0.1,0.00\n"
        "\n"
        "b,9.80,0,0.2,0.01\n"
    )
    rec = read_csv(write_text(tmp_path / "x.csv", text))
    np.testing.assert_allclose(rec.samples.t_s, [0.0, 0.01])
    np.testing.assert_allclose(rec.samples.accel_m_s2, [[0.1, 0, 9.81], [0.2, 0, 9.80]])
    assert rec.samples.gyro_rad_s is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("t,ax,ay\n0,9.8,0\n", r"x\.csv:1: header lacks column\(s\) az"),
        ("time,ax,ay,az\n0,9.8,0,0\n", r"x\.csv:1: header lacks column\(s\) t\b"),
        ("t,ax,ay,az,gx,gy\n0,9.8,0,0,0,0\n", r"x\.csv:1: .*needs all of gx,gy,gz"),
        ("t,ax,ay,az\n", r"no samples"),
        ("t,ax,ay,az\n\n# nothing\n", r"no samples"),
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,9.8,zero,0\n", r"x\.csv:3: column ay is 'zero'"),
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,9.8,,0\n", r"x\.csv:3: column ay is ''"),
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,9.8\n", r"x\.csv:3: has 2 fields but the header has 4"),
        ("t,ax,ay,az\n0,9.8,0,0\n\n0.01,9.8,nan,0\n", r"x\.csv:4: column ay is nan"),
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,inf,0,0\n", r"x\.csv:3: column ax is inf"),
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,9.8,0,0\n0.01,9.8,0,0\n", r"x\.csv:4: time repeats"),
        (
            "t,ax,ay,az\n0,9.8,0,0\n# c\n0.02,9.8,0,0\n0.01,9.8,0,0\n",
            r"x\.csv:5: time goes backwards \(0\.020000 s then 0\.010000 s\)",
        ),
        ("t,ax,ay,az\n0,0.001,0,0\n0.01,0.001,0,0\n", r"neither ≈ 9\.81 m/s² nor ≈ 1 g"),
    ],
)
def test_bad_files_are_refused_naming_the_line(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(InputDataError, match=match):
        read_csv(write_text(tmp_path / "x.csv", text))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="cannot read"):
        read_csv(tmp_path / "missing.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00t,ax")
    with pytest.raises(InputDataError, match="cannot read"):
        read_csv(tmp_path / "binary.csv")


def test_g_units_are_detected_and_converted(tmp_path: Path) -> None:
    original = recording()
    in_g = SampleBlock(original.t_s, original.accel_m_s2 / GRAVITY_M_S2, original.gyro_rad_s)
    path = tmp_path / "g.csv"
    write_csv(path, in_g)
    rec = read_csv(path)
    assert len(rec.warnings) == 1
    assert "in g" in rec.warnings[0]
    assert "g.csv" in rec.warnings[0]
    np.testing.assert_allclose(rec.samples.accel_m_s2, original.accel_m_s2, atol=1e-4)


def test_deg_per_s_is_detected_and_converted(tmp_path: Path) -> None:
    original = recording()
    assert original.gyro_rad_s is not None
    in_dps = SampleBlock(original.t_s, original.accel_m_s2, np.degrees(original.gyro_rad_s))
    path = tmp_path / "dps.csv"
    write_csv(path, in_dps)
    rec = read_csv(path)
    assert len(rec.warnings) == 1
    assert "deg/s" in rec.warnings[0]
    assert rec.samples.gyro_rad_s is not None
    np.testing.assert_allclose(rec.samples.gyro_rad_s, original.gyro_rad_s, atol=1e-6)


def test_both_units_wrong_gives_two_warnings(tmp_path: Path) -> None:
    original = recording()
    assert original.gyro_rad_s is not None
    path = tmp_path / "both.csv"
    write_csv(
        path,
        SampleBlock(
            original.t_s, original.accel_m_s2 / GRAVITY_M_S2, original.gyro_rad_s * 180 / math.pi
        ),
    )
    rec = read_csv(path)
    assert len(rec.warnings) == 2


def test_fast_rad_s_motion_is_not_mistaken_for_deg_s(tmp_path: Path) -> None:
    """A quick bend at 3 rad/s (170 °/s) is plausible trunk motion and stays as it is."""
    original = recording()
    assert original.gyro_rad_s is not None
    gyro = original.gyro_rad_s.copy()
    gyro[100:160, 1] = 3.0
    path = tmp_path / "fast.csv"
    write_csv(path, SampleBlock(original.t_s, original.accel_m_s2, gyro))
    rec = read_csv(path)
    assert rec.warnings == []
    assert rec.samples.gyro_rad_s is not None
    assert rec.samples.gyro_rad_s[120, 1] == pytest.approx(3.0)


def test_stream_writer_matches_the_file_writer(tmp_path: Path) -> None:
    original = recording(n=50)
    path = tmp_path / "file.csv"
    write_csv(path, original)
    buffer = io.StringIO()
    write_csv_stream(buffer, original)
    assert buffer.getvalue() == path.read_text(encoding="utf-8")
    assert buffer.getvalue().count("\n") == 51
