"""The ``sim:`` channel: an in-process :class:`~device_sim.firmware.SimDevice` behind the
:class:`host.transports.base.Channel` seam.

Device string ``sim:SCENARIO?seed=N&rate=HZ&speed=X&gyro=0&mount=random&packing=K&minutes=M``
plus any :class:`~device_sim.faults.FaultConfig` option (``drop=0.01``, ``link_loss_every=60``,
``link_loss_for=2``, ``stall_every=30&stall_for=3``, ``refuse=1``, ``disappear_after=20&
disappear_for=10``, ``corrupt=0.01``).

Simulated time runs at ``speed`` × the event loop's clock (default 1 = real time). ``speed=0``
means as fast as possible: time is virtual and jumps to whenever the next message is due, and
a failed connection attempt costs one simulated second (it would be a scan timeout). Messages
travel as serial frames through :class:`host.protocol.FrameDecoder` when ``corrupt`` is set, so
corrupted frames are detected and counted exactly as on a real serial link.
"""

from __future__ import annotations

import asyncio
import logging
import math

from device_sim.faults import FAULT_KEYS, FaultConfig
from device_sim.firmware import SimDevice
from host.errors import ConfigError, ConnectError, DisconnectedError
from host.protocol import FrameDecoder, Message, decode_message, encode_frame
from host.transports.base import DeviceInfo, DeviceUri

__all__ = ["SimChannel", "open_sim_channel"]

logger = logging.getLogger(__name__)

_FAILED_CONNECT_S = 1.0  # simulated time a failed connection attempt takes
_BATCH_S = 0.05  # at speed 0, deliver this much simulated time per receive
_KEYS = frozenset({"seed", "rate", "speed", "gyro", "mount", "packing", "minutes", "buffer"})


