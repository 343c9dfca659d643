"""Program-file errors point at the offending key's own line; quoted dates get a hint."""

from __future__ import annotations

import re

import pytest

from host.errors import ConfigError
from host.exercise.program import parse_program

PROGRAM = """\
[program]
title = "Back"
days_per_week = 5
{program_extra}
[alerts]
tolerance_deg = 18.0
{alerts_extra}
[[exercise]]
name = "cat_camel"
sets = 2

[[exercise]]
name = "bridge"
reps = 8
{exercise_extra}
"""


def _text(program_extra: str = "", alerts_extra: str = "", exercise_extra: str = "") -> str:
    return PROGRAM.format(
        program_extra=program_extra, alerts_extra=alerts_extra, exercise_extra=exercise_extra
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_text(program_extra='colour = "blue"'), "p.toml, line 4: [program]: unknown key 'colour'"),
        (_text(alerts_extra="volume = 3"), "p.toml, line 7: [alerts]: unknown key 'volume'"),
        (
            _text(exercise_extra="tempo = 2"),
            "p.toml, line 15: [[exercise]] #2: unknown key 'tempo'",
        ),
        (_text() + "\n[colour]\nred = 1\n", "p.toml, line 17: unknown table or key 'colour'"),
    ],
)
def test_unknown_keys_are_reported_on_their_own_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_program(text, "p.toml")


def test_quoted_start_date_says_to_drop_the_quotes() -> None:
    text = _text(program_extra='start_date = "2026-12-01"')
    with pytest.raises(ConfigError) as caught:
        parse_program(text, "p.toml")
    assert str(caught.value) == (
        "p.toml, line 4: [program] start_date: use a TOML date without quotes: "
        "start_date = 2026-12-01"
    )


def test_start_date_that_is_no_date() -> None:
    with pytest.raises(ConfigError, match=r"line 4: \[program\] start_date: must be a TOML date"):
        parse_program(_text(program_extra='start_date = "soon"'), "p.toml")
    program = parse_program(_text(program_extra="start_date = 2026-12-01"), "p.toml")
    assert program.start_date is not None
    assert program.start_date.isoformat() == "2026-12-01"
