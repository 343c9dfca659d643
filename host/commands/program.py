"""``posture program``: the therapist's home program (import, show) and adherence."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from host.errors import ConfigError

if TYPE_CHECKING:
    from host.exercise.program import Program

__all__ = ["register", "run"]

_EPILOG = """\
The program file format is documented with a full example in docs/exercises.md. Importing
validates it (errors name the table, key and line; exit status 2) and stores a copy readable
by you only in the user config directory ($POSTURE_PROGRAM overrides the path). Its [alerts]
table, if present, becomes your posture-alert settings (settings.toml, used by the dashboard,
'posture monitor' and 'posture record') unless --keep-alerts. The program and the settings are
both checked before either is written: an import applies completely or not at all.

examples:
  posture program import ~/Downloads/back-program.toml
  posture program show
  posture program adherence
  posture program adherence --from 2026-11-01 --to 2026-11-30
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``program`` (import, show, adherence) to the CLI."""
    p = sub.add_parser(
        "program",
        help="import the therapist's exercise program; adherence and what is due today",
        description="The home-exercise program prescribed by the therapist: which exercises, "
        "sets, reps, holds and days per week, and the posture-alert settings. 'adherence' "
        "compares the recorded exercise sessions with it, per day and per week, and lists "
        "what is still due today.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="validate and store a program file")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument(
        "--keep-alerts", action="store_true", help="do not apply the program's [alerts]"
    )
    imp.set_defaults(func=run)
    show = actions.add_parser("show", help="show the stored program")
    show.set_defaults(func=run)
    adh = actions.add_parser("adherence", help="done vs prescribed per day and week; due today")
    adh.add_argument(
        "--from",
        dest="first",
        type=_date,
        metavar="YYYY-MM-DD",
        help="first day (default: 4 weeks ago or the program start)",
    )
    adh.add_argument(
        "--to", dest="last", type=_date, metavar="YYYY-MM-DD", help="last day (default: today)"
    )
    adh.add_argument("--db", type=Path, metavar="PATH", help="session database")
    adh.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    """Dispatch import, show or adherence."""
    from host.exercise.program import load_program

    if args.action == "import":
        return _import(args)
    stored = load_program()
    if stored is None:
        raise ConfigError("no program imported yet: posture program import FILE")
    if args.action == "show":
        _show(stored)
        return 0
    return _adherence(stored, args)


def _import(args: argparse.Namespace) -> int:
    """Validate the program and the settings it would change, then write both (or neither).

    Order: read and parse the program; compute the new settings from the settings *file*
    (not the POSTURE_* environment, which must not end up in the file) and validate them;
    only then write the program, then the settings. If the settings cannot be written the
    previous program is put back (or the new one removed), so nothing is applied halfway.
    """
    from host.exercise.program import default_program_path, parse_program, save_program
    from host.settings import load_settings, save_settings

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # UnicodeDecodeError: not a text file
        raise ConfigError(f"{args.file}: cannot read: {exc}") from exc
    program = parse_program(text, str(args.file))
    changes = {} if args.keep_alerts else _alert_changes(program)
    settings = None
    if changes:
        current = load_settings(env={})  # a broken settings file stops here, nothing written
        try:
            settings = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
        except ConfigError as exc:
            raise ConfigError(f"{args.file}: [alerts]: {exc}") from exc
    target = default_program_path()
    previous = _read_bytes(target)
    path = save_program(text, target)
    if settings is not None:
        try:
            settings_path = save_settings(settings)
        except (OSError, ConfigError) as exc:
            _restore(target, previous)
            raise ConfigError(
                f"cannot write the posture-alert settings ({exc}); the program was not "
                "imported (nothing changed)"
            ) from exc
    print(f"imported {program.title!r}: {len(program.exercises)} exercise(s) -> {path}")
    if settings is not None:
        applied = ", ".join(f"{k}={v}" for k, v in changes.items())
        print(f"posture-alert settings from the program: {applied} -> {settings_path}")
    return 0


def _alert_changes(program: Program) -> dict[str, object]:
    changes: dict[str, object] = {}
    if program.tolerance_deg is not None:
        changes["tolerance_deg"] = program.tolerance_deg
    if program.delay_s is not None:
        changes["delay_s"] = program.delay_s
    if program.mode is not None:
        changes["policy_mode"] = program.mode
    return changes


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the stored program {path}: {exc}") from exc


def _restore(path: Path, previous: bytes | None) -> None:
    """Put the program file back as it was before the import (best effort, private)."""
    import contextlib
    import os

    with contextlib.suppress(OSError):
        if previous is None:
            path.unlink(missing_ok=True)
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(previous)


def _show(program: Program) -> None:
    print(
        program.title
        + (f" (prescribed by {program.prescribed_by})" if program.prescribed_by else "")
    )
    if program.start_date is not None:
        print(f"from {program.start_date.isoformat()}")
    print(f"{program.days_per_week} day(s) per week by default")
    for p in program.exercises:
        hold = f", hold {p.hold_s:.0f} s" if p.hold_s else ""
        print(f"  {p.name:20} {p.sets} x {p.reps}{hold}, {p.days_per_week} day(s)/week")
    alerts = [
        f"tolerance {program.tolerance_deg:g}°" if program.tolerance_deg is not None else "",
        f"delay {program.delay_s:g} s" if program.delay_s is not None else "",
        f"mode {program.mode}" if program.mode else "",
    ]
    if any(alerts):
        print("posture alerts: " + ", ".join(a for a in alerts if a))


def _adherence(program: Program, args: argparse.Namespace) -> int:
    from host.exercise.adherence import daily, due_today, weekly
    from host.exercise.summary import SessionEvents, exercise_days
    from host.recording.store import SessionStore

    today = dt.datetime.now(dt.UTC).astimezone().date()
    last = args.last or today
    first = args.first or max(
        last - dt.timedelta(days=27), program.start_date or last - dt.timedelta(days=27)
    )
    if first > last:
        raise ConfigError(f"--from {first} is after --to {last}")
    with SessionStore.open(args.db) as store:
        sessions = [
            SessionEvents(s.started_at, s.source, store.events(s.id))
            for s in store.sessions()
            if s.source.startswith("exercise:")
        ]
    records = exercise_days(sessions)
    names = [p.name for p in program.exercises]
    print(f"{program.title}: {first.isoformat()} to {last.isoformat()}")
    print("\nper week (days done / prescribed):")
    for w in weekly(program, records, first, last, today=today):
        cells = "  ".join(f"{n} {d}/{p}" for n, (d, p) in w.days.items())
        print(f"  week of {w.monday.isoformat()}  {100 * w.fraction:5.1f} %  {cells}")
    print("\nper day (complete sets / prescribed):")
    for d in daily(program, records, first, last):
        if d.day > today:
            continue
        cells = "  ".join(f"{n} {s}/{p}" for n, (s, p) in d.sets.items())
        print(f"  {d.day.isoformat()} {d.day.strftime('%a')}  {100 * d.fraction:5.1f} %  {cells}")
    done = [r for r in records if first <= r.day <= last and r.exercise in names]
    if done:
        print("\nrecorded:")
        for r in done:
            q = "" if r.quality != r.quality else f", quality {r.quality:.0f}"
            what = f"{r.holds} holds ({r.hold_s:.0f} s)" if r.holds else f"{r.reps} reps"
            print(
                f"  {r.day.isoformat()}  {r.exercise:20} {r.sets} set(s), {what}, "
                f"{r.partials} partial{q}"
            )
    due = due_today(program, records, today)
    print("\ndue today:" if due else "\nnothing due today.")
    for item in due:
        print(
            f"  {item.exercise}: {item.sets_left} set(s) of {item.reps}"
            f" ({item.days_left_this_week} day(s) left this week)"
        )
    return 0
