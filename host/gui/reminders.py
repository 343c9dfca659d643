"""The daily exercise reminder: at the program's ``reminder`` time, if exercises are still due.

:class:`ExerciseReminder` checks once a minute (a QTimer; :meth:`check` can be called directly
with any time) and tells the wearer through the dashboard's :class:`~host.gui.notify.Notifier`
(tray and sound where the desktop has them, nothing otherwise) and its ``reminded`` signal (the
window shows it in the status bar, which always works). The clock is injected, so tests need no
waiting for wall-clock time. The decision itself is pure
(:func:`host.exercise.adherence.reminder_due`).

"Once a day" survives restarts: the day of the last reminder is kept in a small JSON file next
to the settings (:data:`STATE_NAME`, the user's only: 0600 in a 0700 folder, written atomically),
so starting the dashboard again the same evening does not remind again. A missing or unreadable
state file only means "not reminded yet" (said in the log); it is never an error.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from host.errors import PostureError
from host.exercise.adherence import reminder_due, reminder_text
from host.exercise.program import load_program
from host.exercise.records import load_sessions
from host.exercise.summary import exercise_days
from host.gui.notify import Notifier
from host.private_dirs import make_private_dirs
from host.recording.store import SessionStore, default_db_path

__all__ = ["STATE_NAME", "ExerciseReminder", "load_last_reminded", "save_last_reminded"]

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


STATE_NAME = "reminder-state.json"  # next to settings.toml


def _local_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone()


def load_last_reminded(path: Path) -> dt.date | None:
    """The day of the last reminder stored in ``path``; None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dt.date.fromisoformat(data["last_reminded"])
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        logger.warning("%s: ignored, the reminder may come again today (%s)", path, exc)
        return None


def save_last_reminded(path: Path, day: dt.date) -> None:
    """Store ``day`` in ``path`` atomically, readable by the user only (0600, folder 0700).

    Raises:
        OSError: it cannot be written.
    """
    make_private_dirs(path.parent)
    text = json.dumps({"last_reminded": day.isoformat()}) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=".reminder-", suffix=".json", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class ExerciseReminder(QObject):
    """Reminds once a day at the program's reminder time while exercises are due.

    Args:
        notifier: how to tell the wearer (degrades quietly).
        db_path: session database (None: the default); not created by checking.
        program_path: the imported program (None: the default location).
        state_path: where the day of the last reminder is kept across restarts (None: only
            in memory). Read here, written when it changes.
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
        state_path: Path | None = None,
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
        self.state_path = state_path
        self.last_reminded = None if state_path is None else load_last_reminded(state_path)
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
        self._remember(now.date())  # checked today: due or not, no second reminder
        if not due:
            return None
        text = reminder_text(due)
        self.notifier.notify("Time for your exercises", text, sound=self.sound, tray=self.tray)
        self.reminded.emit(text)
        return text

    def _remember(self, day: dt.date) -> None:
        self.last_reminded = day
        if self.state_path is None:
            return
        try:
            save_last_reminded(self.state_path, day)
        except OSError as exc:  # remembered for this run at least
            logger.warning("cannot store the reminder day in %s: %s", self.state_path, exc)
