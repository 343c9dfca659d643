"""``posture record``: record a live session into the session database."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from host.commands._live import (
    EXIT_CODES_EPILOG,
    SETTINGS_EPILOG,
    add_live_arguments,
    alert_config,
    apply_settings,
    calibrate_seconds,
    check_connected,
    load_calibration,
    run_engine,
    signal_exit,
)
from host.recording.cli_args import add_db_argument

if TYPE_CHECKING:
    from host.alerts import Alert
    from host.transports.base import LinkEvent

__all__ = ["register", "run"]

_EPILOG = (
    """\
Without --calibration the first seconds calibrate "upright": sit up straight and still when
recording starts (the simulator does this by itself). Stop with Ctrl-C or SIGTERM: everything
is flushed and the session finished (the log is also committed twice per second, so even a crash
loses at most the last second). A session is created with the first sample: a run that never
connects leaves nothing behind. If the database cannot be written (disk full, locked), monitoring
and alerts go on, writes are retried for a minute, and the exit code is 1 if data was lost.

examples:
  posture record --device sim:desk_day?speed=10 --duration 600
  posture record --device ble:name=PostureSim-1A2B
  posture record --device serial:/dev/ttyACM0 --calibration cal.json --db ~/study/p07.sqlite3

Prints the session id on stdout when done; progress goes to stderr. The session stores the
alert policy and the calibration it used ('posture export ID --format jsonl' shows them).

"""
    + SETTINGS_EPILOG
    + "\n"
    + EXIT_CODES_EPILOG
)


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
    add_live_arguments(parser)
    add_db_argument(parser, create=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Record; prints the session id."""
    from host.engine import Engine, EngineConfig, EngineListener
    from host.live_view import alert_line, link_line

    settings = apply_settings(args)  # before connecting: a broken settings file is exit 2
    calibration = load_calibration(args)

    class Status(EngineListener):
        """One line on stderr per link change and alert."""

        def on_alert(self, alert: Alert) -> None:
            print(f"{alert_line(alert)}", file=sys.stderr)

        def on_link(self, event: LinkEvent) -> None:
            print(link_line(event), file=sys.stderr)

        def on_notice(self, message: str) -> None:
            print(message, file=sys.stderr)

        def on_error(self, message: str) -> None:
            print(f"error: {message}", file=sys.stderr)

    config = EngineConfig(
        device=args.device,
        calibration=calibration,
        alerts=alert_config(settings),
        record=True,
        db_path=args.db,
        haptics=settings.haptics and not args.no_haptics,
    )
    engine = Engine(config, [Status()])
    calibrate_s = calibrate_seconds(args, calibration)
    try:
        signum = run_engine(engine, args.duration, calibrate_s=calibrate_s, prompt=_say)
    finally:
        if engine.session_id is not None:
            print(
                f"recorded {engine.samples_recorded:,} samples in session {engine.session_id}",
                file=sys.stderr,
            )
    if signum is None:
        check_connected(engine, args.duration)
    code = 0
    if engine.recording_problem is not None:
        print(f"posture record: data lost: {engine.recording_problem}", file=sys.stderr)
        code = 1
    if engine.session_id is None:
        if signum is None and engine.samples_processed == 0:
            print("posture record: no samples arrived; nothing was recorded", file=sys.stderr)
            code = 1
    else:
        print(engine.session_id)
    if signum is not None:
        return signal_exit(signum)
    return code


def _say(text: str) -> None:
    print(text, file=sys.stderr)
