"""A fake BlueZ (``org.bluez`` on a private D-Bus) serving the simulated sensor to unmodified bleak.

bleak's BlueZ backend always talks to the *system* bus; pointing ``DBUS_SYSTEM_BUS_ADDRESS`` at a
private ``dbus-daemon`` (see :class:`PrivateBus`) on which :class:`FakeBluez` owns ``org.bluez``
lets any bleak program scan, connect, subscribe and write to the simulated sensor with no radio.
The contract bleak relies on, and the pitfalls, are in ``notes/ble.md`` §3; in short:

* one adapter ``/org/bluez/hci0`` with ``Roles`` ∋ central and ``Powered`` (else bleak reports no
  Bluetooth);
* the device object appears on StartDiscovery and RSSI changes are emitted while discovering
  (bleak only reports devices on InterfacesAdded/PropertiesChanged after discovery started);
* object paths follow BlueZ exactly (bleak parses the handle from the last four hex digits);
* GATT objects are exported on Connect, then ``ServicesResolved`` turns true;
* notifications through StartNotify (PropertiesChanged of ``Value``) and AcquireNotify (a
  SEQPACKET socket passed as a unix fd);
* link loss is ``ServicesResolved``/``Connected`` turning false; with ``remove_on_disconnect``
  the device object disappears as well, as real BlueZ does for an unpaired device (bleak #676).

Our GATT profile (docs/protocol.md): the posture service with Data (notify), Control (write +
notify), Status (read, notify) and Config (read, notify); Battery 0x180F; Device Information
0x180A. The simulated firmware decides what is sent; this module only routes its messages.

No ``from __future__ import annotations`` here: dbus-fast reads the D-Bus signatures from the
annotations at class creation, and a postponed ``-> None`` would not parse.
"""

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

from dbus_fast import BusType, DBusError, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from host import protocol
from host.errors import ProtocolError
from host.protocol import Command, ConfigMessage, StatusMessage
from host.transports.base import DeviceInfo

__all__ = ["ADAPTER_PATH", "FakeBluez", "FakeBluezOptions", "Peripheral", "PrivateBus"]

logger = logging.getLogger(__name__)

ADAPTER_PATH = "/org/bluez/hci0"
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
REFUSED = "br-connection-page-timeout"  # what BlueZ answers when the peer does not respond

DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]
DBusFdMtu = Annotated[list[Any], DBusSignature("hq")]
_RO = PropertyAccess.READ

# message type byte (docs/protocol.md) -> characteristic that carries it
_ROUTE = {0x01: protocol.DATA_CHAR_UUID, 0x02: protocol.CONFIG_CHAR_UUID}
_ROUTE |= {0x03: protocol.STATUS_CHAR_UUID, 0x04: protocol.CONTROL_CHAR_UUID}


