"""The live pipeline: sensor link → fusion → posture → alerts → sinks.

:class:`Engine` is the one place that wires the stages (see docs/architecture.md). It runs on an
asyncio loop: on the main thread for the CLI (``asyncio.run(engine.run())``), or in its own
thread for the GUI through :class:`EngineThread` (Qt owns the main thread; bleak wants one loop
in one thread). Listeners are called on the engine's thread; a GUI listener must hand data over
through queued signals and never touch widgets there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from calibration.model import Calibration
from calibration.routine import RoutineSettings, run_routine
from host.alerts import Alert, AlertConfig, AlertPolicy
from host.analysis import LiveAnalyzer
from host.errors import CalibrationError, StoreError
from host.link import DeviceRestarted, SensorLink
from host.posture import PostureBlock, PostureTracker
from host.protocol import StatusMessage, VibratePattern
from host.samples import Gap, SampleBlock
from host.transports.base import DeviceInfo, LinkEvent, LinkState

if TYPE_CHECKING:
    from host.recording.recorder import Recorder
    from host.recording.store import SessionStore

__all__ = [
    "Engine",
    "EngineConfig",
    "EngineListener",
    "EngineThread",
    "LiveUpdate",
    "policy_record",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Haptic pattern per alert severity (docs/protocol.md, VibratePattern).
_PATTERNS = {1: VibratePattern.GENTLE, 2: VibratePattern.STRONG}


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """What the live engine runs.

    Attributes:
        device: device string (``sim:desk_day``, ``ble:name=...``, ``serial:...``).
        calibration: mounting calibration; None shows raw tilt only until one is set.
        alerts: alert policy.
        record: store the session in the SQLite log.
        db_path: session database (None: the user data directory).
        haptics: send a vibrate command to the sensor when an alert fires.
        replay: ask the sensor to replay what it buffered during an outage.
        record_give_up_s: how long recording writes may keep failing (disk full, database
            locked) before recording stops; monitoring goes on regardless.
    """

    device: str
    calibration: Calibration | None = None
    alerts: AlertConfig = field(default_factory=AlertConfig)
    record: bool = False
    db_path: Path | None = None
    haptics: bool = True
    replay: bool = True
    record_give_up_s: float = 60.0


@dataclass(frozen=True, slots=True, eq=False)
class LiveUpdate:
    """Posture of the samples that just arrived.

    Attributes:
        posture: per-sample flexion, lateral bend, zone, activity, dwell and confidence.
        seconds_to_alert: time until the slouch rule would fire (None when not counting).
    """

    posture: PostureBlock
    seconds_to_alert: float | None


class EngineListener:
    """Receives the engine's output; called on the engine's thread. Override what you need.

    A listener that raises is logged and skipped; the engine and the other listeners go on.
    """

    def on_update(self, update: LiveUpdate) -> None:
        """New samples were processed."""

    def on_alert(self, alert: Alert) -> None:
        """An alert fired."""

    def on_link(self, event: LinkEvent) -> None:
        """The link state changed (connecting, connected, reconnecting, closed)."""

    def on_status(self, status: StatusMessage) -> None:
        """The sensor reported its battery, buffer and errors."""

    def on_info(self, info: DeviceInfo) -> None:
        """Connected: what the sensor says about itself."""

    def on_calibration(self, calibration: Calibration | None) -> None:
        """The calibration in use changed."""

    def on_error(self, message: str) -> None:
        """Something failed that the user should know about."""

    def on_notice(self, message: str) -> None:
        """Something happened the user should know about that is not a failure of ours
        (the sensor restarted, recording resumed after failing writes)."""


@dataclass(slots=True)
class _Capture:
    seconds: float
    future: asyncio.Future[SampleBlock]
    blocks: list[SampleBlock] = field(default_factory=list)
    collected_s: float = 0.0


class Engine:
    """Runs the live pipeline for one sensor.

    Args:
        config: what to run.
        listeners: sinks (terminal view, GUI bridge...).
    """

    def __init__(self, config: EngineConfig, listeners: Sequence[EngineListener] = ()) -> None:
        self.config = config
        self.listeners: list[EngineListener] = list(listeners)
        self.link = SensorLink(config.device, replay=config.replay)
        self.calibration = config.calibration
        self.haptics = config.haptics
        self._alert_config = config.alerts
        self._analyzer: LiveAnalyzer | None = None
        self._tracker = PostureTracker()
        self._policy = AlertPolicy(config.alerts)
        self._captures: list[_Capture] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        # Created here, not in run(): a stop() that arrives before run() starts must stick
        # (EngineThread.stop racing the thread's start). asyncio.Event binds to a loop lazily.
        self._stop = asyncio.Event()
        self._store: SessionStore | None = None
        self._recorder: Recorder | None = None
        self._session_id: int | None = None
        # recording asked for but no sample yet: the session is created with the first sample
        # (a run that never receives one leaves nothing in the store); events wait here
        self._pending_events: list[tuple[float, str, dict[str, object]]] = []
        self._recording_problems: list[str] = []  # data lost, session left unfinished
        self.samples_recorded = 0  # stored in the session database (all recordings of the run)
        self._last_t_s = 0.0
        self.samples_processed = 0

    # ------------------------------------------------------------------ running

    async def run(self, duration_s: float | None = None) -> None:
        """Stream until :meth:`stop`, ``duration_s`` of wall time, or a permanent link error.

        Raises:
            ConnectError: the sensor cannot be reached for a reason retrying cannot fix.
        """
        if self.config.record:
            await self.set_recording(True)
        consumer = asyncio.create_task(self._consume(), name="engine-consume")
        stopper = asyncio.create_task(self._stop.wait(), name="engine-stop")
        try:
            done, _ = await asyncio.wait(
                {consumer, stopper}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED
            )
            if consumer in done:
                consumer.result()  # re-raise a permanent link error
        finally:
            for task in (consumer, stopper, *self._tasks):
                task.cancel()
            await asyncio.gather(consumer, stopper, *self._tasks, return_exceptions=True)
            try:
                # whatever failed above, the session ends in the store and keeps its data; first,
                # before the link: a slow disconnect (BLE) must not cost the last flush when the
                # dashboard quits (it waits only a few seconds for this thread)
                self._close_recording()
            finally:
                try:
                    await self.link.close()
                finally:
                    # and even if that failed, waiting captures end and listeners hear CLOSED
                    for capture in self._captures:
                        if not capture.future.done():
                            capture.future.cancel()
                    self._emit_link(LinkEvent(LinkState.CLOSED, "stopped"))

    async def run_calibrated(
        self,
        duration_s: float | None,
        *,
        calibrate_s: float | None,
        prompt: Callable[[str], None],
    ) -> None:
        """:meth:`run`, calibrating "upright" from the first ``calibrate_s`` seconds.

        The wearer is prompted through ``prompt``; a capture in which they moved is repeated
        with the reason (calibration.routine). If it keeps failing the engine runs on without
        angles and says so. ``calibrate_s=None`` skips the capture.
        """
        runner = asyncio.create_task(self.run(duration_s), name="engine-run")
        calibrator = None
        if calibrate_s is not None:
            calibrator = asyncio.create_task(self._calibrate_upright(calibrate_s, prompt))
        try:
            await runner
        finally:
            if calibrator is not None:
                calibrator.cancel()
                await asyncio.gather(calibrator, return_exceptions=True)

    async def _calibrate_upright(self, seconds: float, prompt: Callable[[str], None]) -> None:
        settings = RoutineSettings(settle_s=0.0, neutral_s=seconds, forward_s=0.0)
        try:
            calibration = await run_routine(
                self.capture, prompt, request_pose=self.request_pose,
                device=self.config.device, settings=settings,
            )  # fmt: skip
        except CalibrationError as exc:
            prompt(f"Could not calibrate ({exc}); showing data without angles.")
            return
        except Exception as exc:  # top of a task whose result nobody awaits: say it, never hide it
            logger.exception("upright calibration failed")
            prompt(f"Could not calibrate (internal error: {exc}); showing data without angles.")
            return
        await self.set_calibration(calibration)

    def stop(self) -> None:
        """Ask :meth:`run` to finish (on the engine's loop); sticky: a stop before run() counts."""
        self._stop.set()

    async def _consume(self) -> None:
        async for item in self.link.stream():
            if isinstance(item, SampleBlock):
                self._on_samples(item)
            elif isinstance(item, LinkEvent):
                self._emit_link(item)
                if item.state is LinkState.CONNECTED and self.link.info is not None:
                    self._notify("on_info", self.link.info)
            elif isinstance(item, StatusMessage):
                self._notify("on_status", item)
            elif isinstance(item, Gap):
                self._record_event(item.t_s, "gap", {"samples": item.count})
                self._restart_captures()
            elif isinstance(item, DeviceRestarted):
                self._record_event(item.t_s, "restart", {"detail": item.detail})
                self._notify("on_notice", item.detail)
                self._restart_captures()

    def _notify(self, method: str, arg: Any) -> None:
        """Call ``method(arg)`` on every listener; one that raises is logged and skipped.

        A listener bug (a GUI slot, a terminal view) must not end the session or starve the
        other sinks, recording included (python-can's Notifier does the same).
        """
        for listener in self.listeners:
            try:
                getattr(listener, method)(arg)
            except Exception:
                logger.exception("listener %s failed in %s", type(listener).__name__, method)

    def _emit_link(self, event: LinkEvent) -> None:
        self._notify("on_link", event)
        if self._recorder is not None:
            self._recorder.on_link(event)
        elif self._store is not None:
            from host.recording.recorder import link_event_data

            self._pending_events.append((self._last_t_s, "link", link_event_data(event)))

    def _on_samples(self, block: SampleBlock) -> None:
        if self._analyzer is None:
            rate_hz = float(self.link.config.rate_hz) if self.link.config else _rate_of(block)
            self._analyzer = LiveAnalyzer(
                rate_hz, gyro=block.has_gyro, calibration=self.calibration
            )
        analysis = self._analyzer.update(block)
        posture = self._tracker.update(block, analysis)
        alerts = self._policy.update(posture)
        self.samples_processed += len(block)
        self._last_t_s = float(block.t_s[-1])
        update = LiveUpdate(posture, self._policy.seconds_until_alert())
        if self._store is not None and self._recorder is None:
            self._start_session()
        self._notify("on_update", update)
        for alert in alerts:
            self._on_alert(alert)
        if self._recorder is not None:
            self._recorder.on_block(block, posture)
        self._feed_captures(block)

    def _on_alert(self, alert: Alert) -> None:
        logger.info("alert %s at %.1f s: %s", alert.kind, alert.t_s, alert.reason)
        self._notify("on_alert", alert)
        if self._recorder is not None:
            self._recorder.on_alert(alert)
        if self.haptics:
            pattern = _PATTERNS.get(alert.severity, VibratePattern.NUDGE)
            if alert.kind in ("stillness", "sitting"):
                pattern = VibratePattern.NUDGE
            self._spawn(self.link.vibrate(pattern))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("engine task %s failed", task.get_name(), exc_info=task.exception())

    def _restart_captures(self) -> None:
        """Samples are missing from here on (a gap without replay, a sensor restart): a capture
        must be contiguous, so the ones running start their window again after the hole."""
        for capture in self._captures:
            if capture.blocks:
                logger.info("capture restarted after a gap in the stream")
            capture.blocks.clear()
            capture.collected_s = 0.0

    def _feed_captures(self, block: SampleBlock) -> None:
        for capture in list(self._captures):
            if capture.future.done():
                self._captures.remove(capture)
                continue
            capture.blocks.append(block)
            capture.collected_s += len(block) / _rate_of(block, self.link)
            if capture.collected_s >= capture.seconds:
                capture.future.set_result(SampleBlock.concatenate(capture.blocks))
                self._captures.remove(capture)

    # ------------------------------------------------------------------ control (engine loop)

    async def capture(self, seconds: float) -> SampleBlock:
        """Collect the next ``seconds`` of contiguous samples (for calibration captures).

        If samples go missing meanwhile (a link outage without replay, a sensor restart) the
        window starts again after the hole, so the result never spans a gap.
        """
        future: asyncio.Future[SampleBlock] = asyncio.get_running_loop().create_future()
        self._captures.append(_Capture(seconds, future))
        return await future

    async def request_pose(self, pose: str) -> bool:
        """Ask a simulated sensor to take a pose (calibration wizard); False for real sensors."""
        request = getattr(self.link.channel, "request_pose", None)
        if request is None:
            return False
        request(pose)
        return True

    async def set_calibration(self, calibration: Calibration | None) -> None:
        """Use a new mounting calibration from the next sample on."""
        self.calibration = calibration
        if self._analyzer is not None:
            self._analyzer.set_calibration(calibration)
        if calibration is not None:
            self._record_event(self._last_t_s, "calibration", calibration.to_dict())
            self._update_header(calibration=calibration.to_dict())
        self._notify("on_calibration", calibration)

    async def set_alert_config(self, config: AlertConfig) -> None:
        """Switch alert policy (dwell counting starts afresh)."""
        self._alert_config = config
        self._policy = AlertPolicy(config)
        self._record_event(self._last_t_s, "policy", policy_record(config))
        self._update_header(policy=policy_record(config))

    async def snooze(self, seconds: float) -> None:
        """No alerts for ``seconds`` of sensor time; resumes by itself."""
        self._policy.snooze(self._last_t_s + seconds)

    async def pause(self) -> None:
        """Stop alerting until :meth:`resume`."""
        self._policy.pause()

    async def resume(self) -> None:
        """Alert again after :meth:`pause` or a snooze."""
        self._policy.resume()

    async def set_haptics(self, on: bool) -> None:
        """Vibrate the sensor on alerts (or not) from now on, e.g. during quiet hours."""
        self.haptics = on

    async def start_training(self, duration_s: float) -> None:
        """Start an opt-in training session: quicker feedback that fades over ``duration_s``."""
        self._policy.start_training(self._last_t_s, duration_s)

    async def vibrate(self, pattern: VibratePattern) -> bool:
        """Send a haptic pattern to the sensor (False when the link is down)."""
        return await self.link.vibrate(pattern)

    async def set_recording(self, on: bool) -> None:
        """Start or stop storing this session in the SQLite log.

        The database is opened now (so a bad one fails at once); the session itself is created
        with the first sample, so a run that never gets one leaves no empty session behind.

        Raises:
            StoreError: the database cannot be opened or created.
        """
        if on and self._store is None:
            from host.recording.store import SessionStore

            # a short lock wait: another program writing must never stall monitoring (the
            # recorder retries instead)
            self._store = SessionStore.open(self.config.db_path, busy_timeout_s=0.2)
            self._session_id = None
        elif not on:
            self._close_recording()

    def _start_session(self) -> None:
        """Create the recorded session (first sample) with the events that waited.

        The recorder creates it in its first write, so a database another program holds locked
        (``posture import`` writes a whole file in one transaction) is retried like any failed
        write, the samples buffered meanwhile; only after ``record_give_up_s`` does recording
        stop (monitoring goes on).
        """
        from host.recording.recorder import Recorder

        store = self._store
        assert store is not None

        def create_session() -> int:
            # the header as it is when the session gets written (a calibration set while the
            # database was locked is in it)
            info = self.link.info
            return store.create_session(
                device=self.config.device,
                source="live",
                device_info=None if info is None else _info_dict(info),
                calibration=None if self.calibration is None else self.calibration.to_dict(),
                policy=policy_record(self._alert_config),
            )

        recorder = Recorder(
            store,
            create_session=create_session,
            on_problem=lambda message: self._on_recording_problem(recorder, message),
            give_up_s=self.config.record_give_up_s,
        )
        self._recorder = recorder
        pending, self._pending_events = self._pending_events, []
        for t_s, kind, data in pending:
            recorder.on_event(t_s, kind, data)
        recorder.flush()  # the session exists from the first sample (unless the write fails)

    def _update_header(
        self,
        *,
        calibration: dict[str, object] | None = None,
        policy: dict[str, object] | None = None,
    ) -> None:
        """Keep the recorded session's header on the calibration and policy now in use.

        Before the first sample nothing is needed: the session is created with the current
        ones. The header holds the latest; the ``calibration``/``policy`` events the history.
        """
        store, recorder = self._store, self._recorder
        session_id = None if recorder is None else recorder.session_id
        if store is None or session_id is None:  # not written yet: made with the current ones
            return
        try:
            store.set_session_header(session_id, calibration=calibration, policy=policy)
        except StoreError as exc:  # the event still records it; monitoring goes on
            what = "calibration" if calibration is not None else "alert policy"
            self._notify(
                "on_error",
                f"could not store the {what} in session {session_id}'s header ({exc}); "
                "it is kept in the session's events",
            )

    def _on_recording_problem(self, recorder: Recorder, message: str) -> None:
        # listeners say it (stderr, status bar) and the GUI logs it; the recorder logs details
        if recorder.failed:
            self._recording_failed(message)
        elif recorder.failing:
            self._notify("on_error", message)
        else:  # writing works again
            self._notify("on_notice", message)

    def _recording_failed(self, message: str) -> None:
        self._recording_problems.append(message)
        self._notify("on_error", message)

    @property
    def recording_problem(self) -> str | None:
        """What went wrong with recording (data lost, session left unfinished), or None."""
        return "; ".join(self._recording_problems) or None

    @property
    def session_id(self) -> int | None:
        """Id of the session being recorded (or last recorded), if it is in the store."""
        if self._recorder is not None:
            return self._recorder.session_id
        return self._session_id

    def _record_event(self, t_s: float, kind: str, data: dict[str, object]) -> None:
        if self._recorder is not None:
            self._recorder.on_event(t_s, kind, data)
        elif self._store is not None:
            self._pending_events.append((t_s, kind, data))

    def _close_recording(self) -> None:
        recorder, self._recorder = self._recorder, None
        store, self._store = self._store, None
        self._pending_events.clear()
        try:
            if recorder is not None:
                recorder.close()  # flush the rest (a failure is reported, never raised)
                self.samples_recorded += recorder.samples_written
        finally:
            if recorder is not None:
                self._session_id = recorder.session_id  # None: it could never be written
            # even if the last flush failed, what was committed is a finished session
            if store is not None:
                try:
                    if recorder is not None and self._session_id is not None:
                        store.end_session(self._session_id)
                except StoreError as exc:
                    self._recording_failed(
                        f"session {self._session_id} could not be marked finished ({exc}); "
                        "its data up to the failure is kept"
                    )
                finally:
                    store.close()


def policy_record(config: AlertConfig) -> dict[str, object]:
    """The stored form of an alert policy (session header, ``policy`` events): plain JSON."""
    alerts: dict[str, object] = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    return {"alerts": alerts}


def _rate_of(block: SampleBlock, link: SensorLink | None = None) -> float:
    if link is not None and link.config is not None:
        return float(link.config.rate_hz)
    if len(block) >= 2:
        return float(1.0 / np.median(np.diff(block.t_s)))
    return 100.0


def _info_dict(info: DeviceInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "transport": info.transport,
        "manufacturer": info.manufacturer,
        "model": info.model,
        "firmware": info.firmware,
        "hardware": info.hardware,
    }


class EngineThread:
    """The engine on its own asyncio loop in a worker thread (for the GUI).

    The GUI calls :meth:`submit` to run a coroutine of the engine and gets a
    ``concurrent.futures.Future`` it must never block on.
    """

    def __init__(self, config: EngineConfig, listener: EngineListener) -> None:
        self.engine = Engine(config, [listener])
        self._listener = listener
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        # Calls submitted and not yet done: when the loop ends, those it never ran (or never
        # finished) are failed here, so no caller waits forever on a future nobody resolves.
        self._calls_lock = threading.RLock()  # re-entered when a call is done at once
        self._calls: set[concurrent.futures.Future[Any]] = set()
        self._finished = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="posture-engine", daemon=True)

    def start(self) -> None:
        """Start the worker thread and wait until its loop runs."""
        self._thread.start()
        self._ready.wait(timeout=5.0)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            if self._stop_requested:  # stop() ran before the loop existed
                self.engine.stop()
            try:
                await self.engine.run()
            finally:
                with self._calls_lock:
                    self._finished = True  # no new calls from here on
                # One more turn of the loop: calls scheduled before the flag become tasks, which
                # asyncio.run then finishes or cancels (so their futures end) before closing.
                await asyncio.sleep(0)

        try:
            asyncio.run(main())
        except Exception as exc:  # top of a thread: report, never die silently
            logger.exception("engine stopped")
            self._listener.on_error(str(exc))
        finally:
            with self._calls_lock:
                self._finished = True
                calls, self._calls = self._calls, set()
            for future in calls:
                if not future.done():  # the loop is closed: nothing else can resolve it
                    future.set_exception(RuntimeError("the engine stopped before the call ended"))
            self._ready.set()

    def submit(
        self, coro_fn: Callable[..., Awaitable[T]], *args: object
    ) -> concurrent.futures.Future[T]:
        """Run ``coro_fn(*args)`` on the engine's loop.

        The future always ends: with the result, the call's exception, or RuntimeError when
        the engine is not running or stops before the call ends.
        """

        async def call() -> T:
            return await coro_fn(*args)

        with self._calls_lock:
            loop = self._loop
            if not self._finished and loop is not None:
                coro = call()
                try:
                    future = asyncio.run_coroutine_threadsafe(coro, loop)
                except RuntimeError:  # closed between the check and the call
                    coro.close()
                else:
                    self._calls.add(future)
                    future.add_done_callback(self._call_done)
                    return future
        failed: concurrent.futures.Future[T] = concurrent.futures.Future()
        failed.set_exception(RuntimeError("engine is not running"))
        return failed

    def _call_done(self, future: concurrent.futures.Future[Any]) -> None:
        with self._calls_lock:
            self._calls.discard(future)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the engine and join its thread (idempotent; fine before :meth:`start`)."""
        # Flag first, loop second: _main sets the loop, then reads the flag, so one side
        # always sees the other and a stop racing the start is never lost.
        self._stop_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.engine.stop)
        if self._thread.ident is not None:  # started
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread.is_alive()
