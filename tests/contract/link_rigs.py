"""Rigs for the channel contract suite (see conftest.py): faces in a thread, one Rig per link."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from device_sim.fake_bluez import FakeBluez
from device_sim.faults import FaultConfig
from device_sim.firmware import SimDevice
from device_sim.serial_face import SerialFace
from host.transports.base import Channel

Face = FakeBluez | SerialFace


class FaceThread:
    """Run a face on its own event loop in a background thread."""

    def __init__(self, make_face: Callable[[], Face]) -> None:
        self._make_face = make_face
        self.face: Face | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready: Future[str] = Future()
        self._thread = threading.Thread(target=self._main, name="face", daemon=True)

    def start(self) -> str:
        """Start; returns the face's address string (port or device path)."""
        self._thread.start()
        return self._ready.result(timeout=15)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            face = self._make_face()
            await face.start()
        except BaseException as exc:  # noqa: BLE001 - any start failure goes to the test
            self._ready.set_exception(exc)
            return
        self.face = face
        self._ready.set_result(face.port if isinstance(face, SerialFace) else face.device_path)
        try:
            await self._stop.wait()
        finally:
            await face.stop()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the face's loop (the device lives there) and return its result."""
        assert self._loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)


@dataclass
class Rig:
    """One simulated sensor behind one link kind."""

    kind: str
    device: SimDevice
    channel: Channel
    face: FaceThread | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def on_device(self, fn: Callable[[SimDevice], Any]) -> Any:
        """Run ``fn(device)`` where the device lives (face thread or this loop)."""
        if self.face is None:
            return fn(self.device)
        return self.face.call(lambda: fn(self.device))

    def set_faults(self, faults: FaultConfig) -> None:
        def apply(device: SimDevice) -> None:
            device.faults = faults

        self.on_device(apply)
