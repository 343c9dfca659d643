"""Options shared by the commands that run the live engine (monitor, record, ...)."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from host.errors import CalibrationError, ConfigError

if TYPE_CHECKING:
    from calibration.model import Calibration

__all__ = ["add_live_arguments", "calibrate_seconds", "load_calibration", "positive_seconds"]


def positive_seconds(text: str) -> float:
    """argparse ``type`` for durations: a finite number of seconds above 0.

    0, negative, ``nan`` and ``inf`` would silently mean "no time at all" or "never"
    (an empty recording, a calibration that never ends), so they are usage errors.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r}: use a number of seconds above 0")
    return value


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--duration``, the calibration choice and ``--no-haptics``."""
    parser.add_argument(
        "--device",
        default=os.environ.get("POSTURE_DEVICE", "ble:"),
        help="device string (default: $POSTURE_DEVICE or 'ble:' = first sensor found)",
    )
    parser.add_argument(
        "--duration", type=positive_seconds, metavar="S", help="stop after S seconds"
    )
    cal = parser.add_mutually_exclusive_group()
    cal.add_argument("--calibration", type=Path, metavar="CAL.json", help="use this calibration")
    cal.add_argument("--no-calibrate", action="store_true", help="skip the upright calibration")
    parser.add_argument(
        "--calibrate-seconds",
        type=positive_seconds,
        default=5.0,
        metavar="S",
        help="length of the upright capture at start (default 5)",
    )
    parser.add_argument("--no-haptics", action="store_true", help="do not vibrate on alerts")


def load_calibration(args: argparse.Namespace) -> Calibration | None:
    """The ``--calibration`` file, validated (None when not given).

    Raises:
        ConfigError: a non-positive ``--duration``.
        CalibrationError: the file cannot be read or is not a calibration.
    """
    if args.duration is not None and args.duration <= 0:
        raise ConfigError(f"--duration {args.duration}: must be positive")
    if args.calibration is None:
        return None
    from calibration.model import Calibration

    try:
        return Calibration.load(args.calibration)
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{args.calibration}: cannot use calibration: {exc}") from exc


def calibrate_seconds(args: argparse.Namespace, calibration: Calibration | None) -> float | None:
    """How long to capture "upright" at start, or None when no capture is wanted."""
    if calibration is not None or args.no_calibrate:
        return None
    return float(args.calibrate_seconds)
