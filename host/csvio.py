"""The CSV interchange format for IMU recordings (see README, "CSV interchange format").

Header ``t,ax,ay,az,gx,gy,gz`` (gyroscope columns absent for a device without gyroscope): time in
seconds, acceleration (specific force, ≈ +9.81 m/s² up at rest) in m/s², angular rate in rad/s,
sensor frame. Extra columns are allowed and ignored on reading; ``t_s`` is accepted for ``t``.

Reading validates instead of guessing silently: a missing column, a value that is not a number,
NaN or infinity, or time that does not increase is refused with the line number, and so are a
file with fewer than :data:`MIN_SAMPLES` samples and a sample rate below :data:`MIN_RATE_HZ`.
Time in milliseconds, acceleration in g or angular rate in deg/s is detected, converted and
reported as a warning naming the unit; the time unit is settled first, so a wrong time unit is
never mistaken for a wrong gyroscope unit. Degrees per second
are recognised by physics rather than size: the rotation the gyroscope reports is 57 times what
the accelerometer's turning gravity vector shows (so fast hand-held motion in rad/s is not
"converted", and slow trunk motion in deg/s is).
"""

from __future__ import annotations

import io
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import numpy.typing as npt

from host.errors import InputDataError
from host.samples import SampleBlock

__all__ = [
    "GRAVITY_M_S2",
    "MIN_RATE_HZ",
    "MIN_SAMPLES",
    "CsvRecording",
    "read_csv",
    "write_csv",
    "write_csv_stream",
]

logger = logging.getLogger(__name__)

GRAVITY_M_S2 = 9.80665
# Fewer samples cannot give a sample rate worth the name (the median of 9 time steps), and no
# analysis, calibration (≥ 10 samples of stillness) or replay can use them.
MIN_SAMPLES = 10
# Trunk motion (and the simulator's lowest rate) needs at least this; orientation filters and
# the 1 s posture summaries are meaningless below it.
MIN_RATE_HZ = 25.0
_RATE_TOLERANCE = 0.98  # a sensor's clock and the µs rounding of t: 25 Hz may read 24.9
# Time in milliseconds: a median step of 1..40 (1000..25 Hz when read as ms). Steps from
# _MS_SURE_STEP on cannot be seconds of an IMU (≤ 0.67 Hz); smaller ones (1 ms = 1 kHz, or 1 Hz?)
# need the gyroscope's word: its rotation must match the accelerometer's only with t / 1000.
_MS_MAX_STEP = 40.0
_MS_SURE_STEP = 1.5
_MS_MIN_STEP = 0.9
# With t / 1000, the rotation slope (see _rotation_slope) of a file truly in ms is ≈ 1 (rad/s)
# or ≈ 0.017 (deg/s); of one truly in seconds, 1000 or 17. Between the geometric means:
_MS_SLOPES = (0.002, 4.0)
_ACCEL = ("ax", "ay", "az")
_GYRO = ("gx", "gy", "gz")
# Trunk motion stays far below this; a p99.9 above it means the file is in deg/s.
_MAX_PLAUSIBLE_GYRO_RAD_S = 10.0
_WRITE_CHUNK_ROWS = 10_000
# gyroscope unit check (see _gyro_unit_verdict)
_DIFF_SPAN_S = 0.04  # half-span of the central difference of the up vector
_UNIT_CHECK_SAMPLES = 200_000
_MIN_UNIT_CHECK_SAMPLES = 50
_MIN_UNIT_CORRELATION = 0.25
_DEG_S_SLOPE = 0.13  # geometric mean of π/180 and 1

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CsvRecording:
    """A recording read from CSV, with any unit conversions applied.

    Attributes:
        samples: the data in SI units.
        warnings: human-readable notes on what was converted.
        path: where it came from.
    """

    samples: SampleBlock
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None


