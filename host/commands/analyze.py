"""``posture analyze``: trunk angles (and optionally alerts) for every sample of a recording."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from host.commands._live import hold_seconds, threshold_deg
from host.commands.calibrate import calibration_from_windows, read_recording
from host.errors import ConfigError
from host.recording.cli_args import open_private
from host.samples import SampleBlock

if TYPE_CHECKING:
    from calibration.model import Calibration
    from host.analysis import Analysis

__all__ = ["HEADER", "register", "run", "write_analysis"]

HEADER = "t,flexion_deg,lateral_deg,up_x,up_y,up_z,confidence,rest"
_FORMAT = "%.6f,%.4f,%.4f,%.7f,%.7f,%.7f,%.4f,%d"
_ROWS_PER_CHUNK = 50_000
_PROGRESS_ROWS = 500_000  # show a progress bar from this size on (when stderr is a terminal)

_DESCRIPTION = """\
Estimate the trunk angles for every sample of a recording (CSV interchange format, gyroscope
columns optional: without them the accelerometer-only mode is used).

OUT.csv has one row per input row:
  t             time, s (as in the input)
  flexion_deg   forward flexion relative to the calibrated neutral posture, degrees
  lateral_deg   lateral bend, positive to the wearer's right, degrees
  up_x,up_y,up_z  estimated unit vector opposite gravity, sensor frame
  confidence    0..1 (1 with gyroscope; lower while moving without one)
  rest          1 where the sensor is at rest
flexion_deg and lateral_deg are empty without a calibration (--calibration or --neutral).

Without --offline the output is exactly what the live pipeline (posture monitor, the dashboard)
would have shown sample by sample. --offline uses non-causal smoothing instead: more accurate,
but not what was seen live.

--alerts also writes the alerts the live engine would have raised (needs a calibration):
default policy, or with --threshold DEG --hold S simply "flexion above DEG for longer than S
seconds" without rate limits."""

_EPILOG = """\
examples:
  posture analyze day.csv -o angles.csv --neutral 2:8 --forward 12:16
  posture analyze day.csv -o angles.csv --calibration cal.json --offline
  posture analyze day.csv -o angles.csv --neutral 2:8 --forward 12:16 \\
      --alerts alerts.json --threshold 20 --hold 30
  posture analyze raw.csv -o up.csv            (no calibration: up vectors only)
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``analyze`` subcommand."""
    parser = subparsers.add_parser(
        "analyze",
        help="trunk flexion / lateral bend for every sample of a CSV recording",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("recording", type=Path, metavar="RECORDING.csv", help="CSV recording")
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="OUT.csv", help="output CSV"
    )
    cal = parser.add_argument_group("calibration (one of)")
    cal.add_argument("--calibration", type=Path, metavar="CAL.json", help="calibration file")
    cal.add_argument("--neutral", metavar="T0:T1", help="upright, still window (seconds)")
    cal.add_argument("--forward", metavar="T2:T3", help="held forward-bend window (seconds)")
    parser.add_argument(
        "--offline", action="store_true", help="non-causal re-analysis (not what live showed)"
    )
    alerts = parser.add_argument_group("alerts")
    alerts.add_argument("--alerts", type=Path, metavar="ALERTS.json", help="write alerts here")
    alerts.add_argument(
        "--threshold", type=threshold_deg, metavar="DEG", help="simple rule: angle (0-90)"
    )
    alerts.add_argument(
        "--hold", type=hold_seconds, metavar="S", help="simple rule: seconds above it"
    )
    parser.set_defaults(func=run)


