"""``posture calibrate``: a mounting calibration from windows of a recording.

Also home of the window helpers ``posture analyze`` shares (``T0:T1`` parsing and selection).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from calibration.model import Calibration
from host.csvio import CsvRecording, read_csv
from host.errors import CalibrationError, ConfigError
from host.samples import SampleBlock

__all__ = [
    "calibration_from_windows",
    "parse_window",
    "read_recording",
    "register",
    "run",
    "select_window",
]

_DESCRIPTION = """\
Compute how the sensor sits on the wearer from two windows of a recording:

  --neutral T0:T1   seconds in which the wearer sat (or stood) upright and STILL: this posture
                    becomes 0° flexion and 0° lateral bend;
  --forward T2:T3   seconds in which the wearer held a forward bend (≥ 15°, 20–40° is best),
                    still: this fixes the front-back plane, so flexion is right however the
                    sensor was stuck on. Without it the nominal mounting is assumed
                    (sensor +x up the spine, +z out of the back; see docs/calibration.md).

A window in which the wearer moved is rejected with the reason and the numbers (exit code 2).
Every simulated recording starts with a calibration preamble: use --neutral 2:8 --forward 12:16.
The result is a versioned JSON file, readable by you only."""

_EPILOG = """\
examples:
  posture-sim generate desk_day --out day.csv --truth truth.csv --random-mount
  posture calibrate day.csv --neutral 2:8 --forward 12:16 -o cal.json
  posture analyze day.csv -o angles.csv --calibration cal.json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="compute a mounting calibration from neutral / forward-bend windows of a recording",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("recording", type=Path, metavar="RECORDING.csv", help="CSV recording")
    parser.add_argument(
        "--neutral", required=True, metavar="T0:T1", help="upright, still window (seconds)"
    )
    parser.add_argument("--forward", metavar="T2:T3", help="held forward-bend window (seconds)")
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="CAL.json", help="calibration file"
    )
    parser.add_argument(
        "--device", default="", help="device identifier to store (default: the file name)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compute and write the calibration; print a summary."""
    from calibration.store import stamp

    recording = read_recording(args.recording)
    device = args.device or args.recording.stem
    calibration = stamp(
        calibration_from_windows(recording.samples, args.neutral, args.forward, device=device)
    )
    try:
        calibration.save(args.output)
    except OSError as exc:
        raise ConfigError(f"{args.output}: cannot write: {exc}") from exc
    print(describe(calibration))
    print(f"written to {args.output}")
    return 0


def describe(calibration: Calibration) -> str:
    """A short human-readable summary."""
    up = ", ".join(f"{v:+.3f}" for v in calibration.neutral_up_sensor)
    parts = [f"calibration ({calibration.method}): neutral up in sensor frame ({up})"]
    if calibration.forward_bend_deg is not None:
        parts.append(f"forward bend {calibration.forward_bend_deg:.1f}°")
    if calibration.neutral_gyro_rms_deg_s is not None:
        parts.append(f"stillness {calibration.neutral_gyro_rms_deg_s:.2f} °/s RMS")
    if calibration.neutral_accel_std_m_s2 is not None:
        parts.append(f"{calibration.neutral_accel_std_m_s2:.3f} m/s² SD")
    return "; ".join(parts)


def read_recording(path: Path) -> CsvRecording:
    """Read a CSV recording, printing its conversion warnings to stderr."""
    recording = read_csv(path)
    for warning in recording.warnings:
        print(f"posture: warning: {warning}", file=sys.stderr)
    return recording


def parse_window(text: str, flag: str) -> tuple[float, float]:
    """Parse ``T0:T1`` (seconds).

    Raises:
        ConfigError: not two finite numbers with T0 < T1.
    """
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError(text)
        t0, t1 = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise ConfigError(
            f"{flag} {text!r}: expected T0:T1 in seconds from the start of the recording, e.g. 2:8"
        ) from exc
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise ConfigError(
            f"{flag} {text!r}: T0 and T1 must be finite numbers of seconds (not nan or inf), "
            "e.g. 2:8"
        )
    if t1 <= t0:
        raise ConfigError(f"{flag} {text!r}: the window must end after it starts (T0 < T1)")
    return t0, t1


def select_window(samples: SampleBlock, text: str, flag: str) -> SampleBlock:
    """The samples with ``T0 <= t <= T1``.

    Raises:
        ConfigError: unparseable window, window outside the recording, or fewer than 2 samples.
    """
    t0, t1 = parse_window(text, flag)
    first, last = float(samples.t_s[0]), float(samples.t_s[-1])
    if t0 < first - 1e-6 or t1 > last + 1e-6:
        raise ConfigError(
            f"{flag} {text}: window lies (partly) outside the recording, which spans "
            f"{first:.3f}–{last:.3f} s"
        )
    lo = int(np.searchsorted(samples.t_s, t0, side="left"))
    hi = int(np.searchsorted(samples.t_s, t1, side="right"))
    if hi - lo < 2:
        raise ConfigError(f"{flag} {text}: window holds {hi - lo} sample(s); make it longer")
    return samples.slice(lo, hi)


def calibration_from_windows(
    samples: SampleBlock, neutral: str, forward: str | None, *, device: str = ""
) -> Calibration:
    """Fit the mounting from ``--neutral``/``--forward`` window strings.

    Raises:
        ConfigError: a bad window.
        CalibrationError: the wearer moved, the bend is too small, ... (names the window).
    """
    from calibration.procedures import fit_mounting

    neutral_block = select_window(samples, neutral, "--neutral")
    forward_block = None if forward is None else select_window(samples, forward, "--forward")
    try:
        return fit_mounting(neutral_block, forward_block, device=device)
    except CalibrationError as exc:
        windows = f"--neutral {neutral}" + ("" if forward is None else f" --forward {forward}")
        raise CalibrationError(f"{windows}: {exc}") from exc