def read_csv(path: str | Path) -> CsvRecording:
    """Read and validate a recording in the CSV interchange format.

    Blank lines and lines starting with ``#`` are ignored; a UTF-8 byte-order mark is accepted.

    Raises:
        InputDataError: unreadable or empty file, missing columns, non-numeric, NaN or infinite
            values, time not strictly increasing (the message names the file and the line);
            fewer than MIN_SAMPLES samples, a sample rate below MIN_RATE_HZ.
    """
    path = Path(path)
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{path}: cannot read: {exc}") from exc
    if not text.strip():
        raise InputDataError(
            f"{path} is empty; expected a header t,ax,ay,az[,gx,gy,gz] and one row per sample"
        )
    header_line, _, body = text.partition("\n")
    columns = [c.strip().lower() for c in header_line.strip().split(",")]
    if "t" not in columns and "t_s" in columns:
        columns[columns.index("t_s")] = "t"
    missing = [c for c in ("t", *_ACCEL) if c not in columns]
    if missing:
        raise InputDataError(
            f"{path}:1: header lacks column(s) {', '.join(missing)}; expected t,ax,ay,az[,gx,gy,gz]"
            + _separator_hint(header_line)
        )
    present_gyro = [c for c in _GYRO if c in columns]
    if present_gyro and len(present_gyro) != 3:
        raise InputDataError(f"{path}:1: header has {present_gyro} but needs all of gx,gy,gz")
    wanted = ["t", *_ACCEL, *(_GYRO if present_gyro else ())]
    use = [columns.index(c) for c in wanted]
    if not any(_is_data(line) for line in io.StringIO(body)):  # lazy: stops at the first row
        raise InputDataError(f"{path}: no samples after the header; need at least {MIN_SAMPLES}")
    data = _parse(path, body, len(columns), use, wanted)
    _check_finite(path, body, data, wanted)
    t = data[:, 0]
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        what = "repeats" if t[i] == t[i - 1] else "goes backwards"
        raise InputDataError(
            f"{path}:{_line_of_row(body, i)}: time {what} ({t[i - 1]:.6f} s then {t[i]:.6f} s); "
            "timestamps must strictly increase"
        )
    if len(t) < MIN_SAMPLES:
        raise InputDataError(
            f"{path}: only {len(t)} sample{'' if len(t) == 1 else 's'}; need at least {MIN_SAMPLES}"
        )
    accel = np.ascontiguousarray(data[:, 1:4])
    gyro = np.ascontiguousarray(data[:, 4:7]) if present_gyro else None
    t = np.ascontiguousarray(t)
    warnings = _fix_units(path, t, accel, gyro)
    for warning in warnings:
        logger.info("%s", warning)
    return CsvRecording(SampleBlock(t, accel, gyro), warnings, path)


def _fix_units(
    path: Path, t_s: FloatArray, accel: FloatArray, gyro: FloatArray | None
) -> list[str]:
    """Convert ms to s, g to m/s² and deg/s to rad/s in place when the data say so.

    Returns the warnings. Raises InputDataError for a sample rate below MIN_RATE_HZ or
    acceleration in no known unit.
    """
    warnings: list[str] = []
    median_norm = float(np.median(np.linalg.norm(accel, axis=1)))
    if 0.5 < median_norm < 1.5:
        accel *= GRAVITY_M_S2
        warnings.append(
            f"{path}: acceleration looks like it is in g (median |a| = {median_norm:.2f}); "
            "converted to m/s² (× 9.80665)"
        )
    elif not 5.0 < median_norm < 15.0:
        raise InputDataError(
            f"{path}: median |acceleration| is {median_norm:.3g}, neither ≈ 9.81 m/s² nor ≈ 1 g; "
            "is this accelerometer data in m/s²?"
        )
    # the time unit first: the gyroscope check measures rotation per unit of time
    time_warning = _fix_time_unit(path, t_s, accel, gyro)
    if time_warning:
        warnings.append(time_warning)
    if gyro is not None:
        verdict = _gyro_unit_verdict(t_s, accel, gyro)
        if verdict:
            gyro *= math.pi / 180.0
            warnings.append(
                f"{path}: angular rate looks like it is in deg/s ({verdict}); converted to rad/s"
            )
    return warnings


