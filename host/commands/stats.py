"""``posture stats``: the therapist's figures for a session or a date range."""

from __future__ import annotations

import argparse
import json

from host.recording.cli_args import add_db_argument, open_store, parse_session_id
from host.reports.load import load_session_data, parse_date, select_sessions
from host.reports.metrics import compute
from host.reports.text import format_stats

__all__ = ["register", "run"]

_EPILOG = """\
what is counted (docs/store.md has the definitions and sources):
  wear time and gaps; sitting, standing, walking; posture zones; ISO 11226 trunk zones
  (<0, 0-20, 20-60, >60°); flexion P10/P50/P90; sustained flexion >= 20° for >= 1 min with an
  EVA angle x duration table; sitting bouts and breaks; posture shifts > 10° per 15 min;
  alerts and whether they were corrected within 10 s; per day and per ISO week.

examples:
  posture stats 4
  posture stats --from 2026-11-01 --to 2026-11-30
  posture stats --json > november.json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``stats`` subcommand."""
    parser = subparsers.add_parser(
        "stats",
        help="posture statistics of a session or a date range",
        description="Statistics of one session, of the sessions started between two dates "
        "(inclusive), or of every session when neither is given.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_range_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def add_range_arguments(parser: argparse.ArgumentParser) -> None:
    """``[SESSION] [--from DATE] [--to DATE]`` (shared with ``posture report``)."""
    parser.add_argument(
        "session", nargs="?", type=parse_session_id, metavar="SESSION", help="session id"
    )
    parser.add_argument("--from", dest="date_from", type=parse_date, metavar="DATE",
                        help="first day, YYYY-MM-DD")  # fmt: skip
    parser.add_argument("--to", dest="date_to", type=parse_date, metavar="DATE",
                        help="last day, YYYY-MM-DD")  # fmt: skip


def _events_only(source: str) -> bool:
    """Exercise and ROM sessions store events, no posture samples."""
    return source.startswith("exercise:") or source == "rom"


def run(args: argparse.Namespace) -> int:
    """Print statistics: posture figures of the sessions with posture data, and the exercise
    and ROM results of the exercise and ROM sessions among them."""
    from host.exercise.records import load_sessions
    from host.exercise.report import exercise_section, format_text

    with open_store(args) as store:
        sessions = select_sessions(store, args.session, args.date_from, args.date_to)
        data = [
            d
            for d in load_session_data(store, sessions)
            if len(d.summaries.sec) or not _events_only(store.session(d.session_id).source)
        ]
        others = [s for s in sessions if _events_only(s.source)]
        posture_ids = {d.session_id for d in data}
        others = [s for s in others if s.id not in posture_ids]
        exercise = load_sessions(store, ids=[s.id for s in others]) if others else []
    section = None
    if exercise:
        days = [s.started_at.astimezone().date() for s in exercise]
        section = exercise_section(exercise, None, min(days), max(days))
    if args.json:
        out: dict[str, object] = compute(data).to_dict() if data else {"posture": None}
        if section is not None:
            out["exercise"] = {
                "sessions": [s.id for s in others],
                "rows": [
                    {
                        "exercise": r.exercise,
                        "sets": r.sets,
                        "reps": r.reps,
                        "partials": r.partials,
                        "holds": r.holds,
                        "hold_s": round(r.hold_s, 1),
                        "quality": None if r.quality != r.quality else round(r.quality, 1),
                    }
                    for r in section.rows
                ],
                "rom": {
                    test: [
                        {"day": p.day.isoformat(), "value": p.value, "unit": p.unit, "norm": p.norm}
                        for p in points
                    ]
                    for test, points in section.rom.items()
                },
            }
        print(json.dumps(out, indent=1))
        return 0
    if not data:
        kinds = sorted({"a ROM" if s.source == "rom" else "an exercise" for s in others})
        what = (
            f"session {args.session} is {kinds[0]} session"
            if args.session is not None
            else f"the {len(others)} session{'' if len(others) == 1 else 's'} chosen are "
            "exercise or ROM sessions"
        )
        print(f"{what} (no posture data).")
    else:
        print(format_stats(compute(data)))
    if section is not None:
        if data:
            print()
        print(format_text(section))
    return 0
