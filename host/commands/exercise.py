"""``posture exercise``: the exercise library and guided exercise sessions."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from host.commands._live import apply_settings, check_connected, keep_refused, positive_seconds
from host.errors import ConfigError

if TYPE_CHECKING:
    from host.engine import Engine
    from host.exercise.coach import CoachResult
    from host.exercise.library import ExerciseSpec
    from host.exercise.live import Feeder

__all__ = ["register", "run"]

_EPILOG = """\
The sensor counts what one back sensor can see: trunk pitch relative to the start position
(captured when you are still in it), sideways shifts and stillness. It cannot tell which arm or
leg you use; the instructions say so where it matters.

examples:
  posture exercise list
  posture exercise show bird_dog
  posture exercise run cat_camel --device "sim:ex_cat_camel?speed=0"
  posture exercise run bridge --device ble:name=PostureSim-1A2B --sets 3 --reps 8
  posture exercise run bridge --device ble: --pain-before 4 --pain-after 3
  posture exercise run hamstring_stretch --device serial:/dev/ttyACM0 --hold 45 --no-record
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``exercise`` (list, show, run) to the CLI."""
    p = sub.add_parser(
        "exercise",
        help="list the home exercises or run one guided, counted by the sensor",
        description="Home exercises from the therapist's plan, guided and counted by the back "
        "sensor: repetitions (with partial reps counted separately), hold times, a quality "
        "score per rep (range, tempo, smoothness, steadiness) and live feedback. Sessions are "
        "stored in the session log for adherence and the therapist report.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = actions.add_parser("list", help="list the exercise library")
    lst.add_argument("--json", action="store_true", help="one JSON object per exercise")
    lst.set_defaults(func=run)
    show = actions.add_parser("show", help="instructions and targets of one exercise")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=run)
    go = actions.add_parser(
        "run",
        help="run one exercise guided by the sensor",
        description="Calibrate (sit upright, then bend forward), get into the start position "
        "and keep still for 2 s, then exercise: the coach counts, times and scores, says "
        "when to rest and when the sets are done. Stops when the sets are done, at "
        "--duration, or on Ctrl-C (or SIGTERM/SIGHUP); what was done is stored unless "
        "--no-record, also when stopped half-way (exit 130 after Ctrl-C, 128 + signal).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    go.add_argument("name", metavar="NAME", help="exercise name ('posture exercise list')")
    go.add_argument(
        "--device",
        default=None,
        help="device string (default: $POSTURE_DEVICE, else the settings file's device, "
        "else 'ble:')",
    )
    go.add_argument("--sets", type=int, metavar="N", help="sets (default: program or library)")
    go.add_argument("--reps", type=int, metavar="N", help="reps or holds per set")
    go.add_argument("--hold", type=float, metavar="S", help="hold length, seconds")
    go.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S seconds")
    go.add_argument("--calibration", type=Path, metavar="CAL.json", help="skip calibrating")
    go.add_argument("--db", type=Path, metavar="PATH", help="session database")
    go.add_argument("--no-record", action="store_true", help="do not store the session")
    for when in ("before", "after"):
        go.add_argument(
            f"--pain-{when}",
            type=int,
            metavar="N",
            help=f"pain now {when} the exercise, 0 (none) to 10 (worst); stored with the "
            "session (asked when run in a terminal and not given; Enter skips)",
        )
    go.set_defaults(func=run)
    back = actions.add_parser(
        "restore",
        help="store sessions kept in files when the database could not be written",
        description="When a finished exercise cannot be stored (database locked, moved, disk "
        "full), 'exercise run' and the dashboard keep it in a private JSON file in the "
        "'unstored' folder of the user data folder and name it. This stores such files "
        "(each in one commit) and removes them once stored.",
    )
    back.add_argument("files", nargs="+", type=Path, metavar="FILE", help="kept session file")
    back.add_argument("--db", type=Path, metavar="PATH", help="session database")
    back.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch ``list``, ``show`` or ``run``."""
    from host.exercise.library import get_exercise, load_library

    if args.action == "list":
        library = load_library()
        if args.json:
            for spec in library.values():
                print(
                    json.dumps(
                        {
                            "name": spec.name,
                            "title": spec.title,
                            "kind": spec.kind,
                            "start_posture": spec.start_posture,
                            "sets": spec.sets,
                            "reps": spec.reps,
                            "hold_s": spec.hold_s,
                            "signal": spec.signal,
                        }
                    )
                )
            return 0
        print(f"{'name':20} {'kind':5} {'start':14} {'target':>14}  title")
        for spec in library.values():
            unit = "holds" if spec.kind == "hold" else "reps"
            target = f"{spec.sets}x{spec.reps} {unit}"
            hold = f", {spec.hold_s:.0f} s" if spec.hold_s else ""
            print(
                f"{spec.name:20} {spec.kind:5} {spec.start_posture:14} {target:>14}  "
                f"{spec.title}{hold}"
            )
        return 0
    if args.action == "restore":
        return _restore(args)
    spec = get_exercise(args.name)
    if args.action == "show":
        print(f"{spec.title} ({spec.name})")
        unit = "holds" if spec.kind == "hold" else "reps"
        print(
            f"  {spec.sets} set(s) of {spec.reps} {unit}"
            + (f", hold {spec.hold_s:.0f} s" if spec.hold_s else "")
            + f", rest {spec.rest_s:.0f} s; start: {spec.start_posture.replace('_', ' ')}"
        )
        for title, text in (
            ("How", spec.instructions),
            ("What the sensor sees", spec.sensor_notes),
        ):
            print(f"\n{title}:")
            print(textwrap.indent(textwrap.fill(" ".join(text.split()), 76), "  "))
        return 0
    return _run_guided(args, spec)


