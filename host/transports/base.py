"""The seam between the sensor links and everything above them.

A :class:`Channel` is one way of reaching a sensor (BLE, serial, the in-process simulator, a
replayed file). It only connects, moves protocol messages and reports loss; it never retries.
Supervision (reconnect with backoff, handshake, watchdog, replay of buffered samples) is done
once for every channel by :class:`host.link.SensorLink`.

A device string picks the channel everywhere (CLI, config, GUI)::

    ble:AA:BB:CC:DD:EE:FF        ble:name=PostureSim-1234      ble:   (first of our sensors)
    serial:/dev/ttyACM0          serial:socket://127.0.0.1:5555
    sim:desk_day?seed=1&rate=100&speed=10&gyro=0
    replay:recording.csv?speed=1
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl

from host.errors import ConfigError
from host.protocol import Message

__all__ = [
    "SCHEMES",
    "Channel",
    "DeviceInfo",
    "DeviceUri",
    "LinkEvent",
    "LinkState",
    "device_identity",
    "open_channel",
    "parse_device",
]

# scheme -> "module:callable(uri: DeviceUri) -> Channel"; imported lazily so that, e.g.,
# using a serial sensor never imports bleak.
SCHEMES: dict[str, str] = {
    "sim": "device_sim.transport:open_sim_channel",
    "serial": "host.transports.serial:open_serial_channel",
    "ble": "host.transports.ble:open_ble_channel",
    "replay": "host.transports.replay:open_replay_channel",
}


@dataclass(frozen=True, slots=True)
class DeviceUri:
    """A parsed device string: ``scheme:target?key=value&...``."""

    scheme: str
    target: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.scheme}:{self.target}" + (f"?{query}" if query else "")

    def number(self, key: str, default: float) -> float:
        """A numeric parameter, or ``default``; raises ConfigError if it is not a number."""
        raw = self.params.get(key)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"device {self}: {key}={raw!r} is not a number") from exc


def parse_device(text: str) -> DeviceUri:
    """Parse a device string (see module docstring).

    Raises:
        ConfigError: no or unknown scheme, or a malformed query.
    """
    scheme, sep, rest = text.partition(":")
    scheme = scheme.strip().lower()
    if not sep or scheme not in SCHEMES:
        raise ConfigError(
            f"device {text!r}: expected one of {', '.join(s + ':...' for s in SCHEMES)} "
            "(e.g. sim:desk_day, ble:name=PostureSim-1A2B, serial:/dev/ttyACM0)"
        )
    params: dict[str, str] = {}
    # serial and ble targets may contain '?'-free URLs (socket://host:port); only split the query
    # for schemes whose targets never carry one of their own.
    target = rest
    if "?" in rest and not rest.startswith(("socket://", "rfc2217://", "loop://")):
        target, _, query = rest.partition("?")
        try:
            params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=True))
        except ValueError as exc:
            raise ConfigError(f"device {text!r}: malformed options {query!r}") from exc
    return DeviceUri(scheme, target.strip(), params)


def device_identity(device: str) -> str:
    """The part of a device string that names the sensor, without the options.

    Per-device state (a stored calibration) is keyed by it, so ``sim:desk_day?speed=1`` and
    ``sim:desk_day?speed=10`` are the same wearer and sensor: the scenario for ``sim:``, the
    address or name for ``ble:`` (an address in upper case), the port for ``serial:``, the file
    for ``replay:``. A string that is not a device string (e.g. a recording's name) is its own
    identity.
    """
    try:
        uri = parse_device(device)
    except ConfigError:
        return device.strip()
    target = uri.target
    if uri.scheme == "ble" and not target.lower().startswith("name="):
        target = target.upper()
    return f"{uri.scheme}:{target}"


class LinkState(enum.Enum):
    """Connection state as users see it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A change of link state with a human-readable reason (``detail``)."""

    state: LinkState
    detail: str = ""
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What we know about the connected sensor (Device Information service and friends)."""

    name: str
    address: str = ""
    transport: str = ""
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    firmware: str = ""
    hardware: str = ""
    battery_pct: int | None = None
    mtu: int | None = None
    rssi_dbm: int | None = None


@runtime_checkable
class Channel(Protocol):
    """One way of reaching a sensor. ``connect`` may be called again after a loss."""

    @property
    def description(self) -> str:
        """Short human-readable name of the target, e.g. ``BLE PostureSim-1A2B``."""
        ...

    async def connect(self) -> DeviceInfo:
        """Connect (scanning first where needed).

        Raises:
            ConnectError: with ``transient`` telling whether a retry can help.
        """
        ...

    async def disconnect(self) -> None:
        """Close the link on purpose; idempotent, never raises."""
        ...

    async def send(self, payload: bytes) -> None:
        """Send one encoded command (see host.protocol.encode_message).

        Raises:
            DisconnectedError: the link is down.
        """
        ...

    async def receive(self) -> list[Message]:
        """Wait for the next message(s) from the device.

        Raises:
            DisconnectedError: the link was lost (not raised after ``disconnect``).
        """
        ...

    def statistics(self) -> dict[str, int]:
        """Channel-level counters (bytes, notifications, decode errors...)."""
        ...


def open_channel(device: str | DeviceUri) -> Channel:
    """Create the channel a device string names (not yet connected).

    Raises:
        ConfigError: unknown scheme or bad options.
    """
    uri = parse_device(device) if isinstance(device, str) else device
    module_name, _, attr = SCHEMES[uri.scheme].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    channel: Channel = factory(uri)
    return channel