def _fix_time_unit(path: Path, t_s: FloatArray, accel: FloatArray, gyro: FloatArray | None) -> str:
    """Convert time in milliseconds to seconds in place; the warning, or "" for seconds.

    Raises:
        InputDataError: the sample rate is below MIN_RATE_HZ (and the time is not in ms).
    """
    step = float(np.median(np.diff(t_s)))
    rate_hz = 1.0 / step
    if rate_hz >= MIN_RATE_HZ * _RATE_TOLERANCE:
        return ""
    in_ms = _MS_SURE_STEP <= step <= _MS_MAX_STEP
    if not in_ms and _MS_MIN_STEP <= step < _MS_SURE_STEP and gyro is not None:
        # 1 Hz in s or 1 kHz in ms: only physics can tell (rad/s ≈ 1, deg/s ≈ 0.017 with t in
        # s; both 1000 times smaller if t, read as seconds, is really in milliseconds)
        slope = _rotation_slope(t_s / 1000.0, accel, gyro)
        in_ms = slope is not None and _MS_SLOPES[0] < slope < _MS_SLOPES[1]
    if in_ms:
        t_s /= 1000.0
        return (
            f"{path}: time looks like it is in milliseconds (median step {step:g}, "
            f"{1000.0 / step:.0f} Hz); converted to seconds (÷ 1000)"
        )
    hint = " (if t is in milliseconds, write it in seconds)" if step >= _MS_MIN_STEP else ""
    raise InputDataError(
        f"{path}: sample rate {rate_hz:.3g} Hz is too low (need ≥ {MIN_RATE_HZ:.0f} Hz): "
        f"the median time step is {step:g} s{hint}"
    )


