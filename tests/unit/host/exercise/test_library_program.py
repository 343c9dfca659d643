"""Exercise library files and the therapist's program file: loading and validation errors."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from host.errors import ConfigError
from host.exercise.library import load_library, parse_exercise
from host.exercise.program import load_program, parse_program, save_program

DOCS = Path(__file__).parents[4] / "docs" / "exercises.md"


def test_library_loads_every_exercise_of_the_issue() -> None:
    library = load_library()
    assert set(library) == {
        "cat_camel", "pelvic_tilt", "bridge", "prone_press_up", "bird_dog", "knee_to_chest",
        "hamstring_stretch", "hip_flexor_stretch", "single_leg_stance",
    }  # fmt: skip
    for spec in library.values():
        assert spec.instructions
        assert spec.sensor_notes
        assert spec.target_deg > 0
    # the sensor cannot tell the limb or leg: the instructions say so instead of guessing
    for name in ("bird_dog", "single_leg_stance", "knee_to_chest", "hamstring_stretch"):
        assert "cannot tell" in library[name].sensor_notes


def test_library_is_package_data() -> None:
    from importlib import resources

    files = [e.name for e in resources.files("host.exercise").joinpath("library").iterdir()]
    assert "cat_camel.toml" in files


_GOOD = """
name = "x"
title = "X"
kind = "reps"
signal = "pitch"
direction = 1
start_posture = "supine"
target_deg = 10.0
sets = 2
reps = 10
hold_s = 0.0
rest_s = 30.0
instructions = "do it"
sensor_notes = "sees it"
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "reps"', 'kind = "dance"'), "'kind' must be one of"),
        (('signal = "pitch"', 'signal = "yaw"'), "'signal'"),
        (("direction = 1", "direction = 0"), "1 or -1 for reps"),
        (("sets = 2", "sets = 2.5"), "'sets' has the wrong type"),
        (("target_deg = 10.0", "target_deg = 120.0"), "'target_deg' must be in (0, 90]"),
        (("rest_s = 30.0", "rest_s = 30.0\ncolour = 1"), "unknown key 'colour'"),
        (("reps = 10\n", ""), "missing key 'reps'"),
        (('name = "x"', "name = x"), "not valid TOML"),
    ],
)
def test_exercise_validation_names_the_key(change: tuple[str, str], message: str) -> None:
    parse_exercise(_GOOD)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_exercise(_GOOD.replace(*change), "x.toml")


def _docs_example() -> str:
    """The full program example in docs/exercises.md (between the program-example markers)."""
    text = DOCS.read_text(encoding="utf-8")
    body = text.split("<!-- program-example -->")[1]
    return body.split("```toml")[1].split("```")[0]


def test_documented_example_is_a_valid_program() -> None:
    program = parse_program(_docs_example(), "docs example")
    assert program.days_per_week >= 1
    assert program.exercises
    assert program.tolerance_deg is not None


_PROGRAM = """\
[program]
title = "Back, weeks 1-4"
start_date = 2026-11-02
days_per_week = 5

[alerts]
tolerance_deg = 18.0
delay_s = 90.0
mode = "threshold"

[[exercise]]
name = "cat_camel"
sets = 2
reps = 10

[[exercise]]
name = "bridge"
reps = 8
days_per_week = 3
"""


def test_program_parses_with_library_defaults() -> None:
    p = parse_program(_PROGRAM)
    assert p.title == "Back, weeks 1-4"
    assert p.start_date == dt.date(2026, 11, 2)
    bridge = p.prescription("bridge")
    assert bridge is not None
    assert (bridge.sets, bridge.reps, bridge.hold_s, bridge.days_per_week) == (2, 8, 3.0, 3)
    cat = p.prescription("cat_camel")
    assert cat is not None
    assert cat.days_per_week == 5
    assert (p.tolerance_deg, p.delay_s, p.mode) == (18.0, 90.0, "threshold")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("reps = 8", 'reps = "8"', r"line 18: \[\[exercise\]\] #2 reps: must be a whole number"),
        (
            'name = "bridge"',
            'name = "plank"',
            r"line 17: \[\[exercise\]\] #2 name: unknown exercise",
        ),
        ("sets = 2", "sets = 0", r"line 13: \[\[exercise\]\] #1 sets: 0 is out of range"),
        ("days_per_week = 5", "days_per_week = 9", r"line 4: \[program\] days_per_week"),
        ('mode = "threshold"', 'mode = "loud"', r"line 9: \[alerts\] mode: use one of"),
        ("delay_s = 90.0", "delay_s = 90.0\nvolume = 3", r"\[alerts\].*unknown key 'volume'"),
        ("start_date = 2026-11-02", 'start_date = "soon"', r"line 3: \[program\] start_date"),
        ('title = "Back, weeks 1-4"', "title = ", "not valid TOML"),
        ('name = "bridge"', 'name = "cat_camel"', "listed twice"),
        (
            "days_per_week = 5",
            'days_per_week = 5\nreminder = "6pm"',
            r"^p.toml, line 5: \[program\] reminder: use a 24-hour time like \"18:00\", not '6pm'",
        ),
        ("days_per_week = 5", 'days_per_week = 5\nreminder = "24:00"', r"line 5: .* reminder"),
        ("days_per_week = 5", "days_per_week = 5\nreminder = 18", r"line 5: .* reminder"),
    ],
)
def test_program_errors_name_key_and_line(old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_program(_PROGRAM.replace(old, new, 1), "p.toml")


def test_program_reminder_time() -> None:
    assert parse_program(_PROGRAM).reminder is None
    with_reminder = _PROGRAM.replace("days_per_week = 5", 'days_per_week = 5\nreminder = "7:30"')
    assert parse_program(with_reminder).reminder == dt.time(7, 30)
    toml_time = _PROGRAM.replace("days_per_week = 5", "days_per_week = 5\nreminder = 18:00:00")
    assert parse_program(toml_time).reminder == dt.time(18, 0)
    assert parse_program(_docs_example()).reminder == dt.time(18, 0)


def test_program_without_exercises_or_header() -> None:
    with pytest.raises(ConfigError, match="no \\[\\[exercise\\]\\] tables"):
        parse_program("[program]\ntitle = 'x'\ndays_per_week = 3\n")
    with pytest.raises(ConfigError, match="missing the \\[program\\] table"):
        parse_program("[[exercise]]\nname = 'bridge'\n")


def test_program_is_stored_private(tmp_path: Path) -> None:
    path = tmp_path / "config" / "posture-companion" / "program.toml"
    save_program(_PROGRAM, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # every folder it had to create is private, not just the last one
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    loaded = load_program(path)
    assert loaded is not None
    assert loaded.title == "Back, weeks 1-4"
    assert load_program(tmp_path / "none.toml") is None
    with pytest.raises(ConfigError):
        save_program("[program]\n", path)


def test_a_stored_program_that_is_not_text_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "program.toml"
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(ConfigError, match=r"cannot read .*program\.toml"):
        load_program(path)
