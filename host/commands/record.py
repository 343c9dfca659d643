"""``posture record``: record a live session into the session database."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from host.errors import CalibrationError, ConfigError
from host.recording.cli_args import add_db_argument

if TYPE_CHECKING:
    from host.alerts import Alert
    from host.engine import Engine
    from host.transports.base import LinkEvent

__all__ = ["register", "run"]

_EPILOG = """\
Without --calibration the first seconds calibrate "upright": sit up straight and still when
recording starts (the simulator does this by itself). Stop with Ctrl-C: everything up to the
last second is kept (the log is committed twice per second and survives a crash).

examples:
  posture record --device sim:desk_day?speed=10 --duration 600
  posture record --device ble:name=PostureSim-1A2B
  posture record --device serial:/dev/ttyACM0 --calibration cal.json --db ~/study/p07.sqlite3

Prints the session id on stdout when done; progress goes to stderr.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``record`` subcommand."""
    parser = subparsers.add_parser(
        "record",
        help="record a live session (raw samples, posture, alerts) into the log",
        description="Connect to a sensor and record until Ctrl-C or --duration: raw samples, "
        "per-second posture and every alert, calibration and connection change, in the "
        "session database. Alerts fire (and vibrate the sensor) as in 'posture monitor'.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--device",
        default=os.environ.get("POSTURE_DEVICE", "ble:"),
        help="device string (default: $POSTURE_DEVICE or 'ble:' = first sensor found)",
    )
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    cal = parser.add_mutually_exclusive_group()
    cal.add_argument("--calibration", type=Path, metavar="CAL.json", help="use this calibration")
    cal.add_argument("--no-calibrate", action="store_true", help="record without angles")
    parser.add_argument(
        "--calibrate-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="length of the upright capture at start (default 5)",
    )
    parser.add_argument("--no-haptics", action="store_true", help="do not vibrate on alerts")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Record; prints the session id."""
    from calibration.model import Calibration
    from host.engine import Engine, EngineConfig, EngineListener

    if args.duration is not None and args.duration <= 0:
        raise ConfigError(f"--duration {args.duration}: must be positive")
    calibration = None
    if args.calibration is not None:
        try:
            calibration = Calibration.load(args.calibration)
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"{args.calibration}: cannot use calibration: {exc}") from exc

    class Status(EngineListener):
        """One line on stderr per link change and alert."""

        def on_alert(self, alert: Alert) -> None:
            print(f"alert at {alert.t_s:.0f} s: {alert.reason}", file=sys.stderr)

        def on_link(self, event: LinkEvent) -> None:
            print(f"link {event.state.value} {event.detail}".rstrip(), file=sys.stderr)

    config = EngineConfig(
        device=args.device,
        calibration=calibration,
        record=True,
        db_path=args.db,
        haptics=not args.no_haptics,
    )
    engine = Engine(config, [Status()])
    try:
        asyncio.run(_main(engine, args, need_calibration=calibration is None))
    finally:
        if engine.session_id is not None:
            print(
                f"recorded {engine.samples_processed:,} samples in session {engine.session_id}",
                file=sys.stderr,
            )
    if engine.session_id is None:
        return 1
    print(engine.session_id)
    return 0


async def _main(engine: Engine, args: argparse.Namespace, *, need_calibration: bool) -> None:
    runner = asyncio.create_task(engine.run(args.duration))
    calibrator = None
    if need_calibration and not args.no_calibrate:
        calibrator = asyncio.create_task(_calibrate(engine, args.calibrate_seconds))
    try:
        await runner
    finally:
        if calibrator is not None:
            calibrator.cancel()
            await asyncio.gather(calibrator, return_exceptions=True)


async def _calibrate(engine: Engine, seconds: float) -> None:
    """Upright capture at the start; retried with the reason when the wearer moved."""
    from calibration.procedures import fit_mounting

    for attempt in range(1, 4):
        print(f"calibrating: sit upright and still for {seconds:.0f} s", file=sys.stderr)
        # no request_pose: every simulator scenario starts with 10 s upright and still anyway
        block = await engine.capture(seconds)
        try:
            calibration = fit_mounting(block, None, device=engine.config.device)
        except CalibrationError as exc:
            print(f"calibration attempt {attempt} rejected: {exc}", file=sys.stderr)
            continue
        await engine.set_calibration(calibration)
        print("calibrated: this posture is now 0°", file=sys.stderr)
        return
    print("could not calibrate; recording raw data only", file=sys.stderr)
