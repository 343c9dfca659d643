"""The CSV interchange format for IMU recordings (see README, "CSV interchange format").

Header ``t,ax,ay,az,gx,gy,gz`` (gyroscope columns absent for a device without gyroscope): time in
seconds, acceleration (specific force, ≈ +9.81 m/s² up at rest) in m/s², angular rate in rad/s,
sensor frame. Extra columns are allowed and ignored on reading; ``t_s`` is accepted for ``t``.

Reading validates instead of guessing silently: a missing column, a value that is not a number,
NaN, or time that does not increase is refused with the line number; acceleration in g or angular
rate in deg/s is detected, converted and reported as a warning naming the unit.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from host.errors import InputDataError
from host.samples import SampleBlock

__all__ = ["GRAVITY_M_S2", "CsvRecording", "read_csv", "write_csv"]

GRAVITY_M_S2 = 9.80665
_ACCEL = ("ax", "ay", "az")
_GYRO = ("gx", "gy", "gz")
# Trunk motion stays far below this; a p99.9 above it means the file is in deg/s.
_MAX_PLAUSIBLE_GYRO_RAD_S = 10.0


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

    Raises:
        InputDataError: unreadable file, missing columns, non-numeric or NaN values, time not
            strictly increasing. The message names the file and the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{path}: cannot read: {exc}") from exc
    header_line, _, body = text.partition("\n")
    columns = [c.strip().lower() for c in header_line.strip().split(",")]
    if "t" not in columns and "t_s" in columns:
        columns[columns.index("t_s")] = "t"
    missing = [c for c in ("t", *_ACCEL) if c not in columns]
    if missing:
        raise InputDataError(
            f"{path}:1: header lacks column(s) {', '.join(missing)}; expected t,ax,ay,az[,gx,gy,gz]"
        )
    present_gyro = [c for c in _GYRO if c in columns]
    if present_gyro and len(present_gyro) != 3:
        raise InputDataError(f"{path}:1: header has {present_gyro} but needs all of gx,gy,gz")
    wanted = ["t", *_ACCEL, *(_GYRO if present_gyro else ())]
    use = [columns.index(c) for c in wanted]
    data = _parse(path, body, len(columns), use)
    if data.shape[0] == 0:
        raise InputDataError(f"{path}: no samples after the header")
    _check_finite(path, data, wanted)
    t = data[:, 0]
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        what = "repeats" if t[i] == t[i - 1] else "goes backwards"
        raise InputDataError(
            f"{path}:{i + 2}: time {what} ({t[i - 1]:.6f} s then {t[i]:.6f} s); "
            "timestamps must strictly increase"
        )
    accel = np.ascontiguousarray(data[:, 1:4])
    gyro = np.ascontiguousarray(data[:, 4:7]) if present_gyro else None
    warnings: list[str] = []
    norm = np.linalg.norm(accel, axis=1)
    median_norm = float(np.median(norm))
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
    if gyro is not None:
        p999 = float(np.quantile(np.abs(gyro), 0.999))
        if p999 > _MAX_PLAUSIBLE_GYRO_RAD_S:
            gyro *= math.pi / 180.0
            warnings.append(
                f"{path}: angular rate looks like it is in deg/s (99.9th percentile {p999:.0f}); "
                "converted to rad/s"
            )
    return CsvRecording(SampleBlock(np.ascontiguousarray(t), accel, gyro), warnings, path)


def _parse(path: Path, body: str, n_columns: int, use: list[int]) -> np.ndarray:
    try:
        data = np.loadtxt(io.StringIO(body), delimiter=",", usecols=use, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise InputDataError(f"{path}:{_first_bad_line(body, n_columns, use)}: {exc}") from exc
    return data


def _first_bad_line(body: str, n_columns: int, use: list[int]) -> str:
    """Find the line loadtxt choked on, to name it (slow path, only after an error)."""
    for number, line in enumerate(body.splitlines(), start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) < n_columns:
            return f"{number}: has {len(fields)} fields, header has {n_columns}; line"
        for i in use:
            try:
                float(fields[i])
            except ValueError:
                return f"{number}: field {i + 1} {fields[i]!r} is not a number; line"
    return "?"


def _check_finite(path: Path, data: np.ndarray, names: list[str]) -> None:
    bad_rows, bad_cols = np.nonzero(~np.isfinite(data))
    if bad_rows.size:
        row, col = int(bad_rows[0]), int(bad_cols[0])
        raise InputDataError(
            f"{path}:{row + 2}: column {names[col]} is {data[row, col]} "
            f"({bad_rows.size} missing values in total); fill or cut the gap first"
        )


def write_csv(path: str | Path, samples: SampleBlock) -> None:
    """Write samples in the CSV interchange format (gyro columns only when present)."""
    columns = [samples.t_s[:, None], samples.accel_m_s2]
    header = "t,ax,ay,az"
    fmt = ["%.6f", "%.5f", "%.5f", "%.5f"]
    if samples.gyro_rad_s is not None:
        columns.append(samples.gyro_rad_s)
        header += ",gx,gy,gz"
        fmt += ["%.6f", "%.6f", "%.6f"]
    table = np.hstack(columns)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(header + "\n")
        np.savetxt(out, table, fmt=fmt, delimiter=",")