class SimChannel:
    """A :class:`~host.transports.base.Channel` to an in-process simulated sensor.

    Args:
        device: the simulated firmware (powered on; its clock starts at the first connect).
        speed: simulated seconds per real second; 0 = as fast as possible.
        description: what to call it in messages.
    """

    def __init__(self, device: SimDevice, *, speed: float = 1.0, description: str = "") -> None:
        if speed < 0 or not math.isfinite(speed):
            raise ConfigError(f"sim speed must be 0 (as fast as possible) or positive, not {speed}")
        self.device = device
        self.speed = speed
        self._description = description or f"sim {device.scenario} ({device.name})"
        self._connected = False
        self._loss: DisconnectedError | None = None
        self._queue: list[Message] = []
        self._wakeup = asyncio.Event()
        self._anchor: tuple[float, float] | None = None  # (loop time, device time) at speed > 0
        self._decoder = FrameDecoder()
        self._counts = {
            "connects": 0,
            "connect_failures": 0,
            "link_losses": 0,
            "messages": 0,
            "data_packets": 0,
            "bytes": 0,
            "commands": 0,
        }
        device.set_link(False)

    @property
    def description(self) -> str:
        return self._description

    # ------------------------------------------------------------------ time

    def _now(self) -> float:
        if self.speed == 0 or self._anchor is None:
            return self.device.t_s
        wall0, sim0 = self._anchor
        return sim0 + (asyncio.get_running_loop().time() - wall0) * self.speed

    def _advance_to(self, target_s: float) -> None:
        """Run the device up to ``target_s``, stopping at link faults on the way."""
        device = self.device
        while device.t_s < target_s:
            if not self._connected:
                device.advance(target_s - device.t_s)
                return
            step_to = min(target_s, device.next_link_fault_s(device.t_s))
            if device.duration_s is not None:
                step_to = min(step_to, device.duration_s)
            self._deliver(device.advance(max(0.0, step_to - device.t_s)))
            if device.finished:
                self._lose("the simulated scenario has ended", transient=False)
            elif device.link_fault_active(device.t_s):
                self._lose("link lost (simulated fault); is the sensor in range?")
            if step_to >= target_s or not self._connected:
                continue

    def _deliver(self, bodies: list[bytes]) -> None:
        for body in bodies:
            self._counts["bytes"] += len(body)
            if self.device.faults.corrupt_rate > 0:
                messages = self._decoder.feed(self.device.corrupt(encode_frame(body)))
            else:
                messages = [decode_message(body)]
            for message in messages:
                self._counts["messages"] += 1
                if type(message).__name__ == "DataPacket":
                    self._counts["data_packets"] += 1
                self._queue.append(message)
        if bodies:
            self._wakeup.set()

    def _lose(self, reason: str, *, transient: bool = True) -> None:
        logger.info("%s: %s at %.2f s", self._description, reason, self.device.t_s)
        self._connected = False
        self.device.set_link(False)
        self._counts["link_losses"] += 1
        self._loss = DisconnectedError(f"{self._description}: {reason}", transient=transient)
        self._wakeup.set()

    async def _sleep_sim(self, duration_s: float) -> None:
        """Let ``duration_s`` of simulated time pass (instantly at speed 0)."""
        if self.speed == 0:
            self._advance_to(self.device.t_s + duration_s)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(duration_s / self.speed)
            self._advance_to(self._now())

    # ------------------------------------------------------------------ Channel

    async def connect(self) -> DeviceInfo:
        """Connect; fails (transiently) while the fault schedule makes the device unreachable.

        Raises:
            ConnectError: refused, unreachable or link fault (transient), scenario over (not).
        """
        if self._anchor is None and self.speed > 0:
            self._anchor = (asyncio.get_running_loop().time(), self.device.t_s)
        self._advance_to(self._now())
        if self._connected:
            return self.device.device_info()
        device = self.device
        if device.finished:
            raise ConnectError(
                f"{self._description}: the simulated scenario has ended", transient=False
            )
        if device.refuses_connection() or not device.reachable() or device.link_fault_active():
            self._counts["connect_failures"] += 1
            await self._sleep_sim(_FAILED_CONNECT_S)
            why = "refused the connection" if device.refuses_connection() else "not found"
            raise ConnectError(f"{self._description}: {why} (simulated); retrying may help")
        self._connected = True
        self._loss = None
        self._queue.clear()
        self._decoder.reset()
        device.set_link(True)
        self._counts["connects"] += 1
        return device.device_info()

    async def disconnect(self) -> None:
        if self._connected:
            self._advance_to(self._now())
        self._connected = False
        self._loss = None
        self.device.set_link(False)

    async def send(self, payload: bytes) -> None:
        """Deliver one encoded command to the device; its answers come from :meth:`receive`.

        Raises:
            DisconnectedError: not connected.
        """
        self._advance_to(self._now())
        if not self._connected:
            raise DisconnectedError(f"{self._description}: not connected")
        self._counts["commands"] += 1
        self._deliver(self.device.handle_command(payload))
        await asyncio.sleep(0)

    async def receive(self) -> list[Message]:
        """Wait for the next messages (paced by ``speed``).

        Raises:
            DisconnectedError: the link was lost (fault schedule) or the scenario ended.
        """
        while True:
            if self._queue:
                out, self._queue = self._queue, []
                if self.speed == 0:
                    await asyncio.sleep(0)  # let others run even when we never wait
                return out
            if self._loss is not None:
                loss, self._loss = self._loss, None
                raise loss
            self._wakeup.clear()
            if not self._connected:
                await self._wakeup.wait()
                continue
            device = self.device
            due = device.next_due_s()
            if self.speed == 0:
                if math.isinf(due):
                    # virtual time only moves when something is due: an idle device waits for
                    # a command instead of racing ahead to its next scheduled fault
                    await self._wakeup.wait()
                    continue
                self._advance_to(max(due, device.t_s + _BATCH_S))
                continue
            target = min(due, device.next_link_fault_s(device.t_s))
            if device.duration_s is not None:
                target = min(target, device.duration_s)
            timeout = None if math.isinf(target) else max(0.0, (target - self._now()) / self.speed)
            try:
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
            except TimeoutError:
                pass
            self._advance_to(self._now())

    def statistics(self) -> dict[str, int]:
        stats = dict(self._counts)
        decoder = self._decoder.statistics
        stats["decode_errors"] = decoder.bad_frames
        stats["bytes_skipped"] = decoder.bytes_skipped
        stats["dropped_packets"] = self.device.counters["dropped_packets"]
        return stats

    # ------------------------------------------------------------------ simulator extras

    def request_pose(self, pose: str) -> None:
        """Ask the simulated wearer for a pose (calibration wizard; see SimDevice.request_pose).

        Raises:
            ConfigError: unknown pose.
        """
        if self.speed > 0 and self._anchor is not None:
            self._advance_to(self._now())
        self.device.request_pose(pose)


def _int(uri: DeviceUri, key: str, default: int) -> int:
    value = uri.number(key, default)
    if value != int(value):
        raise ConfigError(f"device {uri}: {key} must be a whole number")
    return int(value)


def open_sim_channel(uri: DeviceUri) -> SimChannel:
    """Create the channel for a ``sim:`` device string (see the module docstring).

    Raises:
        ConfigError: unknown scenario or option, or a bad value.
    """
    unknown = set(uri.params) - _KEYS - FAULT_KEYS
    if unknown:
        raise ConfigError(
            f"device {uri}: unknown option(s) {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(_KEYS))} and fault options {', '.join(sorted(FAULT_KEYS))}"
        )
    gyro = uri.params.get("gyro", "1").strip().lower()
    if gyro not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"device {uri}: gyro must be 0 or 1")
    mount = uri.params.get("mount", "nominal").strip().lower()
    if mount not in ("nominal", "random"):
        raise ConfigError(f"device {uri}: mount must be 'nominal' or 'random'")
    minutes = uri.number("minutes", math.nan)
    device = SimDevice(
        uri.target or "desk_day",
        seed=_int(uri, "seed", 0),
        rate_hz=_int(uri, "rate", 100),
        gyro=gyro in ("1", "true", "yes"),
        samples_per_packet=_int(uri, "packing", 5),
        random_mount=mount == "random",
        minutes=None if math.isnan(minutes) else minutes,
        faults=FaultConfig.from_params(uri.params),
        buffer_capacity=_int(uri, "buffer", 60_000),
    )
    return SimChannel(device, speed=uri.number("speed", 1.0), description=f"sim:{uri.target}")
