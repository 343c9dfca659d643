"""Home exercise coach: library, rep counting, holds, scoring, ROM checks, programs, adherence.

Pure modules (no I/O, no asyncio, no Qt, no wall clock): ``signals``, ``counting``,
``scoring``, ``coach``, ``rom``, ``adherence``, ``summary``, ``report``. ``library`` and
``program`` read TOML; ``records`` reads and writes the session store; ``live`` plugs the coach
into the engine. See docs/exercises.md.
"""

from host.exercise.adherence import daily, due_today, weekly
from host.exercise.coach import (
    Coach,
    CoachResult,
    Feedback,
    SetResult,
    coach_block,
    coach_recording,
)
from host.exercise.library import ExerciseSpec, get_exercise, load_library
from host.exercise.program import Program, load_program, parse_program
from host.exercise.report import exercise_section, format_html, format_text
from host.exercise.rom import RomCheck, RomResult, norms_deg
from host.exercise.summary import SessionEvents, exercise_days, rom_trends

__all__ = [
    "Coach",
    "CoachResult",
    "ExerciseSpec",
    "Feedback",
    "Program",
    "RomCheck",
    "RomResult",
    "SessionEvents",
    "SetResult",
    "coach_block",
    "coach_recording",
    "daily",
    "due_today",
    "exercise_days",
    "exercise_section",
    "format_html",
    "format_text",
    "get_exercise",
    "load_library",
    "load_program",
    "norms_deg",
    "parse_program",
    "rom_trends",
    "weekly",
]