def _calibration(args: argparse.Namespace, recording_samples: SampleBlock) -> Calibration | None:
    from calibration.model import Calibration, CalibrationFormatError

    if args.calibration is not None and (args.neutral or args.forward):
        raise ConfigError("use either --calibration or --neutral/--forward, not both")
    if args.forward and not args.neutral:
        raise ConfigError("--forward needs --neutral too (e.g. --neutral 2:8 --forward 12:16)")
    if args.calibration is not None:
        try:
            return Calibration.load(args.calibration)
        except OSError as exc:
            raise ConfigError(f"{args.calibration}: cannot read calibration: {exc}") from exc
        except CalibrationFormatError as exc:
            raise ConfigError(f"{args.calibration}: {exc}") from exc
    if args.neutral:
        return calibration_from_windows(
            recording_samples,
            args.neutral,
            args.forward,
            device=args.recording.stem,
        )
    return None


def run(args: argparse.Namespace) -> int:
    """Analyse the recording and write the output file(s)."""
    from calibration.procedures import is_stale
    from host.analysis import analyze

    if (args.threshold is None) != (args.hold is None):
        raise ConfigError("--threshold and --hold go together (e.g. --threshold 20 --hold 30)")
    if args.threshold is not None and args.alerts is None:
        raise ConfigError("--threshold/--hold only apply with --alerts ALERTS.json")
    recording = read_recording(args.recording)
    samples = recording.samples
    calibration = _calibration(args, samples)
    if args.alerts is not None and calibration is None:
        raise ConfigError("--alerts needs a calibration: add --calibration or --neutral/--forward")
    if calibration is not None and args.calibration is not None:
        warning = is_stale(calibration, samples)
        if warning:
            print(f"posture: warning: {warning}", file=sys.stderr)
    analysis = analyze(samples, calibration, offline=args.offline)
    write_analysis(args.output, analysis)
    if args.alerts is not None:
        count = _write_alerts(args, samples, analysis)
        print(f"{count} alert(s) written to {args.alerts}")
    print(f"{len(analysis)} rows written to {args.output}")
    return 0


def _write_alerts(args: argparse.Namespace, samples: SampleBlock, analysis: Analysis) -> int:
    """Run the alert engine over the recording (issue 5's offline contract)."""
    from host.alerts import AlertConfig, evaluate_recording

    if args.threshold is not None:
        config = AlertConfig.simple(args.threshold, args.hold)
    else:
        config = AlertConfig()
    alerts = evaluate_recording(samples, analysis, config)
    with _private_file(args.alerts) as out:
        json.dump([a.to_dict() for a in alerts], out, indent=2)
        out.write("\n")
    return len(alerts)


def _private_file(path: Path) -> io.TextIOWrapper:
    """Open ``path`` for writing, readable by the user only (health data)."""
    fd = open_private(path)  # 0600 even when it existed with a looser mode
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def write_analysis(path: Path, analysis: Analysis) -> None:
    """Write the OUT.csv format (see the command description); empty angles where NaN."""
    o = analysis.orientation
    n = len(analysis)
    table = np.empty((n, 8))
    table[:, 0] = o.t_s
    table[:, 1] = analysis.flexion_deg
    table[:, 2] = analysis.lateral_deg
    table[:, 3:6] = o.up_sensor
    table[:, 6] = o.confidence
    table[:, 7] = o.rest
    show = n >= _PROGRESS_ROWS and sys.stderr.isatty()
    with _private_file(path) as out:
        out.write(HEADER + "\n")
        if show:
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task(f"writing {path.name}", total=n)
                for start in range(0, n, _ROWS_PER_CHUNK):
                    _write_rows(out, table[start : start + _ROWS_PER_CHUNK])
                    progress.advance(task, min(_ROWS_PER_CHUNK, n - start))
        else:
            for start in range(0, n, _ROWS_PER_CHUNK):
                _write_rows(out, table[start : start + _ROWS_PER_CHUNK])


def _write_rows(out: io.TextIOWrapper, rows: np.ndarray) -> None:
    buffer = io.StringIO()
    np.savetxt(buffer, rows, fmt=_FORMAT)
    # only the angle columns can be NaN (no calibration): the contract wants them empty
    out.write(buffer.getvalue().replace(",nan", ","))
