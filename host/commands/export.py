"""``posture export``: a session's raw samples (CSV interchange) or derived data (JSON lines)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from host.csvio import write_csv, write_csv_stream
from host.errors import ConfigError
from host.recording.cli_args import add_db_argument, open_private, open_store, parse_session_id
from host.recording.store import SessionInfo, SessionStore
from host.recording.summary import ACTIVITY_NAMES, ZONE_NAMES
from host.reports.load import public_device_info, redact_device

__all__ = ["jsonl_lines", "register", "run"]

_EPILOG = """\
formats:
  csv    raw samples in the CSV interchange format (t,ax,ay,az[,gx,gy,gz]; s, m/s², rad/s);
         'posture import' reads it back (values within the stored int16 quantisation)
  jsonl  one JSON object per line: a "session" header (pseudonymised), one "second" per
         second of posture summary, then every "event" (alerts, calibration, link, gaps)

Exercise and range-of-motion sessions store events (sets, reps, holds, results), no samples:
export them as jsonl; asking for csv of a session without samples is an error (exit 2).

examples:
  posture export 3 --format csv -o day3.csv
  posture export 3 --format jsonl | head

Exports are pseudonymised (study ID, no Bluetooth address or serial number) and written
readable by you only; pseudonymised data is still personal health data.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export a session as CSV (raw) or JSON lines (derived)",
        description="Export one recorded session: raw samples in the CSV interchange format, "
        "or per-second posture and events as JSON lines. Writes to stdout without -o.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session", type=parse_session_id, metavar="SESSION", help="session id")
    parser.add_argument("--format", choices=("csv", "jsonl"), required=True, help="what to write")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="file (default stdout)")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def _num(x: float, digits: int = 3) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def _redact(value: object) -> object:
    if isinstance(value, str):
        return redact_device(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _events_only(info: SessionInfo) -> bool:
    return info.n_samples == 0 and (info.source.startswith("exercise:") or info.source == "rom")


def _duration_s(store: SessionStore, info: SessionInfo) -> float:
    """As ``posture sessions`` shows it: the samples' span, or for an exercise or ROM session
    the span of its events."""
    if not _events_only(info):
        return info.duration_s
    from host.exercise.records import event_span_s

    return event_span_s(store.events(info.id))


def jsonl_lines(store: SessionStore, session_id: int) -> Iterator[str]:
    """The JSON-lines export of a session, line by line (pseudonymised)."""
    info = store.session(session_id)
    yield json.dumps(
        {
            "type": "session",
            "session": info.id,
            "pseudonym": info.pseudonym,
            "started_at": info.started_at.isoformat(),
            "ended_at": None if info.ended_at is None else info.ended_at.isoformat(),
            "placement": info.placement,
            "source": info.source,
            "device": redact_device(info.device),
            "device_info": public_device_info(info.device_info),
            "calibration": info.calibration,
            "policy": info.policy,
            "samples": info.n_samples,
            "duration_s": round(_duration_s(store, info), 3),
        }
    )
    s = store.summaries(session_id)
    columns = zip(
        s.sec.tolist(),
        s.flexion_deg.tolist(),
        s.flexion_min_deg.tolist(),
        s.flexion_max_deg.tolist(),
        s.lateral_deg.tolist(),
        s.zone.tolist(),
        s.activity.tolist(),
        s.confidence.tolist(),
        s.n_samples.tolist(),
        strict=True,
    )
    for sec, f, fmin, fmax, lat, zone, act, conf, n in columns:
        yield json.dumps(
            {
                "type": "second",
                "t": sec,
                "flexion_deg": _num(f),
                "flexion_min_deg": _num(fmin),
                "flexion_max_deg": _num(fmax),
                "lateral_deg": _num(lat),
                "zone": ZONE_NAMES.get(zone, str(zone)),
                "activity": ACTIVITY_NAMES.get(act, str(act)),
                "confidence": _num(conf),
                "samples": n,
            }
        )
    for e in store.events(session_id):
        yield json.dumps({"type": "event", "t": e.t_s, "kind": e.kind, "data": _redact(e.data)})


def run(args: argparse.Namespace) -> int:
    """Export; 0 on success."""
    try:
        return _export(args)
    except BrokenPipeError:
        # the reader stopped early (``| head``): not an error; keep Python from complaining
        # again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _export(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.format == "csv":
            info = store.session(args.session)
            if info.n_samples == 0:
                what = (
                    f"an exercise session ({info.source.partition(':')[2]})"
                    if info.source.startswith("exercise:")
                    else "a range-of-motion session"
                    if info.source == "rom"
                    else "a session"
                )
                raise ConfigError(
                    f"session {info.id} is {what} without samples: nothing to export as CSV; "
                    f"'posture export {info.id} --format jsonl' has its events"
                )
            samples = store.samples(info.id)
            if args.output is None:
                write_csv_stream(sys.stdout, samples)
            else:
                os.close(open_private(args.output))
                write_csv(args.output, samples)
            return 0
        lines = jsonl_lines(store, args.session)
        if args.output is None:
            for line in lines:
                sys.stdout.write(line + "\n")
        else:
            with os.fdopen(open_private(args.output), "w", encoding="utf-8") as f:
                for line in lines:
                    f.write(line + "\n")
    return 0
