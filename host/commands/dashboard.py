"""``posture dashboard``: the PyQt6 window (live plot, calibration wizard, alerts, history)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from host.errors import ConfigError

__all__ = ["register", "run"]

_STARTED = time.perf_counter()

_EPILOG = """\
examples:
  posture dashboard                                   open the window, pick a sensor, Connect
  posture dashboard --device sim:desk_day?speed=5     try it with the simulated wearer
  posture dashboard --device ble:name=PostureSim-1A2B
  posture dashboard --device sim:desk_day?speed=5 --screenshot shot.png --exit-after 8
      run 8 s, save the window as a PNG and exit (works without a display)

Settings (tolerance, delay, policy, quiet hours, snooze) live in settings.toml in your user
config directory, shared with 'posture monitor' and 'posture record'. Precedence: command-line
flags (--device, --db) > POSTURE_* environment variables (e.g. POSTURE_TOLERANCE_DEG=25) >
settings.toml > defaults; a broken file or variable is exit 2 naming it. Without a display, use
'posture monitor' for a terminal view.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dashboard`` subcommand."""
    p = subparsers.add_parser(
        "dashboard",
        help="the desktop window: live plot, posture, alerts, calibration wizard, history",
        description="Open the Posture Companion window: live trunk flexion with zone bands and\n"
        "the alert threshold, current posture, today's time per zone, alerts with snooze and\n"
        "pause, a guided calibration, and the history of recorded sessions.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--device", metavar="DEV", help="connect to this sensor at start")
    p.add_argument("--settings", type=Path, metavar="FILE", help="settings TOML to use")
    p.add_argument(
        "--db", type=Path, metavar="PATH", help="session database (recording, history, exercise)"
    )
    p.add_argument(
        "--screenshot", type=Path, metavar="FILE.png", help="save the window as PNG, then exit"
    )
    p.add_argument(
        "--exit-after", type=float, metavar="S", help="close after S seconds of wall time"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open the window; exit 3 when there is no display to open it on."""
    from host.gui.app import DashboardOptions, has_display, run_dashboard

    if args.screenshot is not None and args.exit_after is None:
        raise ConfigError("--screenshot needs --exit-after S (how long to run before the shot)")
    if args.exit_after is not None and args.exit_after <= 0:
        raise ConfigError("--exit-after must be positive seconds")
    if args.screenshot is None and not has_display():
        print(
            "posture: no display (DISPLAY/WAYLAND_DISPLAY unset). Use 'posture monitor "
            "--device DEV' for a terminal view, or --screenshot FILE.png --exit-after S to "
            "render offscreen.",
            file=sys.stderr,
        )
        return 3
    if args.device is not None:
        from host.transports.base import parse_device

        parse_device(args.device)  # a bad device string is a usage error (exit 2)
    options = DashboardOptions(
        device=args.device,
        settings_path=args.settings,
        db_path=args.db,
        screenshot=args.screenshot,
        exit_after_s=args.exit_after,
    )
    return run_dashboard(options, _STARTED)
