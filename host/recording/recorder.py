"""The recording sink of the live engine: buffers, then commits at least once per second.

Crash safety comes from the commit cadence: whatever was handed to :meth:`Recorder.on_block`
more than :data:`COMMIT_INTERVAL_S` ago (monotonic wall time) is in a durable SQLite
transaction (WAL, ``synchronous=FULL``), so kill -9 or a power cut loses at most the last second.
Samples, the per-second summaries and the events of one flush go into one transaction, so a
crash never leaves summaries without their samples.

A failed write (disk full, database locked by another program) does not end the recording: the
batch stays buffered and is retried with backoff; the problem is reported once through
``on_problem`` (and the log). Only after :data:`GIVE_UP_S` of failing does the recorder stop
recording, counting what it could not store in :attr:`Recorder.lost_samples`. The session row
itself can be created by the recorder with the first write (``create_session``), so a database
that is locked when recording starts is retried the same way instead of abandoning the run.
:meth:`Recorder.close` keeps trying the last write for up to :data:`CLOSE_RETRY_S` before it
counts the rest as lost.

Not thread-safe by itself: call it from one thread (the engine's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from host.errors import StoreError
from host.recording.store import SessionStore
from host.recording.summary import PostureLike, SecondSummaries, SummaryAccumulator
from host.samples import SampleBlock
from host.transports.base import LinkEvent

__all__ = [
    "CLOSE_RETRY_S",
    "COMMIT_INTERVAL_S",
    "GIVE_UP_S",
    "AlertLike",
    "Recorder",
    "link_event_data",
]

logger = logging.getLogger(__name__)

# Commit cadence; the crash-loss bound of the store.
COMMIT_INTERVAL_S = 0.5
# Also commit when this many samples are buffered (bounds memory and chunk size at high rates).
_MAX_BUFFERED_SAMPLES = 3000
# After a failed write: first retry delay, doubling up to the cap; give up recording after this
# long of failing (monitoring goes on; what was committed stays).
_RETRY_INITIAL_S = 0.5
_RETRY_MAX_S = 8.0
GIVE_UP_S = 60.0
# close(): how long the last write keeps being retried (another program's write lock is usually
# short); bounded so quitting the dashboard (which waits 5 s for the engine) still ends the session
CLOSE_RETRY_S = 3.0
_CLOSE_RETRY_PAUSE_S = 0.1


class AlertLike(Protocol):
    """What the recorder needs of ``host.alerts.Alert``."""

    @property
    def t_s(self) -> float: ...
    def to_dict(self) -> dict[str, object]: ...


def link_event_data(event: LinkEvent) -> dict[str, object]:
    """The stored form of a connection change (event kind ``link``)."""
    return {"state": event.state.value, "detail": event.detail, "attempt": event.attempt}


class Recorder:
    """Writes a live session into a :class:`SessionStore`.

    Args:
        store: an open store.
        session_id: the session to append to (from :meth:`SessionStore.create_session`), or
            None to have ``create_session`` make it in the first write (and retried with it).
        create_session: makes the session in ``store`` and returns its id; called inside the
            recorder's transaction, so a failed write leaves no session behind.
        on_problem: called with a message when writing starts failing, recovers, or is given
            up (once each); without it the recorder logs them as errors.
        give_up_s: how long writes may keep failing before recording stops.
        close_retry_s: how long :meth:`close` keeps retrying the last write.
    """

    def __init__(
        self,
        store: SessionStore,
        session_id: int | None = None,
        *,
        create_session: Callable[[], int] | None = None,
        on_problem: Callable[[str], None] | None = None,
        give_up_s: float = GIVE_UP_S,
        close_retry_s: float = CLOSE_RETRY_S,
    ) -> None:
        if session_id is None and create_session is None:
            raise ValueError("Recorder needs a session_id or a create_session function")
        self._store = store
        self._session_id = session_id
        self._create_session = create_session
        self._close_retry_s = close_retry_s
        self._on_problem = on_problem
        self._give_up_s = give_up_s
        self._failing_since: float | None = None
        self._retry_at = 0.0
        self._retry_delay_s = _RETRY_INITIAL_S
        self._blocks: list[SampleBlock] = []
        self._n_buffered = 0
        self._seconds: list[SecondSummaries] = []
        self._events: list[tuple[float, str, dict[str, object]]] = []
        self._accumulator = SummaryAccumulator()
        self._last_commit = time.monotonic()
        self._last_t_s = 0.0
        self._closed = False
        self.samples_written = 0
        self.commits = 0
        self.lost_samples = 0  # handed over but never stored (writes failed for too long)
        self.failed = False  # gave up recording after failing writes

    @property
    def session_id(self) -> int | None:
        """The session being recorded (None until its first write succeeded)."""
        return self._session_id

    def on_block(self, samples: SampleBlock, posture: PostureLike) -> None:
        """Record a block of raw samples and their posture (same length, same times)."""
        if self._closed or len(samples) == 0:
            if self.failed:
                self.lost_samples += len(samples)
            return
        self._blocks.append(samples)
        self._n_buffered += len(samples)
        self._last_t_s = float(samples.t_s[-1])
        seconds = self._accumulator.add(posture)
        if len(seconds):
            self._seconds.append(seconds)
        self._maybe_commit()

    def on_alert(self, alert: AlertLike) -> None:
        """Record an alert (its ``to_dict()`` is the event data)."""
        self.on_event(float(alert.t_s), "alert", alert.to_dict())

    def on_link(self, event: LinkEvent) -> None:
        """Record a connection change at the time of the latest sample."""
        self.on_event(self._last_t_s, "link", link_event_data(event))

    def on_event(self, t_s: float, kind: str, data: dict[str, object]) -> None:
        """Record any event (calibration, gap, note...) at session time ``t_s``."""
        if self._closed:
            return
        self._events.append((t_s, kind, data))
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        now = time.monotonic()
        if self._failing_since is not None:
            if now >= self._retry_at:
                self._commit(final=False)
            return
        if (
            now - self._last_commit >= COMMIT_INTERVAL_S
            or self._n_buffered >= _MAX_BUFFERED_SAMPLES
        ):
            self._commit(final=False)

    def flush(self) -> None:
        """Commit everything buffered now (one transaction; a failure is retried later).

        Also creates the session if it does not exist yet, even with nothing buffered.
        """
        if not self._closed:
            self._commit(final=False)

    @property
    def failing(self) -> bool:
        """Writes are failing right now (the data is held and retried)."""
        return self._failing_since is not None

    def _commit(self, *, final: bool) -> bool:
        """Write the buffers in one transaction; False (buffers kept) if the store failed."""
        if final:
            self._finish_seconds()
        error = self._write()
        if error is not None:
            self._write_failed(error)
            return False
        self._resumed()
        return True

    def _finish_seconds(self) -> None:
        tail = self._accumulator.finish()
        if len(tail):
            self._seconds.append(tail)

    def _write(self) -> StoreError | None:
        """One transaction of everything buffered (creating the session first if needed); the
        error if the store failed (then everything stays buffered)."""
        self._last_commit = time.monotonic()
        if self._session_id is not None and not (self._blocks or self._seconds or self._events):
            return None
        store = self._store
        block = None
        if self._blocks:
            block = (
                SampleBlock.concatenate(self._blocks) if len(self._blocks) > 1 else self._blocks[0]
            )
        try:
            with store.transaction():
                sid = self._session_id
                if sid is None:
                    assert self._create_session is not None
                    sid = self._create_session()  # nested: rolled back with the rest
                if block is not None:
                    store.append_samples(sid, block)
                if self._seconds:
                    store.append_summaries(sid, SecondSummaries.concatenate(self._seconds))
                for t_s, kind, data in self._events:
                    store.add_event(sid, t_s, kind, data)
        except StoreError as exc:
            # rolled back as a whole: keep everything buffered (merged, so retries stay cheap)
            self._blocks = [] if block is None else [block]
            return exc
        self._session_id = sid
        self._blocks, self._n_buffered, self._seconds, self._events = [], 0, [], []
        self.samples_written += 0 if block is None else len(block)
        self.commits += 1
        return None

    def _resumed(self) -> None:
        if self._failing_since is not None:
            self._failing_since = None
            self._retry_delay_s = _RETRY_INITIAL_S
            self._report(logging.WARNING, "recording resumed: the session database accepts "
                         "writes again and nothing was lost")  # fmt: skip

    def _write_failed(self, exc: StoreError) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            self._report(
                logging.ERROR,
                f"cannot write the recording ({exc}); monitoring goes on, the data is held "
                f"and writing is retried for up to {self._give_up_s:g} s",
            )
        elif now - self._failing_since >= self._give_up_s:
            self._give_up(f"still failing after {now - self._failing_since:.0f} s ({exc})")
            return
        self._retry_at = now + self._retry_delay_s
        self._retry_delay_s = min(_RETRY_MAX_S, self._retry_delay_s * 2.0)

    def _give_up(self, why: str, *, closing: bool = False) -> None:
        lost = self._n_buffered
        self.lost_samples += lost
        self.failed = True
        self._closed = True
        self._blocks, self._n_buffered, self._seconds, self._events = [], 0, [], []
        stored = f"{lost:,} samples were not stored ({self.samples_written:,} were)"
        if closing:
            message = f"recording ended without its last part: {why}; {stored}"
        else:
            message = f"recording stopped: {why}; {stored}; monitoring goes on"
        self._report(logging.ERROR, message)

    def _report(self, level: int, message: str) -> None:
        # with a callback its owner tells the user (and logs): here only a detail log, so a
        # terminal does not show every message twice
        logged = level if self._on_problem is None else logging.INFO
        session = "new session" if self._session_id is None else f"session {self._session_id}"
        logger.log(logged, "%s: %s", session, message)
        if self._on_problem is not None:
            try:
                self._on_problem(message)
            except Exception:
                logger.exception("recording problem callback failed")

    def close(self) -> None:
        """Commit the rest, including the last partial second (idempotent; the session stays
        open in the store: the owner calls :meth:`SessionStore.end_session`).

        A write that fails (another program holds the write lock, the disk is full) is retried
        for up to ``close_retry_s``, also when writes were already failing; only then is what
        could not be written counted in :attr:`lost_samples` (and reported once, as the end of
        the recording); nothing is raised.
        """
        if self._closed:
            return
        self._closed = True
        self._finish_seconds()
        deadline = time.monotonic() + self._close_retry_s
        while (error := self._write()) is not None:
            if time.monotonic() + _CLOSE_RETRY_PAUSE_S >= deadline:
                self._give_up(
                    f"could not write it ({error}; retried for {self._close_retry_s:g} s "
                    "while closing)",
                    closing=True,
                )
                return
            time.sleep(_CLOSE_RETRY_PAUSE_S)
        self._resumed()
