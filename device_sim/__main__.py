"""``posture-sim``: generate simulated recordings with ground truth, list scenarios, serve.

Exit codes: 0 ok, 2 bad arguments or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from device_sim.generate import generate
from device_sim.imu_model import ErrorModel
from device_sim.motion import SCENARIOS
from device_sim.truth import private_file, write_truth_csv, write_truth_json
from host.cli import package_version
from host.csvio import write_csv

__all__ = ["build_parser", "main"]


_EPILOG = """\
examples:
  posture-sim scenarios
  posture-sim generate desk_day --out day.csv --truth truth.csv
  posture-sim generate slouching --minutes 20 --seed 7 --random-mount --out s.csv --truth st.csv
  posture-sim generate walking --no-gyro --rate 50 --minutes 5 --out w.csv --truth w_truth.csv
  posture analyze day.csv -o flexion.csv --neutral 2:8 --forward 12:16

Every scenario starts with the same calibration preamble: 0-10 s upright still, 10-12 s bend
forward to 35°, 12-16 s hold, 16-18 s back upright; so --neutral 2:8 --forward 12:16 calibrates
any generated file. The truth CSV (t,flexion_deg,lateral_deg,rotation_deg,up_x,up_y,up_z,
activity,slouch) has one row per data row; TRUTH.json next to it holds the mounting, seed,
error model and the slouch episodes. Files are created readable by you only (0600).
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The ``posture-sim`` parser (with ``serve`` when the link faces are installed)."""
    parser = argparse.ArgumentParser(
        prog="posture-sim",
        description="Simulated wearer of the posture sensor: seeded scenarios with ground "
        "truth, written as CSV recordings or served as a live sensor.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gen = sub.add_parser(
        "generate",
        help="write a simulated recording (CSV interchange format) and its ground truth",
        description="Generate SCENARIO as a CSV recording (t,ax,ay,az[,gx,gy,gz]; s, m/s², "
        "rad/s, sensor frame) plus a row-aligned truth CSV and a JSON sidecar.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    gen.add_argument("scenario", metavar="SCENARIO", help="see 'posture-sim scenarios'")
    gen.add_argument("--out", required=True, type=Path, help="recording CSV to write")
    gen.add_argument("--truth", required=True, type=Path, help="truth CSV (JSON sidecar beside)")
    gen.add_argument("--seed", type=int, default=0, help="same seed, same data (default 0)")
    gen.add_argument("--rate", type=int, default=100, help="sample rate, 25-1000 Hz (100)")
    gen.add_argument("--minutes", type=float, help="length (default: the scenario's own)")
    gen.add_argument("--no-gyro", action="store_true", help="accelerometer-only device")
    gen.add_argument("--random-mount", action="store_true", help="seeded random mounting")
    gen.add_argument("--ideal", action="store_true", help="perfect sensor: no noise or errors")
    gen.set_defaults(func=_run_generate)

    lst = sub.add_parser(
        "scenarios",
        help="list the scenarios with one-line descriptions",
        description="List the simulated scenarios and their default lengths.",
        epilog="example:\n  posture-sim scenarios",
        formatter_class=_Formatter,
    )
    lst.set_defaults(func=_run_scenarios)

    if importlib.util.find_spec("device_sim.serve"):
        # the BLE/serial/TCP faces (links engineer's module)
        serve = importlib.import_module("device_sim.serve")
        serve.register(sub)
    return parser


def _run_scenarios(args: argparse.Namespace) -> int:
    width = max(len(name) for name in SCENARIOS)
    for scenario in SCENARIOS.values():
        minutes = scenario.default_minutes
        length = f"{minutes / 60:g} h" if minutes >= 60 else f"{minutes:g} min"
        print(f"{scenario.name:<{width}}  {length:>7}  {scenario.description}")
    return 0


class _Progress:
    """A rich progress bar on stderr for long jobs (a no-op for short ones)."""

    def __init__(self, title: str, enabled: bool) -> None:
        self._bar = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task(title, total=None)
        self._bar.start()

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)

    def phase(self, description: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=description, total=None)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _run_generate(args: argparse.Namespace) -> int:
    from host.errors import ConfigError

    if args.scenario not in SCENARIOS:
        raise ConfigError(f"unknown scenario {args.scenario!r}; one of {', '.join(SCENARIOS)}")
    if not 25 <= args.rate <= 1000:
        raise ConfigError(f"--rate {args.rate}: must be 25-1000 Hz")
    if args.minutes is not None and not args.minutes > 0:
        raise ConfigError(f"--minutes {args.minutes}: must be positive")
    _check_outputs(args.out, args.truth)
    minutes = args.minutes if args.minutes is not None else SCENARIOS[args.scenario].default_minutes
    long_job = minutes * 60 * args.rate > 500_000
    progress = _Progress(f"generating {args.scenario} ({minutes:g} min)", long_job)
    started = time.perf_counter()
    try:
        result = generate(
            args.scenario,
            seed=args.seed,
            rate_hz=args.rate,
            minutes=args.minutes,
            gyro=not args.no_gyro,
            random_mount=args.random_mount,
            errors=ErrorModel.ideal() if args.ideal else None,
            progress=progress.update,
        )
        generated = time.perf_counter()
        progress.phase(f"writing {args.out} and {args.truth}")
        private_file(args.out)
        write_csv(args.out, result.samples)
        write_truth_csv(args.truth, result.truth)
        meta = dict(result.meta, data_file=str(args.out), truth_file=str(args.truth))
        write_truth_json(args.truth.with_suffix(".json"), meta)
    finally:
        progress.stop()
    done = time.perf_counter()
    n = len(result.samples)
    print(
        f"wrote {n} samples ({n / args.rate / 60:.1f} min) to {args.out}, truth to {args.truth} "
        f"and {args.truth.with_suffix('.json')}; {len(meta['slouch_episodes'])} slouch episodes; "
        f"generated in {generated - started:.1f} s, written in {done - generated:.1f} s",
        file=sys.stderr,
    )
    return 0


def _check_outputs(out: Path, truth: Path) -> None:
    """Refuse, before generating, outputs that would land in a missing folder (none is
    created: a typo must not leave folders behind) or overwrite one another.

    Raises:
        ConfigError: the reason, naming the flag.
    """
    from host.errors import ConfigError

    sidecar = truth.with_suffix(".json")
    for flag, path in (("--out", out), ("--truth", truth)):
        folder = path.parent
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise ConfigError(f"{flag} {path}: {folder} {what}; create it first")
        if path.is_dir():
            raise ConfigError(f"{flag} {path} is a folder; give a file name")
    if out.resolve() == truth.resolve():
        raise ConfigError(f"--out and --truth are the same file ({out}); give two file names")
    if out.resolve() == sidecar.resolve():
        raise ConfigError(
            f"--out {out} is where the truth's JSON sidecar goes (beside --truth {truth}); "
            "choose another name"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``posture-sim``; returns the exit code (the same codes as ``posture``)."""
    from host.cli import parse_command_line, run_parsed

    # bad files and values given on the command line are usage errors here
    return run_parsed(
        "posture-sim",
        parse_command_line(build_parser(), argv),
        usage_errors=(ValueError, OSError),
    )


if __name__ == "__main__":
    sys.exit(main())
