"""``posture monitor``: live posture in the terminal (no display needed)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from host.errors import ConfigError

__all__ = ["register", "run"]

_EPILOG = """\
Without --calibration the first seconds calibrate "upright": sit up straight and still when
the view starts (the simulator does this by itself). Use --no-calibrate to see raw data only.

examples:
  posture monitor --device sim:desk_day?speed=10              the simulated wearer, 10x real time
  posture monitor --device ble:name=PostureSim-1A2B --record   a BLE sensor, stored in the log
  posture monitor --device serial:/dev/ttyACM0 --duration 600 --threshold 20 --hold 30
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``monitor`` to the CLI."""
    p = sub.add_parser(
        "monitor",
        help="show live flexion, zone, activity, alert countdown and link health",
        description="Connect to a sensor and show the wearer's posture live in the terminal: "
        "trunk flexion and lateral bend relative to the calibrated upright posture, posture "
        "zone, activity, time until a slouch alert would fire, alerts, and link statistics. "
        "When the output is not a terminal, one status line per second is printed instead.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--device",
        default=os.environ.get("POSTURE_DEVICE", "ble:"),
        help="device string (default: $POSTURE_DEVICE or 'ble:' = first sensor found)",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    cal = p.add_mutually_exclusive_group()
    cal.add_argument("--calibration", type=Path, metavar="CAL.json", help="use this calibration")
    cal.add_argument("--no-calibrate", action="store_true", help="skip the upright calibration")
    p.add_argument(
        "--calibrate-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="length of the upright capture at start (default 5)",
    )
    p.add_argument("--record", action="store_true", help="store the session in the log")
    p.add_argument("--db", type=Path, metavar="PATH", help="session database (with --record)")
    p.add_argument("--threshold", type=float, metavar="DEG", help="slouch threshold (with --hold)")
    p.add_argument(
        "--hold", type=float, metavar="S", help="seconds above threshold before alerting"
    )
    p.add_argument("--no-haptics", action="store_true", help="do not vibrate the sensor on alerts")
    p.add_argument(
        "--no-replay",
        action="store_true",
        help="after a reconnect, do not ask the sensor for the samples it buffered",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the live view until Ctrl-C or ``--duration``."""
    from calibration.model import Calibration
    from host.alerts import AlertConfig
    from host.engine import Engine, EngineConfig
    from host.live_view import LiveView

    if (args.threshold is None) != (args.hold is None):
        raise ConfigError("--threshold and --hold go together")
    alerts = (
        AlertConfig() if args.threshold is None else AlertConfig.simple(args.threshold, args.hold)
    )
    calibration = None
    if args.calibration is not None:
        try:
            calibration = Calibration.load(args.calibration)
        except OSError as exc:
            raise ConfigError(f"{args.calibration}: cannot read calibration: {exc}") from exc
    config = EngineConfig(
        device=args.device,
        calibration=calibration,
        alerts=alerts,
        record=args.record,
        db_path=args.db,
        haptics=not args.no_haptics,
        replay=not args.no_replay,
    )
    engine = Engine(config)
    view = LiveView(args.device, sys.stdout, engine.link.statistics)
    engine.listeners.append(view)
    calibrate_s = None if calibration is not None or args.no_calibrate else args.calibrate_seconds
    with view:
        asyncio.run(
            engine.run_calibrated(args.duration, calibrate_s=calibrate_s, prompt=view.message)
        )
    if engine.session_id is not None:
        print(f"recorded session {engine.session_id}")
    return 0
