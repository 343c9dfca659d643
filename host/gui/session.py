"""The GUI's handle on one running engine: start, stop and commands, never blocking.

:class:`LiveSession` owns an :class:`~host.engine.EngineThread` and the :class:`GuiListener`
that forwards engine callbacks (engine thread) to the :class:`~host.gui.bridge.EngineBridge`
(GUI thread). Commands go through ``EngineThread.submit``; their results come back as the
queued :attr:`CallWatcher.finished` signal, so the GUI thread never waits on the engine.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from calibration.model import Calibration
from host.alerts import Alert, AlertConfig
from host.engine import EngineConfig, EngineListener, EngineThread, LiveUpdate
from host.gui.bridge import EngineBridge
from host.protocol import StatusMessage
from host.settings import Settings
from host.transports.base import DeviceInfo, LinkEvent

__all__ = ["CallWatcher", "GuiListener", "LiveSession", "alert_config_from_settings"]

logger = logging.getLogger(__name__)

EngineFactory = Callable[[EngineConfig, EngineListener], EngineThread]


def alert_config_from_settings(settings: Settings) -> AlertConfig:
    """The alert policy the settings describe (tolerance, delay, policy mode)."""
    return dataclasses.replace(
        AlertConfig(),
        mode=settings.policy_mode,
        tolerance_deg=settings.tolerance_deg,
        delay_s=settings.delay_s,
    )


class GuiListener(EngineListener):
    """Engine callbacks (engine thread) handed to the bridge: a queue append or a queued signal."""

    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge

    def on_update(self, update: LiveUpdate) -> None:
        self._bridge.push_update(update)

    def on_alert(self, alert: Alert) -> None:
        self._bridge.alert_raised.emit(alert)

    def on_link(self, event: LinkEvent) -> None:
        self._bridge.link_changed.emit(event)

    def on_status(self, status: StatusMessage) -> None:
        self._bridge.status_received.emit(status)

    def on_info(self, info: DeviceInfo) -> None:
        self._bridge.info_received.emit(info)

    def on_calibration(self, calibration: Calibration | None) -> None:
        self._bridge.calibration_changed.emit(calibration)

    def on_error(self, message: str) -> None:
        self._bridge.error_occurred.emit(message)


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
    """

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
        self._watchers: set[CallWatcher] = set()
        self.device: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.running

    @property
    def engine_thread(self) -> EngineThread | None:
        return self._thread

    def start(self, config: EngineConfig) -> None:
        """Start streaming from ``config.device`` (stops a previous engine first)."""
        self.stop()
        self.bridge.reset()
        self.device = config.device
        self._thread = self._factory(config, self._listener)
        self._thread.start()
        logger.info("engine started for %s", config.device)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the engine and join its thread (the loop exits within a few milliseconds)."""
        if self._thread is not None:
            self._thread.stop(timeout_s)
            self._thread = None

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
