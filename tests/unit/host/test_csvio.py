"""Tests of the CSV interchange format (host/csvio.py): round trip, validation, unit detection."""

from __future__ import annotations

import io
import math
import stat
from pathlib import Path

import numpy as np
import pytest

from host.csvio import (
    GRAVITY_M_S2,
    MIN_RATE_HZ,
    MIN_SAMPLES,
    read_csv,
    write_csv,
    write_csv_stream,
)
from host.errors import InputDataError
from host.samples import SampleBlock


def recording(
    n: int = 500, gyro: bool = True, seed: int = 0, bend_s: float = 2.0, bend_deg: float = 30.0
) -> SampleBlock:
    """A physically consistent recording at 100 Hz in SI units, nominal mounting.

    Still upright from t = 3 s, then a smooth forward bend of ``bend_deg`` over ``bend_s``
    starting at t = 4 s: the accelerometer turns as (cos θ, 0, sin θ)·g and the gyroscope
    reads θ' about sensor y (so d(up)/dt = −ω × up holds), plus sensor noise.
    """
    rng = np.random.default_rng(seed)
    t = 3.0 + np.arange(n) / 100.0
    x = np.clip((t - 4.0) / bend_s, 0, 1)
    theta = np.radians(bend_deg) * x * x * (3 - 2 * x)  # smoothstep
    theta_rate = np.radians(bend_deg) * 6 * x * (1 - x) / bend_s
    accel = GRAVITY_M_S2 * np.stack([np.cos(theta), np.zeros(n), np.sin(theta)], axis=1)
    accel += rng.normal(0, 0.02, (n, 3))
    rates = rng.normal(0, 0.005, (n, 3))
    rates[:, 1] += theta_rate
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
    ) + "".join(f"c,9.79,0,0.3,{k / 100:.2f}\n" for k in range(2, MIN_SAMPLES))
    rec = read_csv(write_text(tmp_path / "x.csv", text))
    np.testing.assert_allclose(rec.samples.t_s, np.arange(MIN_SAMPLES) / 100)
    np.testing.assert_allclose(
        rec.samples.accel_m_s2[:3], [[0.1, 0, 9.81], [0.2, 0, 9.80], [0.3, 0, 9.79]]
    )
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
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,9.8,0,0\n0.01,9.8,0,0\n", r"x\.csv:4: time repeats"),
        (
            "t,ax,ay,az\n0,9.8,0,0\n# c\n0.02,9.8,0,0\n0.01,9.8,0,0\n",
            r"x\.csv:5: time goes backwards \(0\.020000 s then 0\.010000 s\)",
        ),
        (
            "t,ax,ay,az\n" + "".join(f"{k / 100},0.001,0,0\n" for k in range(MIN_SAMPLES)),
            r"neither ≈ 9\.81 m/s² nor ≈ 1 g",
        ),
        ("", r"x\.csv is empty"),
        ("\n \n", r"x\.csv is empty"),
        ("t;ax;ay;az\n0;9.8;0;0\n", r"x\.csv:1: .*columns must be separated by commas"),
        (
            "t\tax\tay\taz\n0\t9.8\t0\t0\n",
            r"separated by tabs: columns must be separated by commas",
        ),
        (
            "t,ax,ay,az\n0,9.8,0,0\n0.01,inf,0,0\n",
            r"x\.csv:3: column ax is inf, not a finite number",
        ),
        ("t,ax,ay,az\n0,9.8,0,0\n0.01,-inf,0,0\n", r"column ax is -inf, not a finite number"),
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
    """A 90° turn in 0.2 s peaks at 12 rad/s: above any trunk rate, but the accelerometer
    confirms the rotation, so the file stays in rad/s."""
    original = recording(bend_s=0.2, bend_deg=90)
    assert original.gyro_rad_s is not None
    assert np.quantile(np.abs(original.gyro_rad_s), 0.999) > 10
    path = tmp_path / "fast.csv"
    write_csv(path, original)
    rec = read_csv(path)
    assert rec.warnings == []


def test_slow_motion_in_deg_s_is_still_detected(tmp_path: Path) -> None:
    """A 20° bend over 5 s is at most 6 °/s: small numbers, yet 57x the accelerometer's."""
    original = recording(n=1000, bend_s=5.0, bend_deg=20)
    assert original.gyro_rad_s is not None
    in_dps = np.degrees(original.gyro_rad_s)
    assert np.quantile(np.abs(in_dps), 0.999) < 10
    path = tmp_path / "slow_dps.csv"
    write_csv(path, SampleBlock(original.t_s, original.accel_m_s2, in_dps))
    rec = read_csv(path)
    assert len(rec.warnings) == 1
    assert "deg/s" in rec.warnings[0]
    assert rec.samples.gyro_rad_s is not None
    np.testing.assert_allclose(rec.samples.gyro_rad_s, original.gyro_rad_s, atol=1e-6)


