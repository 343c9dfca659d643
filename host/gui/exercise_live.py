"""A guided exercise on the dashboard's running engine: the coach in the engine thread, its
progress to the GUI through queued signals.

:class:`CoachListener` is an :class:`~host.engine.EngineListener` attached to the running engine
(through ``EngineThread.submit``, so the engine's listener list only changes on its own loop).
On the engine thread it turns each posture block into body-frame up vectors (as
:class:`host.exercise.live.Feeder` does), feeds the pure :class:`~host.exercise.coach.Coach` and
emits an immutable :class:`CoachView` (at most ~15 per second, or at once when the coach speaks)
through a QObject living in the GUI thread, so Qt queues it. The GUI never touches the coach
while it is attached; the final :meth:`Coach.finish` also runs on the engine thread, in the call
that detaches the listener, and its result comes back as a queued call result.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from host.engine import EngineListener, LiveUpdate
from host.exercise.coach import Coach, CoachResult, Feedback, ScoredRep
from host.exercise.counting import Hold
from host.exercise.library import ExerciseSpec
from host.exercise.signals import up_from_angles
from host.gui.session import LiveSession

__all__ = ["CoachListener", "CoachView", "GuidedRun"]

_VIEW_PERIOD_S = 1.0 / 15.0  # wall time between progress signals when the coach is silent


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


def _newest(coach: Coach) -> tuple[ScoredRep | None, Hold | None]:
    """The newest rep and hold, in the open set or the last closed one.

    The coach has no public accessor for its open set (asked for); until it has, this reads
    the one private field, read-only and on the engine thread only.
    """
    current = getattr(coach, "_current", None)
    reps: list[ScoredRep] = list(getattr(current, "reps", ()))
    holds: list[Hold] = list(getattr(current, "holds", ()))
    if not reps and not holds and coach.sets:
        reps, holds = list(coach.sets[-1].reps), list(coach.sets[-1].holds)
    return (reps[-1] if reps else None), (holds[-1] if holds else None)


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
        self.samples = 0
        self.done = threading.Event()

    def on_update(self, update: LiveUpdate) -> None:
        if self.done.is_set():
            return
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
        elif line.kind == "count":
            self._count += 1
        if line.kind in ("count", "hint"):
            rep, hold = _newest(self.coach)
            if self.coach.spec.kind == "hold" and hold is not None and line.kind == "count":
                self._holding = False
                self._hold_started_s = None
                self._last_hold_s = hold.hold_s
            elif rep is not None:
                self._last_score = rep.score.quality
                self._last_hold_s = rep.rep.hold_s
        if line.kind in ("rest", "done"):
            self._holding = False
            self._hold_started_s = None
            if self.coach.sets:
                self._count = self.coach.sets[-1].done

    def _view(self, t_s: float) -> CoachView:
        c = self.coach
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
        )

    def on_error(self, message: str) -> None:
        """The engine reports errors to the window already."""


class GuidedRun(QObject):
    """One guided exercise on the running :class:`LiveSession` (GUI thread).

    Signals:
        progress(CoachView): the coach's state and new feedback lines (queued from the engine).
        finished(CoachResult): the exercise ended (done, stopped, or the engine went away).
    """

    progress = pyqtSignal(object)
    finished = pyqtSignal(object)

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
        self.listener = CoachListener(self.coach, self.progress.emit)
        self.running = False
        self.result: CoachResult | None = None
        self._stopping = False
        self.progress.connect(self._on_progress)

    def start(self) -> bool:
        """Attach the coach to the running engine; False when no engine runs."""
        thread = self.session.engine_thread
        if thread is None or not self.session.running:
            return False
        engine = thread.engine
        listener = self.listener

        async def attach() -> None:
            engine.listeners.append(listener)

        if not self.session.call(attach, on_done=self._attached):
            return False
        self.running = True
        return True

    def _attached(self, _result: object, error: BaseException | None) -> None:
        if error is not None:  # the engine ended before the coach could join it
            self._end(self.coach.finish())

    def stop(self) -> None:
        """End the exercise: detach the coach on the engine thread and close its open set."""
        if not self.running or self._stopping:
            return
        self._stopping = True
        thread = self.session.engine_thread
        listener = self.listener
        coach = self.coach
        if thread is None:  # the engine is gone: nobody feeds the coach any more
            self._end(coach.finish())
            return
        engine = thread.engine

        async def detach() -> CoachResult:
            if listener in engine.listeners:
                engine.listeners.remove(listener)
            return coach.finish()

        def detached(result: object, error: BaseException | None) -> None:
            if isinstance(result, CoachResult):
                self._end(result)
            else:  # the engine stopped first; its thread no longer runs the listener
                self._end(coach.finish())

        if not self.session.call(detach, on_done=detached):
            self._end(coach.finish())

    def engine_gone(self) -> None:
        """The engine stops or stopped (disconnect, link error): end with what was counted.

        While the engine still runs, the coach is detached on its thread (:meth:`stop`);
        otherwise nothing feeds the coach any more and it is finished here.
        """
        if not self.running or self._stopping:
            return
        if self.session.running:
            self.stop()
            return
        self._stopping = True
        self.listener.done.set()
        self._end(self.coach.finish())

    def _on_progress(self, view: CoachView) -> None:
        if view.phase == "done":
            self.stop()

    def _end(self, result: CoachResult) -> None:
        if self.result is not None:
            return
        self.running = False
        self.result = result
        self.finished.emit(result)
