"""The daily exercise reminder: at the program's ``reminder`` time, if exercises are still due.

:class:`ExerciseReminder` checks once a minute (a QTimer; :meth:`check` can be called directly
with any time) and tells the wearer through the dashboard's :class:`~host.gui.notify.Notifier`
(tray and sound where the desktop has them, nothing otherwise) and its ``reminded`` signal (the
window shows it in the status bar, which always works). The clock is injected, so tests need no
waiting for wall-clock time. The decision itself is pure
(:func:`host.exercise.adherence.reminder_due`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from host.errors import PostureError
from host.exercise.adherence import reminder_due, reminder_text
from host.exercise.program import load_program
from host.exercise.records import load_sessions
from host.exercise.summary import exercise_days
from host.gui.notify import Notifier
from host.recording.store import SessionStore, default_db_path

__all__ = ["ExerciseReminder"]

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def _local_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone()


class ExerciseReminder(QObject):
    """Reminds once a day at the program's reminder time while exercises are due.

    Args:
        notifier: how to tell the wearer (degrades quietly).
        db_path: session database (None: the default); not created by checking.
        program_path: the imported program (None: the default location).
        clock: local wall time now (injected for tests).
        quiet: ``quiet(now)`` True during quiet hours: the reminder waits until they end.
        sound, tray: passed to the notifier.
        parent: Qt parent.

    Signals:
        reminded(str): the reminder text, when one was given.
    """

    reminded = pyqtSignal(str)

    def __init__(
        self,
        notifier: Notifier,
        db_path: Path | None = None,
        program_path: Path | None = None,
        *,
        clock: Clock = _local_now,
        quiet: Callable[[dt.datetime], bool] = lambda _now: False,
        sound: bool = True,
        tray: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.notifier = notifier
        self.db_path = db_path or default_db_path()
        self.program_path = program_path
        self.clock = clock
        self.quiet = quiet
        self.sound = sound
        self.tray = tray
        self.last_reminded: dt.date | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)

    def start(self, interval_ms: int = 60_000) -> None:
        """Check now and then every ``interval_ms``."""
        self._timer.start(interval_ms)
        self.check()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> str | None:
        """Remind now if it is time and something is due; returns the text shown, or None."""
        now = self.clock()
        try:
            program = load_program(self.program_path)
        except PostureError as exc:
            logger.info("no exercise reminder: %s", exc)
            return None
        if program is None or program.reminder is None:
            return None
        if self.last_reminded is not None and self.last_reminded >= now.date():
            return None  # before reading the store: once a day is the common case
        if now.time().replace(tzinfo=None) < program.reminder or self.quiet(now):
            return None
        sessions = []
        if self.db_path.exists():
            try:
                with SessionStore.open(self.db_path) as store:
                    sessions = load_sessions(store, now.date() - dt.timedelta(days=7), now.date())
            except PostureError as exc:
                logger.warning("exercise reminder: %s", exc)
                return None
        due = reminder_due(program, exercise_days(sessions), now, self.last_reminded)
        self.last_reminded = now.date()  # checked today: due or not, no second reminder
        if not due:
            return None
        text = reminder_text(due)
        self.notifier.notify("Time for your exercises", text, sound=self.sound, tray=self.tray)
        self.reminded.emit(text)
        return text