def test_still_recording_in_deg_s_is_left_alone(tmp_path: Path) -> None:
    """Nothing moves: the unit cannot be told and near-zero rates are harmless either way."""
    original = recording(n=300, bend_deg=0)
    assert original.gyro_rad_s is not None
    path = tmp_path / "still.csv"
    write_csv(path, SampleBlock(original.t_s, original.accel_m_s2, original.gyro_rad_s * 57.3))
    assert read_csv(path).warnings == []


BROAD_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "broad"


@pytest.mark.skipif(not BROAD_DIR.is_dir(), reason=f"BROAD data not found at {BROAD_DIR}")
def test_gyro_unit_on_real_broad_trials(tmp_path: Path) -> None:
    """Real IMU data with optical ground truth (hand-held, up to 20 rad/s): every trial is
    recognised as rad/s, and as deg/s once converted."""
    paths = sorted(BROAD_DIR.glob("broad_*_fs95.csv"))
    assert paths
    for source in paths:
        header = source.read_text(encoding="utf-8").partition("\n")[0].split(",")
        names = ("t_s", "ax", "ay", "az", "gx", "gy", "gz")
        data = np.loadtxt(
            source, delimiter=",", skiprows=1, usecols=[header.index(c) for c in names]
        )
        block = SampleBlock(data[:, 0], data[:, 1:4], data[:, 4:7])
        path = tmp_path / source.name
        write_csv(path, block)
        assert read_csv(path).warnings == [], source.name
        assert block.gyro_rad_s is not None
        write_csv(path, SampleBlock(block.t_s, block.accel_m_s2, np.degrees(block.gyro_rad_s)))
        warnings = read_csv(path).warnings
        assert len(warnings) == 1, source.name
        assert "deg/s" in warnings[0]


def test_stream_writer_matches_the_file_writer(tmp_path: Path) -> None:
    original = recording(n=50)
    path = tmp_path / "file.csv"
    write_csv(path, original)
    buffer = io.StringIO()
    write_csv_stream(buffer, original)
    assert buffer.getvalue() == path.read_text(encoding="utf-8")
    assert buffer.getvalue().count("\n") == 51


def _rows(n: int, gyro: bool = True) -> str:
    """n well-formed rows at 100 Hz (still, upright)."""
    header = "t,ax,ay,az,gx,gy,gz\n" if gyro else "t,ax,ay,az\n"
    tail = ",0.001,0,0\n" if gyro else "\n"
    return header + "".join(f"{k / 100:.2f},9.81,0.01,0.02{tail}" for k in range(n))


@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("n", range(MIN_SAMPLES))
def test_too_few_samples_are_refused_with_the_count(tmp_path: Path, n: int, gyro: bool) -> None:
    """0..9 samples: a clear message (no numpy warning: pytest runs with -W error)."""
    path = write_text(tmp_path / "tiny.csv", _rows(n, gyro))
    if n == 0:
        match = rf"tiny\.csv: no samples after the header; need at least {MIN_SAMPLES}"
    else:
        plural = "" if n == 1 else "s"
        match = rf"tiny\.csv: only {n} sample{plural}; need at least {MIN_SAMPLES}$"
    with pytest.raises(InputDataError, match=match):
        read_csv(path)


@pytest.mark.parametrize("gyro", [True, False])
def test_the_minimum_number_of_samples_is_read(tmp_path: Path, gyro: bool) -> None:
    rec = read_csv(write_text(tmp_path / "ten.csv", _rows(MIN_SAMPLES, gyro)))
    assert len(rec.samples) == MIN_SAMPLES
    assert rec.warnings == []


def _scaled(samples: SampleBlock, t_scale: float, gyro_scale: float = 1.0) -> SampleBlock:
    gyro = None if samples.gyro_rad_s is None else samples.gyro_rad_s * gyro_scale
    return SampleBlock(samples.t_s * t_scale, samples.accel_m_s2, gyro)