def _rotation_slope(t_s: FloatArray, accel: FloatArray, gyro: FloatArray) -> float | None:
    """How fast gravity turns in the accelerometer per unit of gyroscope rotation.

    While the sensor rotates, the direction of gravity in the sensor frame turns as
    d(up)/dt = −ω × up. The least-squares slope of the rate measured from the accelerometer on
    the one the gyroscope predicts is ≈ 1 for rad/s and ≈ π/180 ≈ 0.017 for deg/s (on the BROAD
    trials: 0.73–1.0 vs. 0.013–0.018). Only samples with |a| within 10 % of g take part, so
    linear acceleration does not pose as rotation. None when undecided: too few such samples,
    or the two rates do not correlate (no rotation, or mostly translation).
    """
    n = len(t_s)
    k = max(1, round(_DIFF_SPAN_S / float(np.median(np.diff(t_s)))))
    # enough samples for the statistics, evenly spread, bounded cost on a day-long file
    centres = np.arange(k, n - k, max(1, (n - 2 * k) // _UNIT_CHECK_SAMPLES))
    if centres.size < _MIN_UNIT_CHECK_SAMPLES:
        return None
    norm = np.linalg.norm(accel, axis=1)
    g = float(np.median(norm))
    quiet = np.abs(norm - g) < 0.1 * g
    use = centres[quiet[centres - k] & quiet[centres] & quiet[centres + k]]
    if use.size < _MIN_UNIT_CHECK_SAMPLES:
        return None
    up = accel / norm[:, None]
    measured = (up[use + k] - up[use - k]) / (t_s[use + k] - t_s[use - k])[:, None]
    predicted = -np.cross(gyro[use], up[use])
    power = float(np.sum(predicted * predicted))
    agreement = float(np.sum(predicted * measured))
    measured_power = float(np.sum(measured * measured))
    if power <= 0 or measured_power <= 0:
        return None
    if agreement / math.sqrt(power * measured_power) < _MIN_UNIT_CORRELATION:
        return None
    return agreement / power


def _gyro_unit_verdict(t_s: FloatArray, accel: FloatArray, gyro: FloatArray) -> str:
    """Why the gyroscope columns look like deg/s, or "" if they look like rad/s.

    Primary test, independent of how fast the wearer moved: the slope of
    :func:`_rotation_slope` (≈ 1 for rad/s, ≈ 0.017 for deg/s). When it is undecided, fall back
    to magnitude: trunk motion stays far below 10 rad/s.
    """
    slope = _rotation_slope(t_s, accel, gyro)
    if slope is not None:
        if slope < _DEG_S_SLOPE:
            return f"rotation it reports is {1 / slope:.0f}x what the accelerometer shows"
        return ""
    p999 = float(np.quantile(np.abs(gyro), 0.999))
    if p999 > _MAX_PLAUSIBLE_GYRO_RAD_S:
        return f"99.9th percentile {p999:.0f}"
    return ""


def _separator_hint(header_line: str) -> str:
    """A hint when the header is split by something other than commas ("" otherwise)."""
    for separator, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if separator in header_line and "," not in header_line:
            return f" (this header is separated by {name}: columns must be separated by commas)"
    return ""


def _is_data(line: str) -> bool:
    """Whether numpy.loadtxt reads this line as a row (it skips blank and # comment lines)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _line_of_row(body: str, row: int) -> int:
    """File line number (1 = header) of data row ``row`` (slow path, only after an error)."""
    seen = -1
    for number, line in enumerate(body.splitlines(), start=2):
        if _is_data(line):
            seen += 1
            if seen == row:
                return number
    return 0


def _parse(path: Path, body: str, n_columns: int, use: list[int], names: list[str]) -> FloatArray:
    try:
        data: FloatArray = np.loadtxt(
            io.StringIO(body), delimiter=",", usecols=use, ndmin=2, dtype=np.float64
        )
    except ValueError as exc:
        raise InputDataError(_describe_bad_line(path, body, n_columns, use, names, exc)) from exc
    return data


def _describe_bad_line(
    path: Path, body: str, n_columns: int, use: list[int], names: list[str], exc: Exception
) -> str:
    """Name the line loadtxt choked on and what is wrong with it (slow path, after an error)."""
    for number, line in enumerate(body.splitlines(), start=2):
        if not _is_data(line):
            continue
        fields = line.split(",")
        if len(fields) < n_columns:
            return (
                f"{path}:{number}: has {len(fields)} fields but the header has {n_columns}: "
                f"{line.strip()[:80]!r}"
            )
        for name, i in zip(names, use, strict=True):
            try:
                float(fields[i])
            except ValueError:
                return f"{path}:{number}: column {name} is {fields[i].strip()!r}, not a number"
    return f"{path}: cannot parse: {exc}"


def _check_finite(path: Path, body: str, data: FloatArray, names: list[str]) -> None:
    bad_rows, bad_cols = np.nonzero(~np.isfinite(data))
    if bad_rows.size:
        row, col = int(bad_rows[0]), int(bad_cols[0])
        value = float(data[row, col])
        where = f"{path}:{_line_of_row(body, row)}: column {names[col]} is {value}"
        if math.isnan(value):
            raise InputDataError(
                f"{where} ({bad_rows.size} missing or infinite values in total); "
                "fill or cut the gap first"
            )
        raise InputDataError(
            f"{where}, not a finite number ({bad_rows.size} missing or infinite values in "
            "total); a sensor cannot measure that: fix or cut those rows first"
        )


def write_csv(path: str | Path, samples: SampleBlock) -> None:
    """Write samples to a file in the CSV interchange format (gyro columns only when present).

    The file is health data: it is created (or truncated and re-permissioned) readable and
    writable by the user only (0600).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
        write_csv_stream(out, samples)


def write_csv_stream(out: TextIO, samples: SampleBlock) -> None:
    """Write samples in the CSV interchange format to an open text stream (e.g. stdout).

    Time is written with µs resolution, acceleration with 1e-5 m/s², angular rate with
    1e-6 rad/s: below any sensor's noise, so a round trip loses nothing that matters.
    """
    columns = [samples.t_s[:, None], samples.accel_m_s2]
    header = "t,ax,ay,az"
    row = "%.6f,%.5f,%.5f,%.5f"
    if samples.gyro_rad_s is not None:
        columns.append(samples.gyro_rad_s)
        header += ",gx,gy,gz"
        row += ",%.6f,%.6f,%.6f"
    row += "\n"
    table = np.hstack(columns)
    out.write(header + "\n")
    # One %-format per chunk of rows is about twice as fast as np.savetxt (row by row).
    for start in range(0, len(table), _WRITE_CHUNK_ROWS):
        chunk = table[start : start + _WRITE_CHUNK_ROWS]
        out.write((row * len(chunk)) % tuple(chunk.ravel().tolist()))