def _restore(args: argparse.Namespace) -> int:
    """Store kept session files; each is removed once stored."""
    from host.exercise.records import restore_unstored
    from host.recording.store import SessionStore

    apply_settings(args)  # the settings' database unless --db
    with SessionStore.open(args.db) as store:
        for path in args.files:
            sid = restore_unstored(store, path)
            print(f"{path}: recorded session {sid}", flush=True)
            try:
                path.unlink()
            except OSError as exc:  # stored: restoring it again would store it twice
                print(f"posture exercise: stored, remove {path} by hand: {exc}", file=sys.stderr)
    return 0


def _prescribed(args: argparse.Namespace, name: str) -> tuple[int | None, int | None, float | None]:
    """--sets/--reps/--hold, else the imported program's prescription, else the library."""
    from host.exercise.program import load_program

    sets, reps, hold = args.sets, args.reps, args.hold
    for value, what in ((sets, "--sets"), (reps, "--reps")):
        if value is not None and not 1 <= value <= 100:
            raise ConfigError(f"{what} {value}: use 1 to 100")
    if hold is not None and not 0 <= hold <= 300:
        raise ConfigError(f"--hold {hold}: use 0 to 300 seconds")
    program = load_program()
    p = program.prescription(name) if program is not None else None
    if p is not None:
        sets = sets or p.sets
        reps = reps or p.reps
        hold = p.hold_s if hold is None else hold
    return sets, reps, hold


def _pain_flag(value: int | None, flag: str) -> int | None:
    """A --pain-before/--pain-after value checked against the 0–10 scale (exit 2 otherwise)."""
    from host.exercise.records import check_pain

    return None if value is None else check_pain(value, flag)


def _ask_pain(when: str) -> int | None:
    """Ask pain now on the terminal (only called when stdin is one); empty answer skips.

    Ctrl-C at the "after" question skips it (the exercise is done and must still be stored);
    at the "before" question it ends the command, nothing having been done yet.
    """
    while True:
        try:
            answer = input(f"Pain now, {when} the exercise: 0 (none) to 10 (worst), Enter skips: ")
        except EOFError:
            return None
        except KeyboardInterrupt:
            if when == "before":
                raise
            print(flush=True)
            return None
        answer = answer.strip()
        if not answer:
            return None
        if answer.isdigit() and 0 <= int(answer) <= 10:
            return int(answer)
        print("Please answer with a whole number from 0 to 10, or just Enter.", flush=True)


