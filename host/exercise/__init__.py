"""Home exercise coach: library, rep counting, holds, scoring, ROM checks, programs, adherence.

Pure modules (no I/O, no asyncio, no Qt, no wall clock): ``signals``, ``counting``,
``scoring``, ``coach``, ``rom``, ``adherence``, ``summary``. ``library`` and ``program`` read
TOML; ``records`` writes to the session store.
"""

from host.exercise.coach import Coach, CoachResult, Feedback, SetResult, coach_recording
from host.exercise.library import ExerciseSpec, get_exercise, load_library

__all__ = [
    "Coach",
    "CoachResult",
    "ExerciseSpec",
    "Feedback",
    "SetResult",
    "coach_recording",
    "get_exercise",
    "load_library",
]
