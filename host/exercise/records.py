"""Store exercise sessions and ROM checks in the session database (no schema change).

An exercise session is a session with ``source = "exercise:<name>"`` and events ``exercise_set``
(one per set), ``rep`` (every repetition, partials flagged) and ``hold``; a ROM check is a
session with ``source = "rom"`` and one ``rom`` event per figure. Event times are sensor
times (s). ``posture sessions`` lists them like any other session.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from host.exercise.coach import CoachResult
from host.exercise.rom import RomResult
from host.exercise.summary import SessionEvents

if TYPE_CHECKING:
    from collections.abc import Sequence

    from host.recording.store import SessionStore, StoredEvent

__all__ = [
    "PAIN_KIND",
    "check_pain",
    "event_span_s",
    "exercise_events",
    "load_sessions",
    "pain_event",
    "record_exercise",
    "record_pain",
    "record_rom",
    "report_html",
    "restore_unstored",
    "rom_event",
    "save_unstored",
    "save_unstored_rom",
    "set_events",
    "unstored_dir",
]

logger = logging.getLogger(__name__)

PAIN_KIND = "pain"  # event: {"exercise", "when": "before" | "after", "nrs": 0-10}


def _clean(value: float) -> float | None:
    """JSON has no NaN: store None instead."""
    return value if math.isfinite(value) else None


def set_events(result: CoachResult) -> list[tuple[float, str, dict[str, object]]]:
    """The (t_s, kind, data) events of a guided session, in time order."""
    events: list[tuple[float, str, dict[str, object]]] = []
    for s in result.sets:
        for r in s.reps:
            sc = r.score
            events.append(
                (
                    r.rep.end_s,
                    "rep",
                    {
                        "exercise": result.exercise,
                        "set": s.index + 1,
                        "number": r.number,
                        "partial": r.rep.partial,
                        "peak_deg": round(r.rep.peak_deg, 2),
                        "hold_s": round(r.rep.hold_s, 2),
                        "duration_s": round(r.rep.duration_s, 2),
                        "range_ratio": round(sc.range_ratio, 3),
                        "sparc": round(sc.sparc, 3),
                        "wobble_deg": round(sc.wobble_deg, 2),
                        "quality": round(sc.quality, 1),
                        "hint": sc.hint,
                        "held": sc.held,
                    },
                )
            )
        for h in s.holds:
            events.append(
                (
                    h.end_s,
                    "hold",
                    {
                        "exercise": result.exercise,
                        "set": s.index + 1,
                        "hold_s": round(h.hold_s, 2),
                        "shift_deg": round(h.shift_deg, 2),
                        "sway_ap_deg": round(h.sway_ap_deg, 3),
                        "sway_ml_deg": round(h.sway_ml_deg, 3),
                        "sway_velocity_deg_s": round(h.sway_velocity_deg_s, 3),
                    },
                )
            )
        events.append(
            (
                s.end_s,
                "exercise_set",
                {
                    "exercise": result.exercise,
                    "set": s.index + 1,
                    "start_s": round(s.start_s, 2),
                    "target": s.target,
                    "reps": s.full_reps,
                    "counted": s.done,
                    "partials": s.partial_reps,
                    "holds": len(s.holds),
                    "hold_s_total": round(sum(h.hold_s for h in s.holds), 2),
                    "complete": s.complete,
                    "mean_quality": _clean(round(s.mean_quality, 1)),
                    "prescribed_sets": result.prescribed_sets,
                    "prescribed_reps": result.prescribed_reps,
                    "prescribed_hold_s": result.hold_s,
                },
            )
        )
    events.sort(key=lambda e: e[0])
    return events


def check_pain(value: object, what: str) -> int:
    """A pain rating on the 0–10 numeric rating scale (NRS), or ConfigError naming ``what``."""
    from host.errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ConfigError(f"{what} {value!r}: pain is a whole number from 0 (none) to 10 (worst)")
    return value


def pain_event(exercise: str, when: str, nrs: int) -> dict[str, object]:
    """The data of a ``pain`` event given ``before`` or ``after`` an exercise (NRS 0–10)."""
    if when not in ("before", "after"):
        raise ValueError(f"when must be 'before' or 'after', not {when!r}")
    return {"exercise": exercise, "when": when, "nrs": check_pain(nrs, when)}


def record_pain(store: SessionStore, session_id: int, t_s: float, when: str, nrs: int) -> None:
    """Store a pain rating given ``before`` or ``after`` an exercise session (NRS 0–10)."""
    if when not in ("before", "after"):
        raise ValueError(f"when must be 'before' or 'after', not {when!r}")
    info = store.session(session_id)
    exercise = info.source.partition(":")[2]
    store.add_event(session_id, t_s, PAIN_KIND, pain_event(exercise, when, nrs))


def exercise_events(
    result: CoachResult, *, pain_before: int | None = None, pain_after: int | None = None
) -> list[tuple[float, str, dict[str, object]]]:
    """Every (t_s, kind, data) event of a guided session as stored: the pain given before (at
    the first set's start), the sets' events, the pain given after (at the last event)."""
    events = set_events(result)
    first_s = min([s.start_s for s in result.sets] + [t for t, _, _ in events], default=0.0)
    last_s = max([t for t, _, _ in events], default=first_s)
    out = []
    if pain_before is not None:
        out.append((first_s, PAIN_KIND, pain_event(result.exercise, "before", pain_before)))
    out += events
    if pain_after is not None:
        out.append((last_s, PAIN_KIND, pain_event(result.exercise, "after", pain_after)))
    return out


def _store_events(
    store: SessionStore,
    events: Sequence[tuple[float, str, dict[str, object]]],
    *,
    device: str,
    source: str,
    started_at: dt.datetime | None,
    calibration: dict[str, object] | None = None,
) -> int:
    """Create a session with all its events in one commit (all or nothing, so storing again
    after a failure never leaves a second copy), then mark it finished."""
    from host.errors import StoreError

    with store.transaction():
        sid = store.create_session(
            device=device, source=source, calibration=calibration, started_at=started_at
        )
        for t_s, kind, data in events:
            store.add_event(sid, t_s, kind, data)
    try:  # (its merge step has a transaction of its own: not inside the one above)
        store.end_session(sid)
    except StoreError as exc:  # everything is stored; only the end mark is missing
        logger.warning("session %d stored but not marked finished: %s", sid, exc)
    return sid


def record_exercise(
    store: SessionStore,
    result: CoachResult,
    *,
    device: str,
    started_at: dt.datetime | None = None,
    calibration: dict[str, object] | None = None,
    pain_before: int | None = None,
    pain_after: int | None = None,
) -> int:
    """Store a guided session (and the pain ratings given, if any) in one commit; returns the
    session id. Raises StoreError (nothing stored) when the database cannot be written."""
    events = exercise_events(result, pain_before=pain_before, pain_after=pain_after)
    sid = _store_events(
        store,
        events,
        device=device,
        source=f"exercise:{result.exercise}",
        started_at=started_at,
        calibration=calibration,
    )
    logger.info("stored exercise session %d (%s, %d sets)", sid, result.exercise, len(result.sets))
    return sid


UNSTORED_FORMAT = "posture-companion/unstored-session/1"


def unstored_dir() -> Path:
    """Where exercise sessions that could not be stored are kept: ``unstored`` next to the
    default session database, in the user data folder."""
    from host.recording.store import default_db_path

    return default_db_path().parent / "unstored"


def save_unstored(
    result: CoachResult,
    *,
    device: str,
    started_at: dt.datetime | None = None,
    calibration: dict[str, object] | None = None,
    pain_before: int | None = None,
    pain_after: int | None = None,
    directory: Path | None = None,
) -> Path:
    """Keep a guided session the database refused in a JSON file of its own (the user's only:
    0600 in a 0700 folder); returns its path. ``posture exercise restore FILE`` stores it
    later, exactly as it would have been stored (:func:`restore_unstored`).

    Raises:
        OSError: the file cannot be written either.
    """
    from host.exercise.summary import result_heading, set_lines

    events = exercise_events(result, pain_before=pain_before, pain_after=pain_after)
    return _keep_in_file(
        events,
        source=f"exercise:{result.exercise}",
        name=f"exercise-{{when}}-{result.exercise}",
        summary=[result_heading(result), *set_lines(result)],
        device=device,
        started_at=started_at,
        calibration=calibration,
        directory=directory,
    )


def save_unstored_rom(
    results: list[tuple[float, RomResult]],
    *,
    device: str,
    age_years: float | None = None,
    started_at: dt.datetime | None = None,
    directory: Path | None = None,
) -> Path:
    """Keep range-of-motion results the database refused, like :func:`save_unstored`
    (``posture exercise restore FILE`` stores them later)."""
    events = [(t_s, "rom", rom_event(result, age_years)) for t_s, result in results]
    summary = [f"{r.test}: {r.value:.1f}{'°' if r.unit == 'deg' else ' s'}" for _, r in results]
    return _keep_in_file(
        events,
        source="rom",
        name="rom-{when}",
        summary=summary,
        device=device,
        started_at=started_at,
        calibration=None,
        directory=directory,
    )


def _keep_in_file(
    events: Sequence[tuple[float, str, dict[str, object]]],
    *,
    source: str,
    name: str,
    summary: list[str],
    device: str,
    started_at: dt.datetime | None,
    calibration: dict[str, object] | None,
    directory: Path | None,
) -> Path:
    """Write a session's events to a new private JSON file ``name`` (``{when}`` is replaced by
    the start time) in ``directory`` (default :func:`unstored_dir`); returns its path."""
    from host.private_dirs import make_private_dirs

    payload = {
        "format": UNSTORED_FORMAT,
        "summary": summary,
        "source": source,
        "device": device,
        "started_at": None if started_at is None else started_at.isoformat(),
        "calibration": calibration,
        "events": [{"t_s": t_s, "kind": kind, "data": data} for t_s, kind, data in events],
    }
    text = json.dumps(payload, indent=1, default=str)
    folder = directory if directory is not None else unstored_dir()
    make_private_dirs(folder)
    when = started_at or dt.datetime.now(dt.UTC).astimezone()
    stem = name.format(when=f"{when:%Y%m%d-%H%M%S}")
    for n in range(1, 1000):
        path = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            path.unlink(missing_ok=True)
            raise
        logger.warning("%s session kept in %s (not in the database)", source, path)
        return path
    raise FileExistsError(f"{folder}: too many files named {stem}*.json")


def restore_unstored(store: SessionStore, path: Path) -> int:
    """Store a session kept by :func:`save_unstored` (in one commit); returns its id. The
    file is left for the caller to remove.

    Raises:
        ConfigError: the file cannot be read or is not such a session (naming the file).
        StoreError: the database cannot be written (nothing stored).
    """
    from host.errors import ConfigError

    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the kept session: {exc}") from exc
    try:
        if payload["format"] != UNSTORED_FORMAT:
            raise ValueError(f"format {payload['format']!r}, expected {UNSTORED_FORMAT!r}")
        source = str(payload["source"])
        if not (source.startswith("exercise:") or source == "rom"):
            raise ValueError(f"source {source!r}")
        started = payload["started_at"]
        started_at = None if started is None else dt.datetime.fromisoformat(str(started))
        if started_at is not None and started_at.tzinfo is None:
            raise ValueError("started_at has no time zone")
        calibration = payload["calibration"]
        if calibration is not None and not isinstance(calibration, dict):
            raise ValueError("calibration is not an object")
        events = []
        for i, e in enumerate(payload["events"]):
            if not isinstance(e["data"], dict) or isinstance(e["t_s"], bool):
                raise ValueError(f"event {i}: data is not an object")
            events.append((float(e["t_s"]), str(e["kind"]), e["data"]))
        device = str(payload["device"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a kept exercise session ({exc})") from exc
    return _store_events(
        store,
        events,
        device=device,
        source=source,
        started_at=started_at,
        calibration=calibration,
    )


def event_span_s(events: Sequence[StoredEvent]) -> float:
    """How long an events-only session (exercise, ROM) lasted, s: from the first set's start
    (``exercise_set`` events carry it) or the first event to the last event; 0 without events.
    """
    times = [e.t_s for e in events]
    for e in events:
        start = e.data.get("start_s") if e.kind == "exercise_set" else None
        if isinstance(start, (int, float)) and not isinstance(start, bool):
            times.append(float(start))
    return max(times) - min(times) if times else 0.0


def rom_event(result: RomResult, age_years: float | None) -> dict[str, object]:
    """The data of one ``rom`` event.

    The value is stored at the precision shown (0.1° or 0.1 s) and the norm to the degree, so
    the report shows the numbers the command printed (rounding once, not 69.55 → "69.5").
    """
    return {
        "test": result.test,
        "value": _clean(round(result.value, 1)),
        "unit": result.unit,
        "trials": [round(v, 2) for v in result.trials],
        "norm": None if result.norm is None else float(round(result.norm)),
        "age_years": age_years,
        "detail": {k: _clean(round(v, 3)) for k, v in result.detail.items()},
    }


def record_rom(
    store: SessionStore,
    results: list[tuple[float, RomResult]],
    *,
    device: str,
    age_years: float | None = None,
    started_at: dt.datetime | None = None,
) -> int:
    """Store ROM results, each with the sensor time it was measured, in one commit; returns
    the session id. Raises StoreError (nothing stored) when the database cannot be written."""
    events = [(t_s, "rom", rom_event(result, age_years)) for t_s, result in results]
    return _store_events(store, events, device=device, source="rom", started_at=started_at)


def load_sessions(
    store: SessionStore,
    first: dt.date | None = None,
    last: dt.date | None = None,
    *,
    ids: Sequence[int] | None = None,
) -> list[SessionEvents]:
    """Exercise and ROM sessions (with their events) started between two local dates (and,
    with ``ids``, only those sessions)."""
    out = []
    for info in store.sessions():
        if not (info.source.startswith("exercise:") or info.source == "rom"):
            continue
        if ids is not None and info.id not in ids:
            continue
        day = info.started_at.astimezone().date()
        if (first is not None and day < first) or (last is not None and day > last):
            continue
        out.append(SessionEvents(info.started_at, info.source, store.events(info.id)))
    return out


def report_html(
    store: SessionStore,
    first: dt.date | None = None,
    last: dt.date | None = None,
    *,
    program_path: Path | None = None,
    ids: Sequence[int] | None = None,
    today: dt.date | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """The therapist report's home-exercise section (HTML) for a period; "" when there is
    nothing to show. Without dates the period spans the stored exercise and ROM sessions;
    with ``ids`` (a report of chosen sessions) only those sessions are shown, without the
    program's adherence. Prescribed days count up to ``today`` (default: the local date).

    A broken program file does not block the report: the section is made without the
    program, and ``warn`` (default: the log) is told which file could not be used.
    """
    from host.errors import ConfigError
    from host.exercise.program import default_program_path, load_program
    from host.exercise.report import exercise_section, format_html

    sessions = load_sessions(store, first, last, ids=ids)
    days = [s.started_at.astimezone().date() for s in sessions]
    if not days and (first is None or last is None or ids is not None):
        return ""
    first = first or min(days)
    last = last or max([*days, first])
    program = None
    if ids is None:
        try:
            program = load_program(program_path)
        except ConfigError as exc:
            where = program_path or default_program_path()
            message = f"program {where} left out of the report: {exc}"
            (warn or logger.warning)(message)
    today = today or dt.datetime.now(dt.UTC).astimezone().date()
    return format_html(exercise_section(sessions, program, first, last, today=today))
