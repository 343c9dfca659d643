"""The therapist's home program: a TOML file, validated with errors that name key and line.

Format (full example in docs/exercises.md)::

    [program]
    title = "Low back, weeks 1-4"     # required
    prescribed_by = "A. Therapist"     # optional
    start_date = 2026-12-01            # optional TOML date: adherence counts from here
    days_per_week = 5                  # required, 1-7
    reminder = "18:00"                 # optional, 24-hour HH:MM: the dashboard reminds daily

    [alerts]                           # optional: the patient's posture-alert settings
    tolerance_deg = 15.0               # 1-90
    delay_s = 120.0                    # 0-3600
    mode = "threshold"                 # threshold | iso11226

    [[exercise]]                       # one table per exercise, at least one
    name = "cat_camel"                 # a library exercise (posture exercise list)
    sets = 2                           # 1-20, default: the library's
    reps = 10                          # reps (or holds) per set, 1-100, default: the library's
    hold_s = 0.0                       # optional, default: the library's
    days_per_week = 7                  # optional, default: the program's

Parsing is pure; :func:`save_program` stores the validated text in the user config directory
(0600 in a 0700 directory: it names the patient's treatment).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host.errors import ConfigError
from host.exercise.library import ExerciseSpec, load_library
from host.private_dirs import make_private_dirs

__all__ = [
    "ALERT_MODES",
    "Prescription",
    "Program",
    "default_program_path",
    "load_program",
    "parse_program",
    "save_program",
]

ALERT_MODES = ("threshold", "iso11226")


@dataclass(frozen=True, slots=True)
class Prescription:
    """One prescribed exercise: sets × reps (or holds), hold length, days per week."""

    name: str
    sets: int
    reps: int
    hold_s: float
    days_per_week: int


@dataclass(frozen=True, slots=True)
class Program:
    """A validated home program.

    Attributes:
        title, prescribed_by: free text.
        start_date: first day adherence counts, or None.
        days_per_week: default training days per week.
        exercises: the prescriptions, in file order.
        tolerance_deg, delay_s, mode: posture-alert settings, or None when not given.
        reminder: local time of the daily reminder while exercises are due, or None.
    """

    title: str
    prescribed_by: str
    start_date: dt.date | None
    days_per_week: int
    exercises: tuple[Prescription, ...]
    tolerance_deg: float | None = None
    delay_s: float | None = None
    mode: str | None = None
    reminder: dt.time | None = None

    def prescription(self, name: str) -> Prescription | None:
        return next((p for p in self.exercises if p.name == name), None)


class _Where:
    """Finds the line of a key in the original text (tomllib does not keep positions)."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def _table_line(self, table: str, index: int = 0) -> int:
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        hits = [i for i, line in enumerate(self.lines) if pattern.match(line)]
        return hits[index] if index < len(hits) else -1

    def label(self, table: str, index: int = 0) -> str:
        return f"[{table}]" if table != "exercise" else f"[[exercise]] #{index + 1}"

    def key_line(self, table: str, key: str, index: int = 0) -> int:
        """0-based line of ``key = ...`` inside the table (-1 when not found)."""
        start = self._table_line(table, index)
        pattern = re.compile(rf"\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
        for i in range(max(start, 0) + (1 if start >= 0 else 0), len(self.lines)):
            if i > start >= 0 and self.lines[i].lstrip().startswith("["):
                break
            if pattern.match(self.lines[i]):
                return i
        return -1

    def __call__(self, table: str, key: str | None = None, index: int = 0) -> str:
        label = self.label(table, index)
        if key is None:
            start = self._table_line(table, index)
            return f"{self.source}, line {start + 1}: {label}" if start >= 0 else self.source
        line = self.key_line(table, key, index)
        if line >= 0:
            return f"{self.source}, line {line + 1}: {label} {key}"
        return f"{self.source}: {label} {key}"


def _number(value: Any, where: str, lo: float, hi: float, *, integer: bool = False) -> float:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{where}: must be {kind}, not {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{where}: {value} is out of range ({lo:g} to {hi:g})")
    return float(value)


def _known(
    table: dict[str, Any], keys: set[str], at: _Where, name: str | None, index: int = 0
) -> None:
    """Refuse unknown keys, naming the first one in file order with its own line.

    ``name`` None is the top level, whose keys are tables (``[colour]``).
    """
    unknown = [key for key in table if key not in keys]
    if not unknown:
        return
    known = ", ".join(sorted(keys))
    if name is None:
        lines = [(at._table_line(key), key) for key in unknown]
        line, key = min(lines, key=lambda lk: (lk[0] < 0, lk[0]))
        where = at.source if line < 0 else f"{at.source}, line {line + 1}"
        raise ConfigError(f"{where}: unknown table or key {key!r}; known: {known}")
    lines = [(at.key_line(name, key, index), key) for key in unknown]
    line, key = min(lines, key=lambda lk: (lk[0] < 0, lk[0]))
    where = (
        at(name, None, index)
        if line < 0
        else f"{at.source}, line {line + 1}: " + at.label(name, index)
    )
    raise ConfigError(f"{where}: unknown key {key!r}; known: {known}")


def _exercise(
    item: Any, index: int, default_days: int, library: dict[str, ExerciseSpec], at: _Where
) -> Prescription:
    if not isinstance(item, dict):
        raise ConfigError(f"{at('exercise', None, index)}: must be a table")
    _known(item, {"name", "sets", "reps", "hold_s", "days_per_week"}, at, "exercise", index)
    name = item.get("name")
    if not isinstance(name, str):
        raise ConfigError(f"{at('exercise', 'name', index)}: missing or not a string")
    if name not in library:
        raise ConfigError(
            f"{at('exercise', 'name', index)}: unknown exercise {name!r}; "
            f"one of: {', '.join(library)}"
        )
    spec = library[name]
    sets = _number(item.get("sets", spec.sets), at("exercise", "sets", index), 1, 20, integer=True)
    reps = _number(item.get("reps", spec.reps), at("exercise", "reps", index), 1, 100, integer=True)
    hold = _number(item.get("hold_s", spec.hold_s), at("exercise", "hold_s", index), 0, 300)
    days = _number(
        item.get("days_per_week", default_days),
        at("exercise", "days_per_week", index),
        1,
        7,
        integer=True,
    )
    return Prescription(name, int(sets), int(reps), hold, int(days))


def parse_program(text: str, source: str = "<program>") -> Program:
    """Parse and validate a program file's text.

    Raises:
        ConfigError: invalid TOML (with its line), or a missing, unknown, mistyped or
            out-of-range key (naming the table, key and line).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    at = _Where(text, source)
    _known(data, {"program", "alerts", "exercise"}, at, None)
    head = data.get("program")
    if not isinstance(head, dict):
        raise ConfigError(f"{source}: missing the [program] table (title, days_per_week)")
    _known(
        head, {"title", "prescribed_by", "start_date", "days_per_week", "reminder"}, at, "program"
    )
    title = head.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"{at('program', 'title')}: missing or empty")
    by = head.get("prescribed_by", "")
    if not isinstance(by, str):
        raise ConfigError(f"{at('program', 'prescribed_by')}: must be a string")
    start = _start_date(head.get("start_date"), at)
    reminder = _reminder(head.get("reminder"), at)
    if "days_per_week" not in head:
        raise ConfigError(f"{at('program')}: missing key 'days_per_week'")
    days = int(_number(head["days_per_week"], at("program", "days_per_week"), 1, 7, integer=True))
    items = data.get("exercise")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{source}: no [[exercise]] tables; a program needs at least one")
    library = load_library()
    exercises = tuple(_exercise(item, i, days, library, at) for i, item in enumerate(items))
    names = [p.name for p in exercises]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ConfigError(f"{source}: exercise {dup!r} is listed twice; merge the two tables")
    alerts = data.get("alerts", {})
    if not isinstance(alerts, dict):
        raise ConfigError(f"{source}: [alerts] must be a table")
    _known(alerts, {"tolerance_deg", "delay_s", "mode"}, at, "alerts")
    tol = alerts.get("tolerance_deg")
    delay = alerts.get("delay_s")
    mode = alerts.get("mode")
    if mode is not None and mode not in ALERT_MODES:
        raise ConfigError(f"{at('alerts', 'mode')}: use one of {', '.join(ALERT_MODES)}")
    return Program(
        title.strip(),
        by,
        start,
        days,
        exercises,
        None if tol is None else _number(tol, at("alerts", "tolerance_deg"), 1, 90),
        None if delay is None else _number(delay, at("alerts", "delay_s"), 0, 3600),
        mode,
        reminder,
    )


def _start_date(value: Any, at: _Where) -> dt.date | None:
    """``start_date = 2026-12-01``: a TOML date (a quoted one is a string to TOML)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    where = at("program", "start_date")
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            raise ConfigError(
                f"{where}: use a TOML date without quotes: start_date = {day.isoformat()}"
            )
    raise ConfigError(
        f"{where}: must be a TOML date without quotes, like start_date = 2026-12-01, not {value!r}"
    )


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _reminder(value: Any, at: _Where) -> dt.time | None:
    """``reminder = "18:00"`` (or a TOML local time ``18:00:00``) → a time of day."""
    if value is None:
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f'{at("program", "reminder")}: use a 24-hour time like "18:00", not {value!r}'
        )
    return dt.time(int(match[1]), int(match[2]))


def default_program_path() -> Path:
    """``$POSTURE_PROGRAM`` or ``program.toml`` in the user config directory."""
    env = os.environ.get("POSTURE_PROGRAM")
    if env:
        return Path(env)
    import platformdirs

    from host.settings import APP_NAME

    return platformdirs.user_config_path(APP_NAME) / "program.toml"


def save_program(text: str, path: Path | None = None) -> Path:
    """Validate and store a program's text (0600; the directory 0700).

    The file is replaced atomically (a sibling temporary file, then a rename), so a failed
    write leaves the previous program as it was.

    Raises:
        ConfigError: the text is not a valid program, or the file cannot be written.
    """
    parse_program(text)
    path = default_program_path() if path is None else path
    tmp: Path | None = None
    try:
        make_private_dirs(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=".program-", suffix=".toml", dir=path.parent)
        tmp = Path(tmp_name)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc}") from exc
    return path


def load_program(path: Path | None = None) -> Program | None:
    """The stored program, or None when none was imported.

    Raises:
        ConfigError: the stored file is unreadable or invalid.
    """
    path = default_program_path() if path is None else path
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # UnicodeDecodeError: not a text file
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return parse_program(text, str(path))
