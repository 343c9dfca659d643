"""The exercise library: one TOML file per exercise in ``host/exercise/library/`` (data, not code).

Each file is a flat table (see docs/exercises.md for the meaning of every key)::

    name = "cat_camel"            # identifier, same as the file name
    title = "Cat–camel"
    kind = "reps"                 # "reps": counted repetitions; "hold": timed holds
    signal = "pitch"              # pitch | lateral | tilt, relative to the start posture
    direction = 1                 # +1 / −1: which way the counted excursion moves the signal;
                                  # 0 (holds only): either side
    start_posture = "quadruped"   # standing | sitting | quadruped | prone | supine | half_kneeling
    target_deg = 15.0             # target range (reps) or design shift (holds), degrees
    sets = 2
    reps = 10                     # repetitions per set (holds per set for kind = "hold")
    hold_s = 0.0                  # hold at the top of each rep / length of each hold, s
    rest_s = 30.0                 # rest between sets, s
    instructions = "..."
    sensor_notes = "..."          # what the sensor measures, and what it cannot tell

Loading validates every file and raises :class:`~host.errors.ConfigError` naming the file and
the key, so a broken library is caught by the tests, not by a patient.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from host.errors import ConfigError
from host.exercise.signals import POSTURES, SIGNALS

__all__ = ["KINDS", "ExerciseSpec", "get_exercise", "load_library", "parse_exercise"]

KINDS = ("reps", "hold")


@dataclass(frozen=True, slots=True)
class ExerciseSpec:
    """One exercise of the library (angles in degrees, times in seconds)."""

    name: str
    title: str
    kind: str
    signal: str
    direction: float
    start_posture: str
    target_deg: float
    sets: int
    reps: int
    hold_s: float
    rest_s: float
    instructions: str
    sensor_notes: str
    counter_deg: float = 0.0
    tempo_s: tuple[float, float] = (1.0, 60.0)
    partial_fraction: float = 0.6
    steadiness_max_deg: float = 4.0
    stillness_max_deg: float = 2.0


_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "title": str,
    "kind": str,
    "signal": str,
    "direction": int,
    "start_posture": str,
    "target_deg": (int, float),
    "sets": int,
    "reps": int,
    "hold_s": (int, float),
    "rest_s": (int, float),
    "instructions": str,
    "sensor_notes": str,
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "counter_deg": (int, float),
    "tempo_s": list,
    "partial_fraction": (int, float),
    "steadiness_max_deg": (int, float),
    "stillness_max_deg": (int, float),
}


def _check(data: dict[str, Any], source: str) -> None:
    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise ConfigError(f"{source}: unknown key {key!r}")
    for key in _REQUIRED:
        if key not in data:
            raise ConfigError(f"{source}: missing key {key!r}")
    for key, value in data.items():
        kind = _REQUIRED.get(key) or _OPTIONAL[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{source}: {key!r} has the wrong type ({type(value).__name__})")
    checks = [
        (data["kind"] in KINDS, "kind", f"one of {', '.join(KINDS)}"),
        (data["signal"] in SIGNALS, "signal", f"one of {', '.join(SIGNALS)}"),
        (data["direction"] in (1, -1, 0), "direction", "1, -1 or 0 (either side)"),
        (data["direction"] != 0 or data["kind"] == "hold", "direction", "1 or -1 for reps"),
        (data["start_posture"] in POSTURES, "start_posture", f"one of {', '.join(POSTURES)}"),
        (0 < data["target_deg"] <= 90, "target_deg", "in (0, 90] degrees"),
        (1 <= data["sets"] <= 20, "sets", "1–20"),
        (1 <= data["reps"] <= 100, "reps", "1–100"),
        (0 <= data["hold_s"] <= 300, "hold_s", "0–300 s"),
        (0 <= data["rest_s"] <= 600, "rest_s", "0–600 s"),
        (0 < data.get("partial_fraction", 0.6) < 1, "partial_fraction", "between 0 and 1"),
    ]
    for ok, key, what in checks:
        if not ok:
            raise ConfigError(f"{source}: {key!r} must be {what}, not {data[key]!r}")
    tempo = data.get("tempo_s", [1.0, 60.0])
    if (
        len(tempo) != 2
        or not all(isinstance(v, (int, float)) for v in tempo)
        or tempo[0] >= tempo[1]
    ):
        raise ConfigError(f"{source}: 'tempo_s' must be [shortest, longest] seconds")


def parse_exercise(text: str, source: str = "<exercise>") -> ExerciseSpec:
    """Parse and validate one exercise file.

    Raises:
        ConfigError: not TOML, or a key missing, unknown, mistyped or out of range.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    _check(data, source)
    tempo = data.get("tempo_s", [1.0, 60.0])
    return ExerciseSpec(
        name=data["name"],
        title=data["title"],
        kind=data["kind"],
        signal=data["signal"],
        direction=float(data["direction"]),
        start_posture=data["start_posture"],
        target_deg=float(data["target_deg"]),
        sets=data["sets"],
        reps=data["reps"],
        hold_s=float(data["hold_s"]),
        rest_s=float(data["rest_s"]),
        instructions=data["instructions"].strip(),
        sensor_notes=data["sensor_notes"].strip(),
        counter_deg=float(data.get("counter_deg", 0.0)),
        tempo_s=(float(tempo[0]), float(tempo[1])),
        partial_fraction=float(data.get("partial_fraction", 0.6)),
        steadiness_max_deg=float(data.get("steadiness_max_deg", 4.0)),
        stillness_max_deg=float(data.get("stillness_max_deg", 2.0)),
    )


def load_library() -> dict[str, ExerciseSpec]:
    """Every exercise shipped in ``host/exercise/library`` by name (sorted).

    Raises:
        ConfigError: a library file is invalid, or its name differs from its file name.
    """
    folder = resources.files("host.exercise").joinpath("library")
    out: dict[str, ExerciseSpec] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        spec = parse_exercise(entry.read_text(encoding="utf-8"), f"library/{entry.name}")
        if spec.name != entry.name.removesuffix(".toml"):
            raise ConfigError(f"library/{entry.name}: name {spec.name!r} differs from the file")
        out[spec.name] = spec
    return out


def get_exercise(name: str) -> ExerciseSpec:
    """One exercise by name.

    Raises:
        ConfigError: unknown name (the message lists the library).
    """
    library = load_library()
    if name not in library:
        raise ConfigError(f"unknown exercise {name!r}; one of: {', '.join(library)}")
    return library[name]