class Peripheral(Protocol):
    """What the fake needs from the simulated firmware (device_sim.firmware.SimDevice)."""

    name: str
    address: str

    @property
    def t_s(self) -> float: ...
    def device_info(self) -> DeviceInfo: ...
    def config(self) -> ConfigMessage: ...
    def status(self) -> StatusMessage: ...
    def battery_pct(self) -> int: ...
    def handle_command(self, payload: bytes) -> list[bytes]: ...
    def advance(self, dt_s: float) -> list[bytes]: ...
    def set_link(self, up: bool) -> None: ...
    def link_fault_active(self, t_s: float | None = None) -> bool: ...
    def reachable(self, t_s: float | None = None) -> bool: ...
    def refuses_connection(self) -> bool: ...
    def next_due_s(self) -> float: ...
    def next_link_fault_s(self, after_s: float | None = None) -> float: ...
    def corrupt(self, frame: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class FakeBluezOptions:
    """Behaviour knobs of the fake (device faults come from the Peripheral's schedule).

    Attributes:
        speed: simulated seconds per wall-clock second.
        tick_s: longest wall-clock sleep of the device clock loop (it wakes earlier when a
            packet is due).
        mtu: ATT MTU announced (BlueZ ``MTU`` property; writes ≤ mtu - 3).
        refuse_connections: refuse this many Connect calls first (br-connection-page-timeout).
        remove_on_disconnect: drop the device object when the link dies, like real BlueZ.
        rssi_interval_s: RSSI update period while discovering.
    """

    speed: float = 1.0
    tick_s: float = 0.05
    mtu: int = 247
    refuse_connections: int = 0
    remove_on_disconnect: bool = False
    rssi_interval_s: float = 0.5


# ----------------------------------------------------------------------------- D-Bus objects


class _Adapter(ServiceInterface):
    def __init__(self, world: "FakeBluez") -> None:
        super().__init__("org.bluez.Adapter1")
        self._world = world
        self.discovering = False

    @dbus_method()
    def StartDiscovery(self) -> None:  # noqa: N802 - D-Bus names
        self.discovering = True
        self.emit_properties_changed({"Discovering": True})
        self._world._discovery_changed()

    @dbus_method()
    def StopDiscovery(self) -> None:  # noqa: N802
        if not self.discovering:
            raise DBusError("org.bluez.Error.Failed", "No discovery started")
        self.discovering = False
        self.emit_properties_changed({"Discovering": False})
        self._world._discovery_changed()

    @dbus_method()
    def SetDiscoveryFilter(self, filters: DBusDict) -> None:  # noqa: N802
        logger.debug("SetDiscoveryFilter %s", {k: v.value for k, v in filters.items()})

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:  # noqa: N802
        self._world._remove_device()

    @dbus_property(access=_RO)
    def Address(self) -> DBusStr:  # noqa: N802
        return "00:1A:7D:DA:71:13"

    @dbus_property(access=_RO)
    def Name(self) -> DBusStr:  # noqa: N802
        return "posture-sim-hci"

    @dbus_property(access=_RO)
    def Alias(self) -> DBusStr:  # noqa: N802
        return "posture-sim-hci"

    @dbus_property(access=_RO)
    def Powered(self) -> DBusBool:  # noqa: N802
        return True

    @dbus_property(access=_RO)
    def Discovering(self) -> DBusBool:  # noqa: N802
        return self.discovering

    @dbus_property(access=_RO)
    def Roles(self) -> DBusStrList:  # noqa: N802
        return ["central", "peripheral"]


class _Device(ServiceInterface):
    def __init__(self, world: "FakeBluez") -> None:
        super().__init__("org.bluez.Device1")
        self._world = world
        self.connected = False
        self.resolved = False
        self.rssi = -58

    @dbus_method()
    async def Connect(self) -> None:  # noqa: N802
        await self._world._connect()

    @dbus_method()
    def Disconnect(self) -> None:  # noqa: N802
        self._world.drop_link("host disconnected")

    @dbus_method()
    def Pair(self) -> None:  # noqa: N802
        return None

    @dbus_property(access=_RO)
    def Address(self) -> DBusStr:  # noqa: N802
        return self._world.peripheral.address

    @dbus_property(access=_RO)
    def AddressType(self) -> DBusStr:  # noqa: N802
        return "random"

    @dbus_property(access=_RO)
    def Name(self) -> DBusStr:  # noqa: N802
        return self._world.peripheral.name

    @dbus_property(access=_RO)
    def Alias(self) -> DBusStr:  # noqa: N802
        return self._world.peripheral.name

    @dbus_property(access=_RO)
    def Adapter(self) -> DBusObjectPath:  # noqa: N802
        return ADAPTER_PATH

    @dbus_property(access=_RO)
    def Paired(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=_RO)
    def Bonded(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=_RO)
    def Trusted(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=_RO)
    def Blocked(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=_RO)
    def LegacyPairing(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=_RO)
    def Connected(self) -> DBusBool:  # noqa: N802
        return self.connected

    @dbus_property(access=_RO)
    def ServicesResolved(self) -> DBusBool:  # noqa: N802
        return self.resolved

    @dbus_property(access=_RO)
    def RSSI(self) -> DBusInt16:  # noqa: N802
        return self.rssi

    @dbus_property(access=_RO)
    def UUIDs(self) -> DBusStrList:  # noqa: N802
        return [protocol.SERVICE_UUID]

    @dbus_property(access=_RO)
    def ServiceData(self) -> DBusDict:  # noqa: N802
        # battery level in the advertisement, so a scan can show it without connecting
        level = max(0, min(100, self._world.peripheral.battery_pct()))
        return {protocol.BATTERY_SERVICE_UUID: Variant("ay", bytes([level]))}

    @dbus_property(access=_RO)
    def ManufacturerData(self) -> DBusManufacturerData:  # noqa: N802
        # 0xFFFF: the SIG's "no company" id reserved for testing
        return {0xFFFF: Variant("ay", b"posture-sim")}


class _Service(ServiceInterface):
    def __init__(self, device_path: str, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._device_path = device_path
        self._uuid = uuid

    @dbus_property(access=_RO)
    def UUID(self) -> DBusStr:  # noqa: N802
        return self._uuid

    @dbus_property(access=_RO)
    def Primary(self) -> DBusBool:  # noqa: N802
        return True

    @dbus_property(access=_RO)
    def Device(self) -> DBusObjectPath:  # noqa: N802
        return self._device_path


class _Characteristic(ServiceInterface):
    def __init__(
        self,
        world: "FakeBluez",
        service_path: str,
        uuid: str,
        flags: list[str],
        value: bytes = b"",
        on_write: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._world = world
        self._service_path = service_path
        self.uuid = uuid
        self._flags = flags
        self.value = value
        self._on_write = on_write
        self.notifying = False
        self._socket: socket.socket | None = None  # our end of an AcquireNotify pair

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:  # noqa: N802
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:  # noqa: N802
        if self._on_write is None:
            raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")
        self._on_write(bytes(value))

    @dbus_method()
    def StartNotify(self) -> None:  # noqa: N802
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:  # noqa: N802
        self.notifying = False
        self.emit_properties_changed({"Notifying": False})

    @dbus_method()
    def AcquireNotify(self, options: DBusDict) -> DBusFdMtu:  # noqa: N802
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        self._socket = ours
        self.notifying = True
        return [self._world._hand_over_fd(theirs), self._world.options.mtu]

    @dbus_method()
    def AcquireWrite(self, options: DBusDict) -> DBusFdMtu:  # noqa: N802
        # only used by bleak's _acquire_mtu(); writes still go through WriteValue
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.close()
        return [self._world._hand_over_fd(theirs), self._world.options.mtu]

    def push(self, data: bytes) -> bool:
        """Set the value and notify the subscriber; returns False if nobody listens."""
        self.value = data
        if self._socket is not None:
            try:
                self._socket.send(data)
            except OSError:  # the host closed its end: unsubscribed
                self.unsubscribe()
                return False
            return True
        if self.notifying:
            self.emit_properties_changed({"Value": data})
            return True
        return False

    def unsubscribe(self) -> None:
        self.notifying = False
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @dbus_property(access=_RO)
    def UUID(self) -> DBusStr:  # noqa: N802
        return self.uuid

    @dbus_property(access=_RO)
    def Service(self) -> DBusObjectPath:  # noqa: N802
        return self._service_path

    @dbus_property(access=_RO)
    def Value(self) -> DBusBytes:  # noqa: N802
        return self.value

    @dbus_property(access=_RO)
    def Notifying(self) -> DBusBool:  # noqa: N802
        return self.notifying

    @dbus_property(access=_RO)
    def Flags(self) -> DBusStrList:  # noqa: N802
        return self._flags

    @dbus_property(access=_RO)
    def MTU(self) -> DBusUInt16:  # noqa: N802
        return self._world.options.mtu

    @dbus_property(access=_RO)
    def NotifyAcquired(self) -> DBusBool:  # noqa: N802
        return self._socket is not None


class _Descriptor(ServiceInterface):
    def __init__(self, characteristic_path: str, uuid: str) -> None:
        super().__init__("org.bluez.GattDescriptor1")
        self._characteristic_path = characteristic_path
        self._uuid = uuid

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:  # noqa: N802
        return b"\x00\x00"

    @dbus_property(access=_RO)
    def UUID(self) -> DBusStr:  # noqa: N802
        return self._uuid

    @dbus_property(access=_RO)
    def Characteristic(self) -> DBusObjectPath:  # noqa: N802
        return self._characteristic_path

    @dbus_property(access=_RO)
    def Value(self) -> DBusBytes:  # noqa: N802
        return b"\x00\x00"


# ----------------------------------------------------------------------------- the service

# (service path suffix, service uuid, [(char suffix, uuid, flags)]); handles as BlueZ numbers them
_POSTURE_CHARS = [
    ("char0011", protocol.DATA_CHAR_UUID, ["notify"]),
    ("char0014", protocol.CONTROL_CHAR_UUID, ["write", "write-without-response", "notify"]),
    ("char0017", protocol.STATUS_CHAR_UUID, ["read", "notify"]),
    ("char001a", protocol.CONFIG_CHAR_UUID, ["read", "notify"]),
]
_BATTERY_CHARS = [("char0021", protocol.BATTERY_LEVEL_UUID, ["read", "notify"])]
_DIS_CHARS = [
    ("char0031", protocol.MANUFACTURER_UUID, ["read"]),
    ("char0033", protocol.MODEL_NUMBER_UUID, ["read"]),
    ("char0035", protocol.SERIAL_NUMBER_UUID, ["read"]),
    ("char0037", protocol.FIRMWARE_REV_UUID, ["read"]),
    ("char0039", protocol.HARDWARE_REV_UUID, ["read"]),
]
_LAYOUT = [
    ("service0010", protocol.SERVICE_UUID, _POSTURE_CHARS),
    ("service0020", protocol.BATTERY_SERVICE_UUID, _BATTERY_CHARS),
    ("service0030", protocol.DEVICE_INFO_SERVICE_UUID, _DIS_CHARS),
]


@dataclass(slots=True)
class FakeBluezStatistics:
    """What the fake did (read from the fake's own thread/loop)."""

    connects: int = 0
    refused: int = 0
    link_drops: int = 0
    disconnects: int = 0
    notifications: int = 0
    commands: int = 0


class FakeBluez:
    """``org.bluez`` with one adapter and one simulated sensor, driven by the device's clock.

    Args:
        peripheral: the simulated firmware (advanced in real time × ``options.speed``).
        options: behaviour knobs.
        on_command: called with every decoded control-point command (e.g. to report VIBRATE).
        bus_address: D-Bus address to serve on; default: the system bus, i.e.
            ``DBUS_SYSTEM_BUS_ADDRESS`` (point it at a :class:`PrivateBus`!).
    """

    def __init__(
        self,
        peripheral: Peripheral,
        options: FakeBluezOptions | None = None,
        *,
        on_command: Callable[[Command], None] | None = None,
        bus_address: str | None = None,
    ) -> None:
        self.peripheral = peripheral
        self.options = options or FakeBluezOptions()
        self.statistics = FakeBluezStatistics()
        self._on_command = on_command
        self._bus_address = bus_address
        self._bus: MessageBus | None = None
        self._adapter = _Adapter(self)
        self._device: _Device | None = None
        self.device_path = f"{ADAPTER_PATH}/dev_{peripheral.address.replace(':', '_')}"
        self._gatt: list[tuple[str, ServiceInterface]] = []
        self._chars: dict[str, _Characteristic] = {}
        self._build_gatt()
        self._link_up = False
        self._refusals_left = self.options.refuse_connections
        self._clock: asyncio.Task[None] | None = None
        self._advanced_at_s = 0.0
        self._fd_timers: dict[int, asyncio.TimerHandle] = {}

    @property
    def connected(self) -> bool:
        """True while a host holds the link."""
        return self._link_up

    async def start(self) -> None:
        """Connect to the bus, export the adapter, own ``org.bluez`` and start the clock."""
        if self._bus_address is not None:
            bus = MessageBus(bus_address=self._bus_address, negotiate_unix_fd=True)
        else:
            bus = MessageBus(bus_type=BusType.SYSTEM, negotiate_unix_fd=True)
        self._bus = await bus.connect()
        self._bus.export(ADAPTER_PATH, self._adapter)
        await self._bus.request_name("org.bluez")
        self._clock = asyncio.create_task(self._run_clock(), name="fake-bluez-clock")

    async def stop(self) -> None:
        """Stop the clock, drop any link and leave the bus."""
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        self.drop_link("simulator stopping")
        for fd, timer in self._fd_timers.items():  # close the fd copies now, do not leak them
            timer.cancel()
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd_timers.clear()
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.disconnect()
            # the reader ends with EOFError/OSError when the socket closes under it
            with contextlib.suppress(EOFError, OSError):
                await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

    async def __aenter__(self) -> "FakeBluez":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def drop_link(self, reason: str = "link lost (simulated)") -> None:
        """End the link from the device side (or honour Disconnect); no-op when down."""
        device = self._device
        if not self._link_up and (device is None or not device.connected):
            return
        logger.info("link down: %s", reason)
        if reason != "host disconnected":
            self.statistics.link_drops += 1
        else:
            self.statistics.disconnects += 1
        self._link_up = False
        self.peripheral.set_link(False)
        for char in self._chars.values():
            char.unsubscribe()
        self._unexport_gatt()
        if device is not None:
            device.resolved = False
            device.emit_properties_changed({"ServicesResolved": False})
            device.connected = False
            device.emit_properties_changed({"Connected": False})
        if self.options.remove_on_disconnect:
            self._remove_device()

    # ------------------------------------------------------------------ internals

    def _build_gatt(self) -> None:
        for service_suffix, service_uuid, chars in _LAYOUT:
            service_path = f"{self.device_path}/{service_suffix}"
            self._gatt.append((service_path, _Service(self.device_path, service_uuid)))
            for char_suffix, uuid, flags in chars:
                char_path = f"{service_path}/{char_suffix}"
                on_write = self._on_control_write if uuid == protocol.CONTROL_CHAR_UUID else None
                char = _Characteristic(self, service_path, uuid, flags, on_write=on_write)
                self._chars[uuid] = char
                self._gatt.append((char_path, char))
                if "notify" in flags:
                    handle = int(char_suffix[-4:], 16) + 2
                    desc_path = f"{char_path}/desc{handle:04x}"
                    self._gatt.append((desc_path, _Descriptor(char_path, CCCD_UUID)))

    def _refresh_values(self) -> None:
        p = self.peripheral
        info = p.device_info()
        chars = self._chars
        chars[protocol.CONFIG_CHAR_UUID].value = protocol.encode_message(p.config())
        chars[protocol.STATUS_CHAR_UUID].value = protocol.encode_message(p.status())
        chars[protocol.BATTERY_LEVEL_UUID].value = bytes([max(0, min(100, p.battery_pct()))])
        chars[protocol.MANUFACTURER_UUID].value = info.manufacturer.encode()
        chars[protocol.MODEL_NUMBER_UUID].value = info.model.encode()
        chars[protocol.SERIAL_NUMBER_UUID].value = info.serial_number.encode()
        chars[protocol.FIRMWARE_REV_UUID].value = info.firmware.encode()
        chars[protocol.HARDWARE_REV_UUID].value = info.hardware.encode()

    def _export_gatt(self) -> None:
        assert self._bus is not None
        self._refresh_values()
        for path, interface in self._gatt:
            self._bus.export(path, interface)

    def _unexport_gatt(self) -> None:
        if self._bus is None:
            return
        for path, interface in reversed(self._gatt):
            with contextlib.suppress(KeyError, ValueError):
                self._bus.unexport(path, interface)

    def _add_device(self) -> None:
        if self._device is None and self._bus is not None:
            self._device = _Device(self)
            self._bus.export(self.device_path, self._device)  # -> InterfacesAdded

    def _remove_device(self) -> None:
        device, self._device = self._device, None
        if device is None:
            return
        if device.connected:
            self._device = device
            self.drop_link("device removed")
            self._device = None
        if self._bus is not None:
            self._bus.unexport(self.device_path)  # -> InterfacesRemoved

    def _visible(self) -> bool:
        # a device that refuses connections still advertises; a vanished one does not
        p = self.peripheral
        return p.reachable() or p.refuses_connection()

    def _discovery_changed(self) -> None:
        if self._adapter.discovering and self._visible():
            self._add_device()

    async def _connect(self) -> None:
        device = self._device
        p = self.peripheral
        if device is None:
            raise DBusError("org.bluez.Error.DoesNotExist", "Device does not exist")
        if device.connected:
            return
        self._catch_up()  # judge reachability at the device's current time
        refuse = self._refusals_left > 0
        if refuse or p.refuses_connection() or p.link_fault_active() or not p.reachable():
            self._refusals_left -= int(refuse)
            self.statistics.refused += 1
            await asyncio.sleep(0.05)  # a real page timeout takes seconds; keep tests quick
            raise DBusError("org.bluez.Error.Failed", REFUSED)
        device.connected = True
        device.emit_properties_changed({"Connected": True})
        await asyncio.sleep(0.01)  # "GATT discovery"
        if not device.connected:  # dropped meanwhile
            raise DBusError("org.bluez.Error.Failed", "le-connection-abort-by-local")
        self._export_gatt()
        device.resolved = True
        device.emit_properties_changed({"ServicesResolved": True})
        self._link_up = True
        p.set_link(True)
        self.statistics.connects += 1

    def _hand_over_fd(self, sock: socket.socket) -> int:
        """Detach ``sock`` for a D-Bus reply; close our copy once the reply has gone out."""
        fd = sock.detach()

        def close() -> None:
            self._fd_timers.pop(fd, None)
            with contextlib.suppress(OSError):
                os.close(fd)

        self._fd_timers[fd] = asyncio.get_running_loop().call_later(1.0, close)
        return fd

    def _on_control_write(self, payload: bytes) -> None:
        if not self._link_up:
            raise DBusError("org.bluez.Error.Failed", "Not connected")
        self.statistics.commands += 1
        self._catch_up()
        if self._on_command is not None:
            try:
                command = protocol.decode_message(payload)
            except ProtocolError:
                command = None
            if isinstance(command, Command):
                self._on_command(command)
        for message in self.peripheral.handle_command(payload):
            self._route(message)

    def _route(self, message: bytes) -> None:
        if not self._link_up or not message:
            return
        uuid = _ROUTE.get(message[0])
        if uuid is None:
            return
        if self._chars[uuid].push(message):
            self.statistics.notifications += 1
        if message[0] == 0x03 and len(message) > 2:  # status carries the battery level
            self._chars[protocol.BATTERY_LEVEL_UUID].push(bytes([message[2]]))

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        last_s = loop.time()
        next_rssi_s = last_s
        self._advanced_at_s = last_s
        while True:
            await asyncio.sleep(self._sleep_s())
            now_s = loop.time()
            try:
                self._catch_up()
            except Exception:
                logger.exception("simulated device failed")
                raise
            device = self._device
            if self._adapter.discovering and device is not None and now_s >= next_rssi_s:
                next_rssi_s = now_s + self.options.rssi_interval_s
                device.rssi = -55 - (int(now_s * 7) % 12)
                device.emit_properties_changed({"RSSI": device.rssi})

    def _sleep_s(self) -> float:
        """Wall time until the device next has something to do (at most ``tick_s``).

        Waking exactly when the next packet is due keeps the added latency near zero without
        polling fast; the cap keeps fault schedules and discovery responsive.
        """
        p = self.peripheral
        due_s = min(p.next_due_s(), p.next_link_fault_s())
        return max(0.0, min(self.options.tick_s, (due_s - p.t_s) / self.options.speed))

    def _catch_up(self) -> None:
        """Advance the device to the wall clock now (also before each command, so a
        TIME_SYNC is answered with the device's real current tick)."""
        now_s = asyncio.get_running_loop().time()
        dt_s = (now_s - self._advanced_at_s) * self.options.speed
        self._advanced_at_s = now_s
        self._step(max(0.0, dt_s))

    def _step(self, dt_s: float) -> None:
        p = self.peripheral
        out = p.advance(dt_s)
        if self._link_up and p.link_fault_active():
            self.drop_link("link loss (fault schedule)")
            out = []
        if not self._visible() and self._device is not None:
            t_s = p.t_s
            logger.info("device out of reach at t=%.1f s", t_s)
            self._remove_device()
        elif self._device is None and self._adapter.discovering and self._visible():
            self._add_device()
        for message in out:
            self._route(message)


# ----------------------------------------------------------------------------- private bus

_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={directory}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/><allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


class PrivateBus:
    """A private ``dbus-daemon`` listening on a unix socket in a fresh 0700 directory.

    Unix socket only (nothing on the network); :meth:`stop` ends the daemon by its PID and
    removes the directory. Usable as a context manager.

    Raises:
        FileNotFoundError: ``dbus-daemon`` is not installed (Debian package ``dbus-daemon``).
        RuntimeError: the daemon did not start.
    """

    def __init__(self) -> None:
        self.address = ""
        self.pid: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._directory: Path | None = None

    def start(self) -> str:
        """Start the daemon; returns its address (for ``DBUS_SYSTEM_BUS_ADDRESS``)."""
        daemon = shutil.which("dbus-daemon")
        if daemon is None:
            raise FileNotFoundError(
                "dbus-daemon not found: the fake BlueZ needs it "
                "(Debian: apt-get install dbus-daemon, or run ./dev.sh setup)"
            )
        directory = Path(tempfile.mkdtemp(prefix="posture-sim-bus."))  # mode 0700
        self._directory = directory
        conf = directory / "bus.conf"
        conf.write_text(_BUS_CONF.format(directory=directory), encoding="utf-8")
        with open(directory / "daemon.log", "w", encoding="utf-8") as log:
            self._process = subprocess.Popen(
                [daemon, f"--config-file={conf}", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        assert self._process.stdout is not None
        self.address = self._process.stdout.readline().strip()
        self.pid = self._process.pid
        if not self.address:
            message = (directory / "daemon.log").read_text(encoding="utf-8", errors="replace")
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {message.strip()}")
        return self.address

    def stop(self) -> None:
        """Stop the daemon (by PID) and remove its directory; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            if process.stdout is not None:
                process.stdout.close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def __enter__(self) -> "PrivateBus":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
