"""The recording sink of the live engine: buffers, then commits at least once per second.

Crash safety comes from the commit cadence: whatever was handed to :meth:`Recorder.on_block`
more than :data:`COMMIT_INTERVAL_S` ago (monotonic wall time) is in a durable SQLite
transaction (WAL, ``synchronous=FULL``), so kill -9 or a power cut loses at most the last second.
Samples, the per-second summaries and the events of one flush go into one transaction, so a
crash never leaves summaries without their samples.

Not thread-safe by itself: call it from one thread (the engine's).
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from host.recording.store import SessionStore
from host.recording.summary import PostureLike, SecondSummaries, SummaryAccumulator
from host.samples import SampleBlock
from host.transports.base import LinkEvent

__all__ = ["COMMIT_INTERVAL_S", "AlertLike", "Recorder"]

logger = logging.getLogger(__name__)

# Commit cadence; the crash-loss bound of the store.
COMMIT_INTERVAL_S = 0.5
# Also commit when this many samples are buffered (bounds memory and chunk size at high rates).
_MAX_BUFFERED_SAMPLES = 3000


class AlertLike(Protocol):
    """What the recorder needs of ``host.alerts.Alert``."""

    @property
    def t_s(self) -> float: ...
    def to_dict(self) -> dict[str, object]: ...


class Recorder:
    """Writes a live session into a :class:`SessionStore`.

    Args:
        store: an open store.
        session_id: the session to append to (from :meth:`SessionStore.create_session`).
    """

    def __init__(self, store: SessionStore, session_id: int) -> None:
        self._store = store
        self._session_id = session_id
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

    @property
    def session_id(self) -> int:
        """The session being recorded."""
        return self._session_id

    def on_block(self, samples: SampleBlock, posture: PostureLike) -> None:
        """Record a block of raw samples and their posture (same length, same times)."""
        if self._closed or len(samples) == 0:
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
        self.on_event(
            self._last_t_s,
            "link",
            {"state": event.state.value, "detail": event.detail, "attempt": event.attempt},
        )

    def on_event(self, t_s: float, kind: str, data: dict[str, object]) -> None:
        """Record any event (calibration, gap, note...) at session time ``t_s``."""
        if self._closed:
            return
        self._events.append((t_s, kind, data))
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        if (
            time.monotonic() - self._last_commit >= COMMIT_INTERVAL_S
            or self._n_buffered >= _MAX_BUFFERED_SAMPLES
        ):
            self.flush()

    def flush(self) -> None:
        """Commit everything buffered now (one transaction)."""
        self._commit(final=False)

    def _commit(self, *, final: bool) -> None:
        if final:
            tail = self._accumulator.finish()
            if len(tail):
                self._seconds.append(tail)
        self._last_commit = time.monotonic()
        if not (self._blocks or self._seconds or self._events):
            return
        blocks, self._blocks, self._n_buffered = self._blocks, [], 0
        seconds, self._seconds = self._seconds, []
        events, self._events = self._events, []
        store, sid = self._store, self._session_id
        with store.transaction():
            if blocks:
                block = SampleBlock.concatenate(blocks) if len(blocks) > 1 else blocks[0]
                store.append_samples(sid, block)
                self.samples_written += len(block)
            if seconds:
                store.append_summaries(sid, SecondSummaries.concatenate(seconds))
            for t_s, kind, data in events:
                store.add_event(sid, t_s, kind, data)
        self.commits += 1

    def close(self) -> None:
        """Commit the rest, including the last partial second (idempotent; the session stays
        open in the store: the owner calls :meth:`SessionStore.end_session`)."""
        if self._closed:
            return
        self._commit(final=True)
        self._closed = True
