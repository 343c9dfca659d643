"""The GUI's handle on one running engine: start, stop and commands, never blocking.

:class:`LiveSession` owns an :class:`~host.engine.EngineThread` and the :class:`GuiListener`
that forwards engine callbacks (engine thread) to the :class:`~host.gui.bridge.EngineBridge`
(GUI thread). Commands go through ``EngineThread.submit``; their results come back as the
queued :attr:`CallWatcher.finished` signal, so the GUI thread never waits on the engine.

Stopping never blocks the GUI either: :meth:`LiveSession.stop` asks the engine to stop and
returns; a slow Bluetooth disconnect finishes in the engine's thread, which is polled and
reported by :attr:`LiveSession.stopped`. Only :meth:`LiveSession.shutdown` (application quit)
waits, bounded.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from calibration.model import Calibration
from host.alerts import Alert
from host.engine import EngineConfig, EngineListener, EngineThread, LiveUpdate
from host.gui.bridge import EngineBridge
from host.protocol import StatusMessage
from host.transports.base import DeviceInfo, LinkEvent

__all__ = ["CallWatcher", "GuiListener", "LiveSession"]

logger = logging.getLogger(__name__)

EngineFactory = Callable[[EngineConfig, EngineListener], EngineThread]


class GuiListener(EngineListener):
    """Engine callbacks (engine thread) handed to the bridge: a queue append or a queued signal.

    One per engine. ``muted`` (set when the GUI stops that engine) drops whatever the engine
    still says while it winds down, so a stopping engine cannot show "disconnected" or old data
    over the next one.
    """

    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge
        self.muted = False

    def on_update(self, update: LiveUpdate) -> None:
        if not self.muted:
            self._bridge.push_update(update)

    def on_alert(self, alert: Alert) -> None:
        if not self.muted:
            self._bridge.alert_raised.emit(alert)

    def on_link(self, event: LinkEvent) -> None:
        if not self.muted:
            self._bridge.link_changed.emit(event)

    def on_status(self, status: StatusMessage) -> None:
        if not self.muted:
            self._bridge.status_received.emit(status)

    def on_info(self, info: DeviceInfo) -> None:
        if not self.muted:
            self._bridge.info_received.emit(info)

    def on_calibration(self, calibration: Calibration | None) -> None:
        if not self.muted:
            self._bridge.calibration_changed.emit(calibration)

    def on_error(self, message: str) -> None:
        if not self.muted:
            self._bridge.error_occurred.emit(message)

    def on_notice(self, message: str) -> None:
        if not self.muted:
            self._bridge.notice_received.emit(message)


class CallWatcher(QObject):
    """Delivers the outcome of an engine call to the GUI thread.

    ``finished(result, error)`` is emitted from the engine thread's done-callback; because this
    object lives in the GUI thread, Qt queues it. ``error`` is None on success.
    """

    finished = pyqtSignal(object, object)

    def watch(self, future: concurrent.futures.Future[Any]) -> None:
        def done(fut: concurrent.futures.Future[Any]) -> None:
            if fut.cancelled():
                self.finished.emit(None, concurrent.futures.CancelledError())
            elif fut.exception() is not None:
                self.finished.emit(None, fut.exception())
            else:
                self.finished.emit(fut.result(), None)

        future.add_done_callback(done)


class LiveSession(QObject):
    """One engine running in its own thread, reachable only through non-blocking calls.

    Args:
        bridge: where engine output goes.
        engine_factory: builds the engine thread (tests may pass a different device, never a
            fake engine).
        parent: Qt parent.

    Signals:
        stopped(): every engine asked to stop has ended its thread (link closed).
    """

    stopped = pyqtSignal()

    def __init__(
        self,
        bridge: EngineBridge,
        engine_factory: EngineFactory = EngineThread,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._factory = engine_factory
        self._listener = GuiListener(bridge)
        self._thread: EngineThread | None = None
        self._stopping: list[EngineThread] = []
        self._reaper = QTimer(self)
        self._reaper.setInterval(50)
        self._reaper.timeout.connect(self._reap)
        self._watchers: set[CallWatcher] = set()
        self.device: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.running

    @property
    def engine_thread(self) -> EngineThread | None:
        return self._thread

    @property
    def stopping(self) -> bool:
        """Whether an engine asked to stop is still winding down (e.g. a Bluetooth disconnect)."""
        return any(t.running for t in self._stopping)

    def start(self, config: EngineConfig) -> None:
        """Start streaming from ``config.device`` (stops a previous engine first, without
        waiting for it: its disconnect finishes in its own thread)."""
        self.stop()
        self.bridge.reset()
        self.device = config.device
        self._listener = GuiListener(self.bridge)
        self._thread = self._factory(config, self._listener)
        self._thread.start()
        logger.info("engine started for %s", config.device)

    def stop(self) -> None:
        """Ask the engine to stop and return at once (never blocks the GUI thread).

        The engine closes its link in its own thread (a slow Bluetooth disconnect can take
        seconds); :attr:`stopped` is emitted when it has ended. :attr:`running` is False at once.
        """
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._listener.muted = True
        thread.stop(0.0)  # request only: join(0) returns at once
        self._stopping.append(thread)
        if not self._reaper.isActive():
            self._reaper.start()

    def _reap(self) -> None:
        self._stopping = [t for t in self._stopping if t.running]
        if not self._stopping:
            self._reaper.stop()
            self.stopped.emit()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Stop and wait for every engine thread, ``timeout_s`` at most in all (application
        quit: the recording is closed and the link released before the process ends).

        Returns:
            True when every engine thread has ended.
        """
        self.stop()
        deadline = time.monotonic() + timeout_s
        for thread in self._stopping:
            thread.stop(max(0.0, deadline - time.monotonic()))
        left = [t for t in self._stopping if t.running]
        if left:
            logger.warning("%d engine thread(s) still closing after %.1f s", len(left), timeout_s)
        self._reap()
        return not left

    def call(
        self,
        coro_fn: Callable[..., Awaitable[Any]],
        *args: object,
        on_done: Callable[[object, BaseException | None], None] | None = None,
    ) -> bool:
        """Run an engine coroutine; ``on_done(result, error)`` later runs in the GUI thread.

        Returns:
            False when no engine runs (``on_done`` is then not called).
        """
        if self._thread is None:
            return False
        future = self._thread.submit(coro_fn, *args)
        watcher = CallWatcher(self)
        self._watchers.add(watcher)

        def finished(result: object, error: object) -> None:
            self._watchers.discard(watcher)
            watcher.deleteLater()
            if isinstance(error, BaseException) and on_done is None:
                logger.warning("engine call %s failed: %s", coro_fn.__name__, error)
            if on_done is not None:
                on_done(result, error if isinstance(error, BaseException) else None)

        watcher.finished.connect(finished)
        watcher.watch(future)
        return True