@pytest.mark.parametrize("gyro", [True, False])
def test_time_in_milliseconds_is_converted_before_the_gyro_check(
    tmp_path: Path, gyro: bool
) -> None:
    """t = 3000, 3010, 3020 ... at 100 Hz: milliseconds, not a 0.1 Hz recording; and the
    gyroscope (in rad/s) is left alone although its rotation is 1000x the accelerometer's per
    unit of t as written."""
    original = recording(gyro=gyro)
    path = tmp_path / "ms.csv"
    write_csv(path, _scaled(original, 1000.0))
    rec = read_csv(path)
    assert len(rec.warnings) == 1
    assert "time looks like it is in milliseconds" in rec.warnings[0]
    assert "100 Hz" in rec.warnings[0]
    np.testing.assert_allclose(rec.samples.t_s, original.t_s, atol=1e-9)
    if gyro:
        assert rec.samples.gyro_rad_s is not None
        assert original.gyro_rad_s is not None
        np.testing.assert_allclose(rec.samples.gyro_rad_s, original.gyro_rad_s, atol=5e-7)


def test_milliseconds_and_deg_per_s_are_both_converted(tmp_path: Path) -> None:
    original = recording()
    path = tmp_path / "ms_deg.csv"
    write_csv(path, _scaled(original, 1000.0, 180.0 / math.pi))
    rec = read_csv(path)
    assert [w.split(": ")[1].split(" looks")[0] for w in rec.warnings] == ["time", "angular rate"]
    assert rec.samples.gyro_rad_s is not None
    assert original.gyro_rad_s is not None
    np.testing.assert_allclose(rec.samples.gyro_rad_s, original.gyro_rad_s, atol=1e-5)


def _khz_bend(n: int = 3000) -> SampleBlock:
    """A 1 kHz recording of a forward bend: a step of 1 ms, or 1 s if t were seconds."""
    base = recording(n=n // 10)
    t = 3.0 + np.arange(n) / 1000.0
    accel = np.stack([np.interp(t, base.t_s, base.accel_m_s2[:, i]) for i in range(3)], axis=1)
    assert base.gyro_rad_s is not None
    gyro = np.stack([np.interp(t, base.t_s, base.gyro_rad_s[:, i]) for i in range(3)], axis=1)
    return SampleBlock(t, accel, gyro)


def test_one_khz_in_milliseconds_is_told_from_one_hz_by_the_gyroscope(tmp_path: Path) -> None:
    """A median step of 1: 1 kHz in ms or 1 Hz in s. The gyroscope's rotation matches the
    accelerometer's only with t / 1000, so it is milliseconds."""
    original = _khz_bend()
    path = tmp_path / "khz.csv"
    write_csv(path, _scaled(original, 1000.0))
    rec = read_csv(path)
    assert len(rec.warnings) == 1
    assert "milliseconds" in rec.warnings[0]
    assert "1000 Hz" in rec.warnings[0]
    np.testing.assert_allclose(rec.samples.t_s, original.t_s, atol=1e-9)


def test_one_hz_is_too_low_not_too_short(tmp_path: Path) -> None:
    """A real 1 Hz recording (every 100th row of a 100 Hz one): refused for its rate, with a
    hint about milliseconds because the step alone cannot tell."""
    base = recording(n=3000)
    slow = base.slice(0, 3000)
    keep = np.arange(0, 3000, 100)
    assert slow.gyro_rad_s is not None
    one_hz = SampleBlock(slow.t_s[keep], slow.accel_m_s2[keep], slow.gyro_rad_s[keep])
    path = tmp_path / "slow.csv"
    write_csv(path, one_hz)
    with pytest.raises(
        InputDataError,
        match=rf"slow\.csv: sample rate 1 Hz is too low \(need ≥ {MIN_RATE_HZ:.0f} Hz\).*"
        "if t is in milliseconds",
    ):
        read_csv(path)


@pytest.mark.parametrize("step_s", [0.2, 0.05, 0.5])
def test_low_rates_in_seconds_are_refused(tmp_path: Path, step_s: float) -> None:
    t = np.arange(40) * step_s
    accel = np.tile([9.81, 0.0, 0.1], (40, 1))
    path = tmp_path / "low.csv"
    write_csv(path, SampleBlock(t, accel, None))
    with pytest.raises(InputDataError, match=rf"sample rate {1 / step_s:.3g} Hz is too low"):
        read_csv(path)


def test_the_lowest_rate_is_read(tmp_path: Path) -> None:
    t = np.arange(40) / MIN_RATE_HZ
    path = tmp_path / "low.csv"
    write_csv(path, SampleBlock(t, np.tile([9.81, 0.0, 0.1], (40, 1)), None))
    assert read_csv(path).warnings == []