def _run_guided(args: argparse.Namespace, spec: ExerciseSpec) -> int:
    from calibration.model import Calibration
    from host.engine import Engine, EngineConfig
    from host.exercise.coach import Coach
    from host.exercise.live import Feeder

    apply_settings(args)  # settings.toml/POSTURE_* checked before connecting (exit 2); device, db
    sets, reps, hold = _prescribed(args, spec.name)
    pain_before = _pain_flag(args.pain_before, "--pain-before")
    pain_after = _pain_flag(args.pain_after, "--pain-after")
    interactive = sys.stdin is not None and sys.stdin.isatty() and not args.no_record
    if pain_before is None and interactive:
        pain_before = _ask_pain("before")
    coach = Coach(spec, sets=sets, reps=reps, hold_s=hold)
    calibration = None
    if args.calibration is not None:
        try:
            calibration = Calibration.load(args.calibration)
        except (OSError, ValueError) as exc:  # ValueError: CalibrationFormatError, not JSON
            raise ConfigError(f"{args.calibration}: cannot use calibration: {exc}") from exc
    engine = Engine(EngineConfig(device=args.device, calibration=calibration, haptics=False))

    def say(text: str) -> None:
        print(text, flush=True)

    def consume(t_s: np.ndarray, up: np.ndarray) -> None:
        for line in coach.update(t_s, up):
            say(f"{line.t_s:8.1f} s  {line.text}")
        if coach.phase == "done":
            engine.stop()

    feeder = Feeder(consume, say)
    engine.listeners.append(feeder)
    unit = "holds" if spec.kind == "hold" else "reps"
    say(
        f"{spec.title}: {coach.sets_target} set(s) of {coach.reps_target} {unit}"
        + (f", hold {coach.hold_target_s:.0f} s" if coach.hold_target_s else "")
    )
    started_at = dt.datetime.now(dt.UTC).astimezone()
    # Ctrl-C, SIGTERM and SIGHUP stop the engine cleanly; what was done is still printed and
    # stored, then the command exits 130 / 128 + signal like the other live commands.
    signals: list[int] = []
    interrupted = False
    try:
        asyncio.run(
            _main(
                engine, feeder, args.duration, need_calibration=calibration is None, signals=signals
            )
        )
    except KeyboardInterrupt:  # asyncio.run cancelled the run (the link is closed): go on
        interrupted = True
    if not interrupted and not signals:
        check_connected(engine, args.duration)  # never connected: exit 1, like monitor
    result = coach.finish()
    _print_result(result)
    if not result.sets:
        if calibration is None and engine.calibration is None:
            say("The run ended before calibration finished: nothing was counted.")
        elif result.start is None:
            say(
                "No exercise was detected: the start position "
                f"({spec.start_posture.replace('_', ' ')}, still for 2 s) was never found."
            )
        else:
            say("No exercise was detected after the start position was found.")
        return _stopped_exit(interrupted, signals)
    if pain_after is None and interactive and args.pain_after is None:
        pain_after = _ask_pain("after")
    if not args.no_record:
        from host.errors import PostureError
        from host.exercise.records import record_exercise, save_unstored
        from host.recording.store import SessionStore

        cal = engine.calibration.to_dict() if engine.calibration is not None else None
        details = {
            "device": args.device,
            "started_at": started_at,
            "calibration": cal,
            "pain_before": pain_before,
            "pain_after": pain_after,
        }
        try:
            with SessionStore.open(args.db) as store:
                sid = record_exercise(store, result, **details)
        except PostureError as exc:  # the database cannot be opened or written
            print(f"posture exercise: cannot store the session: {exc}", file=sys.stderr)
            return keep_refused(
                "posture exercise",
                "the session",
                lambda: save_unstored(result, **details),
                args.db,
            )
        say(f"recorded session {sid}")
    return _stopped_exit(interrupted, signals)


def _stopped_exit(interrupted: bool, signals: list[int]) -> int:
    """0, or how the run was stopped: Ctrl-C re-raised (the CLI says so and exits 130), a
    stop signal's 128 + number."""
    from host.commands._live import signal_exit

    if interrupted:
        raise KeyboardInterrupt
    return signal_exit(signals[0]) if signals else 0


_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


async def _main(
    engine: Engine,
    feeder: Feeder,
    duration: float | None,
    need_calibration: bool,
    signals: list[int] | None = None,
) -> None:
    """Run the engine; calibrate first, then let the feeder pass data to the coach.

    SIGTERM and SIGHUP stop the engine like the end of the exercise does; their numbers are
    appended to ``signals``.
    """
    loop = asyncio.get_running_loop()
    received = [] if signals is None else signals

    def on_signal(signum: int) -> None:
        if not received:
            print(f"{signal.Signals(signum).name}: stopping…", file=sys.stderr, flush=True)
        received.append(signum)
        engine.stop()

    installed = []
    for signum in _STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, not the main thread
            continue
        installed.append(signum)
    try:
        await _guided(engine, feeder, duration, need_calibration)
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _guided(
    engine: Engine, feeder: Feeder, duration: float | None, need_calibration: bool
) -> None:
    from host.exercise.live import calibrate_at_start

    runner = asyncio.create_task(engine.run(duration))
    if need_calibration:
        calibrator = asyncio.create_task(calibrate_at_start(engine, feeder.say))
        done, _ = await asyncio.wait({runner, calibrator}, return_when=asyncio.FIRST_COMPLETED)
        if calibrator in done and not calibrator.cancelled():
            calibrator.result()  # a CalibrationError ends the command (exit 2)
        else:  # the engine ended first (link error, --duration): `await runner` says which
            calibrator.cancel()
            await asyncio.gather(calibrator, return_exceptions=True)
    feeder.enabled = True
    await runner


def _print_result(result: CoachResult) -> None:
    """Per set, what counts under the prescription (held as prescribed) and what else was done."""
    from host.exercise.summary import result_heading, set_lines

    print("\n" + result_heading(result))
    for line in set_lines(result):
        print("  " + line)
    sys.stdout.flush()
