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


def run(args: argparse.Namespace) -> int:
    """Print statistics."""
    with open_store(args) as store:
        sessions = select_sessions(store, args.session, args.date_from, args.date_to)
        stats = compute(load_session_data(store, sessions))
    if args.json:
        print(json.dumps(stats.to_dict(), indent=1))
    else:
        print(format_stats(stats))
    return 0
