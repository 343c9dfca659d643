"""Options shared by the commands that run the live engine (monitor, record, ...)."""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from host.errors import CalibrationError, ConfigError, ConnectError

if TYPE_CHECKING:
    from calibration.model import Calibration
    from host.alerts import AlertConfig
    from host.engine import Engine
    from host.settings import Settings

__all__ = [
    "EXIT_CODES_EPILOG",
    "SETTINGS_EPILOG",
    "add_live_arguments",
    "add_settings_argument",
    "alert_config",
    "apply_settings",
    "calibrate_seconds",
    "check_connected",
    "hold_seconds",
    "keep_refused",
    "load_calibration",
    "positive_seconds",
    "run_engine",
    "signal_exit",
    "threshold_deg",
]

# Signals that end a live command cleanly, like Ctrl-C: stop, flush, finish the session.
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)

EXIT_CODES_EPILOG = """exit codes:
  0 done (--duration reached)     1 never connected, device failure, or recorded data lost
  2 usage or configuration error  130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (stopped cleanly: the
                                      session is finished and keeps its samples)
"""


SETTINGS_EPILOG = """settings:
  The alert tolerance, delay and policy mode, the device, the database and haptics come from
  the same settings.toml the dashboard uses (in your user config directory; 'posture program
  import' writes the therapist's [alerts] there). Precedence: command-line flags > POSTURE_*
  environment variables (e.g. POSTURE_TOLERANCE_DEG=18) > settings.toml > defaults. A broken
  file or variable stops the command before connecting (exit 2) and names the file and key or
  the variable.
"""


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


def threshold_deg(text: str) -> float:
    """argparse ``type`` for ``--threshold``: a flexion angle from 0 to 90 degrees."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of degrees") from None
    if not 0.0 <= value <= 90.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: use an angle from 0 to 90 degrees")
    return value


def hold_seconds(text: str) -> float:
    """argparse ``type`` for ``--hold``: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (value >= 0.0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r}: use a number of seconds, 0 or more")
    return value


def add_settings_argument(parser: argparse.ArgumentParser) -> None:
    """``--settings FILE``: the settings TOML to use instead of the user's."""
    parser.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="settings TOML to use (default: settings.toml in the user config directory)",
    )


def apply_settings(args: argparse.Namespace) -> Settings:
    """Load the dashboard's settings for a live command and fill in what no flag gave.

    ``args.device`` (when None or absent) becomes ``$POSTURE_DEVICE``, else the settings file's
    device, else ``ble:`` (the first sensor found: the built-in default of
    :class:`~host.settings.Settings` is the dashboard's simulator, not a terminal default);
    ``args.db`` (when None) becomes the settings' ``db_path`` if one is set. Flags stay as given.
    Call it before connecting, so a broken file or variable is a usage error (exit 2) and
    nothing has started.

    Returns:
        The settings (file < environment), for the alert policy and haptics.

    Raises:
        ConfigError: the settings file or a ``POSTURE_*`` variable is invalid (naming which).
    """
    from host.settings import load_settings_sources

    settings, chosen = load_settings_sources(getattr(args, "settings", None))
    if getattr(args, "device", None) is None:
        args.device = settings.device if "device" in chosen else "ble:"
    if getattr(args, "db", None) is None and settings.db_path:
        args.db = settings.database_path()
    return settings


