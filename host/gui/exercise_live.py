"""A guided exercise on the dashboard's running engine: the coach in the engine thread, its
progress to the GUI through queued signals.

:class:`CoachListener` is an :class:`~host.engine.EngineListener` attached to the running engine
(through ``EngineThread.submit``, so the engine's listener list only changes on its own loop).
On the engine thread it turns each posture block into body-frame up vectors (as
:class:`host.exercise.live.Feeder` does), feeds the pure :class:`~host.exercise.coach.Coach` and
emits an immutable :class:`CoachView` (at most ~15 per second, or at once when the coach speaks)
through a QObject living in the GUI thread, so Qt queues it.

Ending is synchronous and thread-safe: :meth:`CoachListener.finish` takes the listener's lock
(held by the engine thread only while it feeds one block), marks the listener finished so later
blocks are ignored, and closes the coach. So Stop, a disconnect, a new device or closing the
window all get the done sets at once, whether the engine is running, winding down or gone; the
listener is then removed from the engine's list on the engine's own loop (the GUI thread never
mutates engine objects).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from host.engine import EngineListener, EngineThread, LiveUpdate
from host.exercise.coach import Coach, CoachResult, Feedback
from host.exercise.library import ExerciseSpec
from host.exercise.signals import up_from_angles
from host.gui.session import LiveSession

__all__ = ["CoachListener", "CoachView", "GuidedRun"]

logger = logging.getLogger(__name__)

_VIEW_PERIOD_S = 1.0 / 15.0  # wall time between progress signals when the coach is silent
_WATCH_MS = 250  # how often a running exercise checks that its engine thread is alive


@dataclass(frozen=True, slots=True)
class CoachView:
    """What the Exercise tab shows, built on the engine thread after each block.

    Attributes:
        phase: ``waiting`` (for the start posture), ``active``, ``rest`` or ``done``.
        holding: a hold is running (hold exercises).
        set_number: the set being done or just finished, 1-based (0 before the first).
        sets_target, reps_target: the prescription.
        count: counted reps (or holds) in that set.
        t_s: sensor time of the newest sample, s.
        hold_started_s: sensor time the running hold began (None when not holding).
        last_score: quality 0–100 of the newest counted or partial rep (None before one).
        last_hold_s: length of the newest rep's hold or of the newest hold, s.
        lines: the coach's feedback lines since the previous view.
        hold_target_s: the prescribed hold, s (0 when the exercise has none).
        rest_left_s: while resting, the rest still to go before the next set, s (else None).
    """

    phase: str
    holding: bool
    set_number: int
    sets_target: int
    reps_target: int
    count: int
    t_s: float
    hold_started_s: float | None
    last_score: float | None
    last_hold_s: float | None
    lines: tuple[Feedback, ...]
    hold_target_s: float = 0.0
    rest_left_s: float | None = None

    @property
    def state(self) -> str:
        """The wearer-facing state: waiting for start posture / counting / holding / rest / done."""
        if self.phase == "waiting":
            return "waiting for the start posture"
        if self.phase == "rest":
            return "rest"
        if self.phase == "done":
            return "done"
        return "holding" if self.holding else "counting"


class CoachListener(EngineListener):
    """Feeds a :class:`Coach` from the engine (engine thread) and reports through ``emit``.

    Args:
        coach: the coach; touched only on the engine thread while attached.
        emit: called with each :class:`CoachView` (a queued signal's ``emit``).
        clock: wall clock used only to rate-limit silent views (monotonic seconds).
    """

    def __init__(
        self,
        coach: Coach,
        emit: Any,
        clock: Any = time.monotonic,
    ) -> None:
        self.coach = coach
        # Held by the engine thread while it feeds a block, and by finish() from any thread.
        self._lock = threading.Lock()
        self._result: CoachResult | None = None
        self._emit = emit
        self._clock = clock
        self._last_emit = -math.inf
        self._set_number = 0
        self._count = 0
        self._holding = False
        self._hold_started_s: float | None = None
        self._last_score: float | None = None
        self._last_hold_s: float | None = None
        self._pending: list[Feedback] = []
        self._rest_since_s: float | None = None
        self.samples = 0
        self.done = threading.Event()

    def on_update(self, update: LiveUpdate) -> None:
        with self._lock:
            if self._result is None and not self.done.is_set():
                self._feed(update)

    def finish(self) -> CoachResult:
        """Stop coaching and return the session (any thread; later calls return the same).

        Waits for a block being fed on the engine thread; blocks arriving afterwards are
        ignored, so the result is final even if the engine still runs.
        """
        with self._lock:
            if self._result is None:
                self.done.set()
                self._result = self.coach.finish()
            return self._result

    def _feed(self, update: LiveUpdate) -> None:
        p = update.posture
        ok = np.isfinite(p.flexion_deg) & np.isfinite(p.lateral_deg)
        if not np.any(ok):
            return
        t_s = np.asarray(p.t_s, dtype=np.float64)[ok]
        self.samples += t_s.size
        lines = self.coach.update(t_s, up_from_angles(p.flexion_deg[ok], p.lateral_deg[ok]))
        for line in lines:
            self._follow(line)
        self._pending.extend(lines)
        now = self._clock()
        finished = self.coach.phase == "done"
        if lines or finished or now - self._last_emit >= _VIEW_PERIOD_S:
            self._last_emit = now
            self._emit(self._view(float(t_s[-1])))
            self._pending = []
        if finished:
            self.done.set()

    def _follow(self, line: Feedback) -> None:
        """Track the set number, the count and holds from the coach's own lines."""
        if line.kind == "set" and line.text.startswith("set "):
            self._set_number = len(self.coach.sets) + 1
            self._count = 0
        elif line.kind == "hold" and line.text == "hold":
            self._holding = True
            self._hold_started_s = line.t_s
        elif line.kind == "count":  # also said of a rep or hold too brief to count
            self._count = self.coach.set_done
        if line.kind in ("count", "hint"):
            rep, hold = self.coach.latest()
            if self.coach.spec.kind == "hold" and hold is not None and line.kind == "count":
                self._holding = False
                self._hold_started_s = None
                self._last_hold_s = hold.hold_s
            elif rep is not None:
                self._last_score = rep.score.quality
                self._last_hold_s = rep.rep.hold_s
        if line.kind == "rest":
            self._rest_since_s = line.t_s
        elif line.kind == "set":
            self._rest_since_s = None
        if line.kind in ("rest", "done"):
            self._holding = False
            self._hold_started_s = None
            if self.coach.sets:
                self._count = self.coach.sets[-1].done

    def _view(self, t_s: float) -> CoachView:
        c = self.coach
        rest_left_s = None
        if c.phase == "rest" and self._rest_since_s is not None:
            rest_left_s = max(0.0, c.spec.rest_s - (t_s - self._rest_since_s))
        return CoachView(
            phase=c.phase,
            holding=self._holding,
            set_number=self._set_number,
            sets_target=c.sets_target,
            reps_target=c.reps_target,
            count=self._count,
            t_s=t_s,
            hold_started_s=self._hold_started_s,
            last_score=self._last_score,
            last_hold_s=self._last_hold_s,
            lines=tuple(self._pending),
            hold_target_s=c.hold_target_s,
            rest_left_s=rest_left_s,
        )

    def on_error(self, message: str) -> None:
        """The engine reports errors to the window already."""


class GuidedRun(QObject):
    """One guided exercise on the running :class:`LiveSession` (GUI thread).

    Signals:
        progress(CoachView): the coach's state and new feedback lines (from the engine, queued;
            never after ``finished``).
        finished(CoachResult): the exercise ended (done, stopped, or the engine went away);
            emitted once, synchronously from :meth:`stop`.
    """

    progress = pyqtSignal(object)
    finished = pyqtSignal(object)
    _viewed = pyqtSignal(object)  # from the engine thread (queued): checked, then `progress`

    def __init__(
        self,
        session: LiveSession,
        spec: ExerciseSpec,
        *,
        sets: int | None = None,
        reps: int | None = None,
        hold_s: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.spec = spec
        self.coach = Coach(spec, sets=sets, reps=reps, hold_s=hold_s)
        self.listener = CoachListener(self.coach, self._viewed.emit)
        self.running = False
        self.result: CoachResult | None = None
        self._thread: EngineThread | None = None  # the engine the coach was attached to
        self._viewed.connect(self._on_view)
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(_WATCH_MS)
        self._watchdog.timeout.connect(self._watch)

    def start(self) -> bool:
        """Attach the coach to the running engine; False when no engine runs."""
        thread = self.session.engine_thread
        if thread is None or not self.session.running:
            return False
        engine = thread.engine
        listener = self.listener

        async def attach() -> None:
            engine.listeners.append(listener)

        self._thread = thread
        self.running = True
        if not self.session.call(attach, on_done=self._attached):
            self.running, self._thread = False, None
            return False
        if self.running:  # False when the engine, already ending, refused at once
            self._watchdog.start()
        return self.running

    def _attached(self, _result: object, error: BaseException | None) -> None:
        if error is not None:  # the engine ended before the coach could join it
            self._end(self.listener.finish())

    def _watch(self) -> None:
        """End the run if its engine thread has ended without the window hearing of it (an
        engine that died between the window's last look and the attach): nothing would feed
        the coach or end it otherwise."""
        if self.running and self._thread is not None and not self._thread.running:
            logger.info("the engine of a running exercise has ended: the exercise ends too")
            self.stop()

    def stop(self) -> None:
        """End the exercise now with what was counted (done sets and the open one).

        The coach is finished here (thread-safe, see :meth:`CoachListener.finish`), so the
        result does not depend on the engine answering; the listener is then removed on the
        engine's loop if that engine still runs.
        """
        if not self.running:
            return
        result = self.listener.finish()
        thread = self._thread
        if thread is not None:  # the engine it joined, even if a new device runs by now
            engine, listener = thread.engine, self.listener

            async def detach() -> None:
                if listener in engine.listeners:
                    engine.listeners.remove(listener)

            # The future always ends; an engine that has stopped never reads its list again.
            thread.submit(detach)
        self._end(result)

    def engine_gone(self) -> None:
        """The engine stops or stopped (disconnect, link error, new device, quit): end with
        what was counted (:meth:`stop`)."""
        self.stop()

    def _on_view(self, view: CoachView) -> None:
        if not self.running:  # fed before the end, delivered after it: the result stands
            return
        self.progress.emit(view)
        if view.phase == "done":
            self.stop()

    def _end(self, result: CoachResult) -> None:
        if self.result is not None:
            return
        self._watchdog.stop()
        self.running = False
        self.result = result
        self.finished.emit(result)
