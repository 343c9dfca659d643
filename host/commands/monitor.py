"""``posture monitor``: live posture in the terminal (no display needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from host.commands._live import (
    EXIT_CODES_EPILOG,
    SETTINGS_EPILOG,
    add_live_arguments,
    alert_config,
    apply_settings,
    calibrate_seconds,
    check_connected,
    hold_seconds,
    load_calibration,
    run_engine,
    signal_exit,
    threshold_deg,
)
from host.errors import ConfigError

__all__ = ["register", "run"]

_EPILOG = (
    """\
Without --calibration the first seconds calibrate "upright": sit up straight and still when
the view starts (the simulator does this by itself). With --no-calibrate no angles are shown
(and no slouch alert fires): only activity and link health.

examples:
  posture monitor --device sim:desk_day?speed=10              the simulated wearer, 10x real time
  posture monitor --device ble:name=PostureSim-1A2B --record   a BLE sensor, stored in the log
  posture monitor --device serial:/dev/ttyACM0 --duration 600 --threshold 20 --hold 30

Stop with Ctrl-C or SIGTERM; with --record the session is finished and keeps its samples.

"""
    + SETTINGS_EPILOG
    + "\n"
    + EXIT_CODES_EPILOG
)


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
    add_live_arguments(p)
    p.add_argument("--record", action="store_true", help="store the session in the log")
    p.add_argument("--db", type=Path, metavar="PATH", help="session database (needs --record)")
    p.add_argument(
        "--threshold",
        type=threshold_deg,
        metavar="DEG",
        help="slouch threshold (with --hold; default: the settings' tolerance_deg)",
    )
    p.add_argument(
        "--hold",
        type=hold_seconds,
        metavar="S",
        help="seconds above threshold before alerting (default: the settings' delay_s)",
    )
    p.add_argument(
        "--no-replay",
        action="store_true",
        help="after a reconnect, do not ask the sensor for the samples it buffered",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the live view until Ctrl-C or ``--duration``."""
    from host.engine import Engine, EngineConfig
    from host.live_view import LiveView

    if args.db is not None and not args.record:
        # refused rather than ignored: whoever names a database expects the session in it
        raise ConfigError("--db only matters with --record (monitor stores nothing without it)")
    settings = apply_settings(args)  # before connecting: a broken settings file is exit 2
    alerts = alert_config(settings, args.threshold, args.hold)
    calibration = load_calibration(args)
    config = EngineConfig(
        device=args.device,
        calibration=calibration,
        alerts=alerts,
        record=args.record,
        db_path=args.db,
        haptics=settings.haptics and not args.no_haptics,
        replay=not args.no_replay,
    )
    engine = Engine(config)
    view = LiveView(args.device, sys.stdout, engine.link.statistics)
    engine.listeners.append(view)
    calibrate_s = calibrate_seconds(args, calibration)
    try:
        with view:
            signum = run_engine(engine, args.duration, calibrate_s=calibrate_s, prompt=view.message)
    finally:
        if engine.session_id is not None:
            print(f"recorded session {engine.session_id} ({engine.samples_recorded:,} samples)")
    if signum is None:
        check_connected(engine, args.duration)
    code = 0
    if engine.recording_problem is not None:
        print(f"posture monitor: data lost: {engine.recording_problem}", file=sys.stderr)
        code = 1
    if signum is not None:
        return signal_exit(signum)
    return code