def alert_config(
    settings: Settings, threshold_deg: float | None = None, hold_s: float | None = None
) -> AlertConfig:
    """The alert policy: ``--threshold``/``--hold`` when given, else the settings'.

    Raises:
        ConfigError: only one of threshold and hold given.
    """
    from host.alerts import AlertConfig
    from host.settings import alert_config_from_settings

    if (threshold_deg is None) != (hold_s is None):
        raise ConfigError("--threshold and --hold go together")
    if threshold_deg is not None and hold_s is not None:
        return AlertConfig.simple(threshold_deg, hold_s)
    return alert_config_from_settings(settings)


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--settings``, ``--duration``, the calibration choice, ``--no-haptics``."""
    parser.add_argument(
        "--device",
        default=None,
        help="device string (default: $POSTURE_DEVICE, else the device in settings.toml, "
        "else 'ble:' = first sensor found)",
    )
    add_settings_argument(parser)
    parser.add_argument(
        "--duration", type=positive_seconds, metavar="S", help="stop after S seconds"
    )
    cal = parser.add_mutually_exclusive_group()
    cal.add_argument("--calibration", type=Path, metavar="CAL.json", help="use this calibration")
    cal.add_argument(
        "--no-calibrate",
        action="store_true",
        help="skip the upright calibration: no angles and no slouch alerts, only activity "
        "and link health (angles need a calibration)",
    )
    parser.add_argument(
        "--calibrate-seconds",
        type=positive_seconds,
        default=5.0,
        metavar="S",
        help="length of the upright capture at start (default 5)",
    )
    parser.add_argument(
        "--no-haptics",
        action="store_true",
        help="do not vibrate on alerts (also off when settings.toml says haptics = false)",
    )


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


def run_engine(
    engine: Engine,
    duration_s: float | None,
    *,
    calibrate_s: float | None,
    prompt: Callable[[str], None],
) -> int | None:
    """Run the engine on a fresh loop until ``duration_s``, Ctrl-C or a stop signal.

    SIGTERM and SIGHUP stop it as Ctrl-C does: the engine stops, flushes and finishes the
    session, and the caller gets the signal to report (with the same summary either way).

    Returns:
        The number of the signal that stopped it (SIGINT for Ctrl-C), or None.
    """
    received: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        installed: list[int] = []

        def on_signal(signum: int) -> None:
            if not received:
                print(f"{signal.Signals(signum).name}: stopping…", file=sys.stderr)
            received.append(signum)
            engine.stop()

        for signum in _STOP_SIGNALS:
            try:
                loop.add_signal_handler(signum, on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, not main thread
                continue
            installed.append(signum)
        try:
            await engine.run_calibrated(duration_s, calibrate_s=calibrate_s, prompt=prompt)
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # asyncio.run cancelled the engine, whose cleanup has run
        received.insert(0, signal.SIGINT)
    return received[0] if received else None


def signal_exit(signum: int) -> int:
    """Say the command was stopped by ``signum``; its conventional exit code (128 + number)."""
    if signum == signal.SIGINT:
        print("interrupted", file=sys.stderr)  # as every other command says it
    else:
        print(f"terminated ({signal.Signals(signum).name})", file=sys.stderr)
    return 128 + signum


def check_connected(engine: Engine, duration_s: float | None) -> None:
    """Raise if the engine's run never connected to the sensor.

    Raises:
        ConnectError: naming the device, how long it tried and the last error.
    """
    if engine.link.statistics().connects > 0:
        return
    during = "" if duration_s is None else f" in {duration_s:g} s"
    last = engine.link.last_error
    why = f" (last error: {last})" if last is not None else ""
    raise ConnectError(f"never connected to {engine.config.device}{during}{why}")


def keep_refused(prog: str, what: str, keep: Callable[[], Path], db: Path | None) -> int:
    """The database refused a finished session: keep it in a file with ``keep`` (which returns
    the file) and say how to store it later; returns the exit code, 1. ``what`` names it in the
    messages ("the session", "the results")."""
    try:  # what was measured must not live only on the screen
        path = keep()
    except OSError as err:
        print(f"{prog}: cannot keep {what} in a file either: {err}", file=sys.stderr)
        return 1
    print(
        f"{prog}: kept {what} in {path}; to store later, run\n"
        f"  posture exercise restore {str(path)!r}"
        + (f" --db {str(db)!r}" if db is not None else ""),
        file=sys.stderr,
    )
    return 1
