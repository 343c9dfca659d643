"""``posture sessions``: list the recorded sessions."""

from __future__ import annotations

import argparse
import json

from host.recording.cli_args import add_db_argument, open_store

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  posture sessions
  posture sessions --db ~/study/p07.sqlite3 --json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sessions`` subcommand."""
    parser = subparsers.add_parser(
        "sessions",
        help="list recorded sessions",
        description="List the sessions in the session database: id, start (local time), "
        "duration, device, number of raw samples and how it got there (live or import).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_argument(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per session")
    parser.set_defaults(func=run)


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def run(args: argparse.Namespace) -> int:
    """List sessions; 0 even when there are none."""
    with open_store(args) as store:
        sessions = store.sessions()
    if args.json:
        for s in sessions:
            print(
                json.dumps(
                    {
                        "id": s.id,
                        "started_at": s.started_at.isoformat(),
                        "duration_s": round(s.duration_s, 3),
                        "device": s.device,
                        "source": s.source,
                        "samples": s.n_samples,
                        "finished": s.ended_at is not None,
                    }
                )
            )
        return 0
    if not sessions:
        print(
            "no sessions yet: 'posture record --device sim:desk_day' or 'posture import FILE.csv'"
        )
        return 0
    rows = [
        (
            str(s.id),
            s.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            _hms(s.duration_s),
            s.device,
            f"{s.n_samples:,}",
            s.source + ("" if s.ended_at is not None else " (unfinished)"),
        )
        for s in sessions
    ]
    header = ("id", "start", "duration", "device", "samples", "source")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {0, 2, 4}
    for r in [header, *rows]:
        print(
            "  ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    return 0
