"""``posture sessions``: list the recorded sessions."""

from __future__ import annotations

import argparse
import json

from host.recording.cli_args import NoDatabaseError, add_db_argument, open_store
from host.recording.store import SessionInfo, SessionStore

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


def _pain(store: SessionStore, info: SessionInfo) -> dict[str, int]:
    """Pain ratings (NRS 0–10) stored with an exercise session: {"before": n, "after": n}."""
    if not info.source.startswith("exercise:"):
        return {}
    from host.exercise.records import PAIN_KIND  # not at import: it loads numpy

    out = {}
    for event in store.events(info.id, PAIN_KIND):
        when, nrs = event.data.get("when"), event.data.get("nrs")
        if when in ("before", "after") and isinstance(nrs, int):
            out[str(when)] = nrs
    return out


def _duration_s(store: SessionStore, info: SessionInfo) -> float:
    """The samples' span; for events-only sessions (exercise, ROM) the span of their events
    (first set's start to the last event), which is when the exercise happened."""
    if info.n_samples > 0 or not (info.source.startswith("exercise:") or info.source == "rom"):
        return info.duration_s
    from host.exercise.records import event_span_s

    return event_span_s(store.events(info.id))


def _pain_text(pain: dict[str, int]) -> str:
    if not pain:
        return ""
    before, after = (str(pain[k]) if k in pain else "–" for k in ("before", "after"))
    return f", pain {before}→{after}"


def run(args: argparse.Namespace) -> int:
    """List sessions; 0 even when there are none (also before the default database exists)."""
    store: SessionStore | None = None  # stays None for the default database before any recording
    try:
        store = open_store(args)
    except NoDatabaseError:
        if args.db is not None:
            raise  # a mistyped --db: say so (exit 2) rather than "no sessions yet"
    sessions: list[SessionInfo] = []
    pains: dict[int, dict[str, int]] = {}
    durations: dict[int, float] = {}
    if store is not None:
        with store:
            sessions = store.sessions()
            pains = {s.id: _pain(store, s) for s in sessions}
            durations = {s.id: _duration_s(store, s) for s in sessions}
    if args.json:
        for s in sessions:
            row: dict[str, object] = {
                "id": s.id,
                "started_at": s.started_at.isoformat(),
                "duration_s": round(durations[s.id], 3),
                "device": s.device,
                "source": s.source,
                "samples": s.n_samples,
                "finished": s.ended_at is not None,
            }
            for when, nrs in pains[s.id].items():
                row[f"pain_{when}"] = nrs
            print(json.dumps(row))
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
            _hms(durations[s.id]),
            s.device,
            f"{s.n_samples:,}",
            s.source
            + _pain_text(pains[s.id])
            + ("" if s.ended_at is not None else " (unfinished)"),
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
