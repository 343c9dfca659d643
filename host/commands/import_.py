"""``posture import``: a recording in the CSV interchange format becomes a stored session."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from host.csvio import read_csv
from host.errors import CalibrationError, ConfigError
from host.recording.cli_args import add_db_argument, db_path, open_store
from host.recording.store import SessionStore
from host.samples import SampleBlock

__all__ = ["parse_window", "register", "run"]

_EPILOG = """\
calibration (trunk flexion is relative to the wearer's own upright posture):
  --neutral T0:T1 [--forward T2:T3]   windows of the recording, seconds: still upright, and
                                      optionally holding a forward bend (any sensor mounting)
  --calibration CAL.json              a calibration made by 'posture calibrate'
  (none)                              automatic: the longest still stretch near upright in the
                                      first minutes; noted in the session as method "auto"

examples:
  posture-sim generate desk_day --out day.csv --truth truth.csv
  posture import day.csv --neutral 2:8 --forward 12:16
  posture import logger.csv --start 2026-11-30T08:30:00+01:00

Prints the new session id on stdout (only that), warnings on stderr. A file whose content was
imported before is refused (exit 2, naming the session) so its hours are not counted twice in
stats and reports; --force imports it again anyway.
"""

# Where a single sensor can sit (notes: what it measures differs; reports never compare them).
PLACEMENTS = ("thoracic", "thoracolumbar", "lumbar", "sacral")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import`` subcommand."""
    parser = subparsers.add_parser(
        "import",
        help="store a CSV recording as a session (with posture analysis)",
        description="Import a recording in the CSV interchange format (t,ax,ay,az[,gx,gy,gz]; "
        "s, m/s², rad/s) into the session database. The offline analysis computes trunk "
        "flexion, posture zones and activity per second, and the alerts the live engine would "
        "have raised, so 'posture stats' and 'posture report' work on it like on a live session.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="recording to import")
    cal = parser.add_mutually_exclusive_group()
    cal.add_argument("--neutral", metavar="T0:T1", help="still upright window, seconds")
    cal.add_argument("--calibration", type=Path, metavar="CAL.json", help="calibration file")
    parser.add_argument("--forward", metavar="T2:T3", help="forward-bend window (with --neutral)")
    parser.add_argument(
        "--start",
        metavar="ISO",
        help="wall-clock time of t = 0 (default: the file's modification time minus its length)",
    )
    parser.add_argument("--device", default=None, help="device label (default: import:FILE)")
    parser.add_argument(
        "--placement",
        default="lumbar",
        choices=PLACEMENTS,
        help="where on the back the sensor sat (default lumbar, the nominal mounting of "
        "docs/protocol.md); stored with the session, and numbers from different placements "
        "are not comparable",
    )
    parser.add_argument(
        "--force", action="store_true", help="import even if this file was imported before"
    )
    add_db_argument(parser, create=True)
    parser.set_defaults(func=run)


def parse_window(text: str, option: str) -> tuple[float, float]:
    """``"T0:T1"`` seconds → (t0, t1).

    Raises:
        ConfigError: malformed or empty window.
    """
    a, sep, b = text.partition(":")
    try:
        t0, t1 = float(a), float(b)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected T0:T1 in seconds, e.g. 2:8") from None
    if not sep or t1 <= t0:
        raise ConfigError(f"{option} {text!r}: the end must be after the start")
    return t0, t1


def _window(samples: SampleBlock, window: tuple[float, float], option: str) -> SampleBlock:
    t = samples.t_s
    a, b = (int(i) for i in t.searchsorted(window))
    if b - a < 2:
        raise ConfigError(
            f"{option} {window[0]:g}:{window[1]:g} holds no samples "
            f"(the recording spans {t[0]:.1f}-{t[-1]:.1f} s)"
        )
    return samples.slice(a, b)


def _given_start(args: argparse.Namespace) -> datetime | None:
    """``--start`` as a timezone-aware time (local time if it has no offset), or None.

    Raises:
        ConfigError: not an ISO 8601 time.
    """
    if args.start is None:
        return None
    try:
        start = datetime.fromisoformat(args.start)
    except ValueError as exc:
        raise ConfigError(
            f"--start {args.start!r}: not an ISO 8601 time, e.g. 2026-11-30T08:30:00+01:00"
        ) from exc
    return start if start.tzinfo is not None else start.astimezone()


def _start_time(args: argparse.Namespace, samples: SampleBlock) -> datetime:
    start = _given_start(args)
    if start is not None:
        return start
    mtime = datetime.fromtimestamp(args.file.stat().st_mtime, UTC).astimezone()
    return mtime - timedelta(seconds=float(samples.t_s[-1] - samples.t_s[0]))


def _check_arguments(args: argparse.Namespace) -> None:
    """Everything that can be refused without reading the file, refused before the analysis.

    Raises:
        ConfigError: a flag that cannot work.
    """
    if args.forward is not None and args.neutral is None:
        raise ConfigError("--forward needs --neutral")
    _given_start(args)
    if args.neutral is not None:
        parse_window(args.neutral, "--neutral")
    if args.forward is not None:
        parse_window(args.forward, "--forward")


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes (hex): the identity of an imported recording."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""  # read_csv names the problem
    return digest.hexdigest()


def _earlier_import(store: SessionStore, path: Path, digest: str, n_samples: int) -> int | None:
    """The session this same recording was imported as, if any (same content; for sessions
    imported before digests were stored: same file name and number of samples)."""
    for info in store.sessions():
        if info.source != "import":
            continue
        stored = info.device_info.get("sha256")
        if stored is not None:
            if digest and stored == digest:
                return info.id
        elif info.device_info.get("file") == path.name and info.n_samples == n_samples:
            return info.id
    return None


def run(args: argparse.Namespace) -> int:
    """Import; prints the session id."""
    _check_arguments(args)
    with _progress() as step:
        sid = _import(args, step)
    print(sid)
    return 0


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A transient spinner on stderr (only on a terminal: stdout carries the session id)."""
    if not sys.stderr.isatty():
        yield lambda _text: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
        redirect_stdout=False,
    ) as progress:
        task = progress.add_task("reading", total=None)
        yield lambda text: progress.update(task, description=text)


def _import(args: argparse.Namespace, step: Callable[[str], None]) -> int:
    """Analyse and store; returns the new session id."""
    from calibration.model import Calibration
    from calibration.procedures import auto_calibration, fit_mounting
    from host.alerts import AlertConfig, evaluate_recording
    from host.analysis import analyze
    from host.posture import PostureTracker

    step(f"reading {args.file}")
    recording = read_csv(args.file)
    for warning in recording.warnings:
        print(f"posture: warning: {warning}", file=sys.stderr)
    samples = recording.samples
    digest = file_digest(args.file)
    if not args.force and db_path(args).exists():  # (no database yet: nothing imported)
        with open_store(args) as store:
            earlier = _earlier_import(store, args.file, digest, len(samples))
        if earlier is not None:
            raise ConfigError(
                f"{args.file} was already imported as session {earlier} (same recording); "
                "importing it again would count its hours twice. Add --force to import it "
                f"anyway, or 'posture delete {earlier}' first"
            )
    device = args.device or f"import:{args.file.name}"
    if args.calibration is not None:
        try:
            calibration = Calibration.load(args.calibration)
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"{args.calibration}: cannot use calibration: {exc}") from exc
        method = f"file {args.calibration.name}"
    elif args.neutral is not None:
        neutral = _window(samples, parse_window(args.neutral, "--neutral"), "--neutral")
        forward = None
        if args.forward is not None:
            forward = _window(samples, parse_window(args.forward, "--forward"), "--forward")
        calibration = fit_mounting(neutral, forward, device=device)
        method = "windows " + args.neutral + (f" + {args.forward}" if args.forward else "")
    else:
        calibration = auto_calibration(samples, device=device)
        method = "auto"
        print(
            "posture: note: no calibration given; calibrated automatically from the longest "
            "still upright stretch (use --neutral/--forward for a reliable zero)",
            file=sys.stderr,
        )
    step(f"analysing {len(samples):,} samples (offline)")
    analysis = analyze(samples, calibration, offline=True)
    posture = PostureTracker().update(samples, analysis)
    alert_config = AlertConfig()
    step("alerts the live engine would have raised")
    # alerts as the live engine would have raised them: on the causal (online) analysis
    alerts = evaluate_recording(samples, analyze(samples, calibration), alert_config)
    step("storing")
    with open_store(args) as store:
        sid = store.create_session(
            device=device,
            source="import",
            device_info={"file": args.file.name, "sha256": digest},
            calibration=calibration.to_dict(),
            placement=args.placement,
            policy={"alerts": json.loads(json.dumps(asdict(alert_config), default=str))},
            started_at=_start_time(args, samples),
        )
        with store.transaction():
            store.append_samples(sid, samples)
            store.append_posture(sid, posture)
            store.add_event(
                sid,
                float(samples.t_s[0]),
                "calibration",
                {"method": method, **calibration.to_dict()},
            )
            for alert in alerts:
                store.add_event(sid, alert.t_s, "alert", alert.to_dict())
        store.end_session(sid)
    return sid
