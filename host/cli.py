"""``posture``: the one command-line entry point.

Subcommands live in :mod:`host.commands`, one module each, discovered at start-up: a module
provides ``register(subparsers)`` which adds its parser and sets ``func`` to a callable taking
the parsed arguments and returning the exit code.

Exit codes (Glasgow's): 0 ok, 1 device or transport failure, recorded data lost or a damaged
session database (StoreError and every other PostureError), 2 usage, configuration or bad input,
3 environment (no Bluetooth, no display), 130 interrupted (Ctrl-C); the live commands also stop
cleanly on SIGTERM (143) and SIGHUP (129). README.md's legend says the same.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence

from host import commands
from host.errors import (
    BluetoothUnavailableError,
    CalibrationError,
    ConfigError,
    InputDataError,
    PostureError,
)

__all__ = [
    "EXIT_DEVICE",
    "EXIT_ENVIRONMENT",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "build_parser",
    "main",
    "package_version",
    "parse_command_line",
    "run_parsed",
]

EXIT_DEVICE = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130

_EPILOG = """\
device strings (--device):
  sim:SCENARIO[?seed=N&rate=HZ&speed=X&gyro=0]   the simulated wearer, in process
  ble:ADDRESS | ble:name=NAME | ble:              a sensor over Bluetooth LE
  serial:PORT_OR_URL                              a sensor on a serial port (or socket://...)
  replay:FILE.csv[?speed=X]                       a recording played back as if live

examples:
  posture monitor --device sim:desk_day?speed=10
  posture analyze day.csv -o flexion.csv --neutral 0:5 --forward 8:12
  posture report --from 2026-11-01 --to 2026-11-30 -o report.pdf
Run 'posture COMMAND --help' for each command's options.

exit codes:
  0 ok   1 device or transport failure (e.g. never connected), recorded data lost, or a
         damaged (unusable) session database
  2 usage, configuration or bad input (also a --db that does not exist for a reading command)
  3 environment (no Bluetooth, no display)
  130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (live commands stop cleanly and keep what was recorded)
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def package_version() -> str:
    """The installed version of Posture Companion (package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posture-companion")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _type_errors_as_usage(parser: argparse.ArgumentParser) -> None:
    """Make every ``type=`` function that raises ConfigError speak through argparse.

    argparse shows its own ``invalid parse_date value: '2026-13-01'`` (the function's name) for
    a ValueError; an ArgumentTypeError carries our message instead ("argument --from:
    '2026-13-01' is not a date; use YYYY-MM-DD").
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _type_errors_as_usage(sub)
        elif callable(action.type) and not isinstance(action.type, type):
            action.type = _speaking(action.type)


def _speaking(func: Callable[[str], object]) -> Callable[[str], object]:
    if getattr(func, "_speaks", False):
        return func

    def convert(text: str) -> object:
        try:
            return func(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = getattr(func, "__name__", "value")
    convert._speaks = True  # type: ignore[attr-defined]
    return convert


def _subcommand_action(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _defer_required_subcommands(parser: argparse.ArgumentParser) -> None:
    """Make every level's subcommand optional for argparse; parse_command_line asks for it."""
    action = _subcommand_action(parser)
    if action is None:
        return
    action.required = False
    for sub in set(action.choices.values()):
        _defer_required_subcommands(sub)


def parse_command_line(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Parse; then ask for a missing (sub)command, so unknown options are reported as such.

    With ``required=True`` argparse reports "the following arguments are required: COMMAND"
    for ``posture --bogus``; parsing first and then asking for the command gives
    "unrecognized arguments: --bogus" (and "invalid choice" for an unknown command). Shared by
    ``posture`` and ``posture-sim``; nested levels (``posture program ACTION``) too.
    """
    _defer_required_subcommands(parser)
    args = parser.parse_args(argv)
    level: argparse.ArgumentParser = parser
    while (action := _subcommand_action(level)) is not None:
        chosen = getattr(args, action.dest, None)
        if chosen is None:
            level.error(f"the following arguments are required: {action.metavar or action.dest}")
        level = action.choices[chosen]
    return args


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture Companion: live trunk-flexion monitoring, gentle alerts and "
        "therapist reports from a back-worn IMU. Local only: no account, no cloud.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None] | None = (
            getattr(module, "register", None)
        )
        if register is not None:
            register(sub)
    _type_errors_as_usage(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``posture``; returns (and, as a script, exits with) the exit code."""
    return run_parsed("posture", parse_command_line(build_parser(), argv))


# Logged by bleak on every connect when bluetoothctl is missing; harmless (it then assumes a
# current BlueZ, which ours is), so it is only shown with -vv.
_QUIET_LOGGERS = ("bleak.backends.bluezdbus.version",)


class _CliFormatter(logging.Formatter):
    """Our own warnings read like every other CLI warning (``posture: warning: …``); the rest
    (-v, -vv, and other libraries' messages) keeps level and logger name."""

    def __init__(self, prog: str) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self._prog = prog

    def format(self, record: logging.LogRecord) -> str:
        ours = record.name.split(".")[0] in ("host", "device_sim", "calibration")
        if record.levelno == logging.WARNING and ours and not record.exc_info:
            return f"{self._prog}: warning: {record.getMessage()}"
        return super().format(record)


def _setup_logging(prog: str, verbose: int) -> None:
    """stderr logging at the -v level, unless the process already configured logging."""
    root = logging.getLogger()
    if not root.handlers:  # as logging.basicConfig: an embedding program's setup stays
        handler = logging.StreamHandler()
        handler.setFormatter(_CliFormatter(prog))
        root.addHandler(handler)
        root.setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose >= 2 else logging.ERROR)


def run_parsed(
    prog: str,
    args: argparse.Namespace,
    *,
    usage_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Run a parsed command's ``func`` and map the error tree to exit codes.

    Shared by ``posture`` and ``posture-sim`` so both speak the same exit codes.

    Args:
        prog: program name for messages.
        args: parsed arguments with ``func`` and ``verbose``.
        usage_errors: further exception types that mean bad input (exit 2).
    """
    _setup_logging(prog, args.verbose)
    func: Callable[[argparse.Namespace], int] = args.func
    usage: tuple[type[Exception], ...] = (
        ConfigError, InputDataError, CalibrationError, *usage_errors
    )  # fmt: skip
    try:
        return func(args)
    except BrokenPipeError:
        # the reader went away (e.g. `posture monitor | head`): not an error of ours
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BluetoothUnavailableError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except usage as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PostureError as exc:  # transport, store and the rest: the device or its data
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_DEVICE


if __name__ == "__main__":
    sys.exit(main())
