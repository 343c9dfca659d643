"""Bluetooth LE channel on bleak's public API (the only module that imports bleak).

Device strings::

    ble:AA:BB:CC:DD:EE:FF      a sensor by address
    ble:name=PostureSim-1A2B   a sensor by advertised name
    ble:                       the first of our sensors found (filtered by SERVICE_UUID)
    ...?notify=acquire         BlueZ: receive notifications through AcquireNotify (fd passing)
    ...?scan=S                 scan up to S seconds per connect attempt (default 10)

Each :meth:`BleChannel.connect` scans for a *fresh* BLEDevice (BlueZ forgets a device when the
link dies or scanning stops; a stale one fails, bleak #676), connects through
bleak-retry-connector's ``establish_connection``, checks the GATT layout and protocol version,
reads Battery and Device Information and subscribes to Data, Control, Status and Config. The
notification callback only appends bytes to a bounded buffer (drop oldest, counted); decoding
happens in :meth:`BleChannel.receive`. Retrying beyond one attempt is
:class:`host.link.SensorLink`'s job. Every bleak/OS error leaves this module as a
:mod:`host.errors` type with advice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)
from bleak_retry_connector import establish_connection

from host import protocol
from host.errors import (
    BluetoothUnavailableError,
    ConnectError,
    DisconnectedError,
    ProtocolError,
    TransportError,
    UnsupportedVersionError,
)
from host.protocol import ConfigMessage, Message
from host.transports.base import DeviceInfo, DeviceUri

__all__ = ["BleChannel", "ScanResult", "open_ble_channel", "scan"]

logger = logging.getLogger(__name__)

_NOT_FOUND_ADVICE = "is the sensor charged, switched on and in range?"
_SUBSCRIBED = (
    protocol.DATA_CHAR_UUID,
    protocol.CONTROL_CHAR_UUID,
    protocol.STATUS_CHAR_UUID,
    protocol.CONFIG_CHAR_UUID,
)
_DIS_FIELDS = {
    "manufacturer": protocol.MANUFACTURER_UUID,
    "model": protocol.MODEL_NUMBER_UUID,
    "serial_number": protocol.SERIAL_NUMBER_UUID,
    "firmware": protocol.FIRMWARE_REV_UUID,
    "hardware": protocol.HARDWARE_REV_UUID,
}
_UNAVAILABLE_ADVICE = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: "no Bluetooth adapter found; plug one in "
    "(or start the simulator: posture-sim serve desk_day --face ble)",
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: "the Bluetooth adapter cannot act as "
    "a BLE central; use another adapter",
    BleakBluetoothNotAvailableReason.POWERED_OFF: "Bluetooth is switched off; switch it on "
    "(bluetoothctl power on)",
    BleakBluetoothNotAvailableReason.DENIED_BY_USER: "Bluetooth access was denied; allow it in "
    "the system privacy settings",
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: "Bluetooth access is not permitted by the "
    "system; check permissions (Linux: is your user in the 'bluetooth' group?)",
}


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One of our sensors seen while scanning.

    Attributes:
        battery_pct: from the advertisement's Battery service data, when the sensor sends it.
    """

    name: str
    address: str
    rssi_dbm: int | None
    battery_pct: int | None = None


def _advertised_battery(adv: AdvertisementData) -> int | None:
    data = adv.service_data.get(protocol.BATTERY_SERVICE_UUID)
    return int(data[0]) if data and data[0] <= 100 else None


def _translate(exc: BaseException, what: str) -> TransportError:
    """Map a bleak/OS error onto our error tree with advice (caller raises ``from exc``)."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        advice = _UNAVAILABLE_ADVICE.get(exc.reason, "Bluetooth is not available")
        return BluetoothUnavailableError(f"{what}: {advice}")
    if isinstance(exc, PermissionError) or (
        isinstance(exc, BleakDBusError)
        and exc.dbus_error in ("org.bluez.Error.NotPermitted", "org.bluez.Error.NotAuthorized")
    ):
        return BluetoothUnavailableError(
            f"{what}: permission denied ({exc}); on Linux add your user to the 'bluetooth' "
            "group and log in again"
        )
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        # bleak could not even reach the system bus: no D-Bus / BlueZ on this machine
        return BluetoothUnavailableError(
            f"{what}: cannot reach BlueZ over D-Bus ({exc}); is Bluetooth (bluetoothd) "
            "installed and running? Without hardware: posture-sim serve --face ble"
        )
    if isinstance(exc, BleakDeviceNotFoundError) or type(exc).__name__ == "BleakNotFoundError":
        return ConnectError(f"{what}: sensor not found; {_NOT_FOUND_ADVICE}")
    if isinstance(exc, BleakDBusError):
        return ConnectError(f"{what}: the sensor did not accept the connection ({exc.dbus_error}: "
                            f"{exc.dbus_error_details or ''}); {_NOT_FOUND_ADVICE}")  # fmt: skip
    return ConnectError(f"{what}: {exc or type(exc).__name__}")


async def scan(timeout_s: float = 5.0) -> list[ScanResult]:
    """Scan for our sensors (advertising SERVICE_UUID), strongest signal first.

    Raises:
        BluetoothUnavailableError: Bluetooth is off, missing or not permitted.
        ConnectError: scanning failed for another reason.
    """
    try:
        found = await BleakScanner.discover(
            timeout=timeout_s, return_adv=True, service_uuids=[protocol.SERVICE_UUID]
        )
    except (BleakError, OSError) as exc:
        raise _translate(exc, "scanning for sensors") from exc
    results = [
        ScanResult(
            adv.local_name or device.name or "", device.address, adv.rssi, _advertised_battery(adv)
        )
        for device, adv in found.values()
        if protocol.SERVICE_UUID in (u.lower() for u in adv.service_uuids)
    ]
    return sorted(results, key=lambda r: -(r.rssi_dbm if r.rssi_dbm is not None else -999))


def open_ble_channel(uri: DeviceUri) -> BleChannel:
    """Factory registered for the ``ble:`` scheme (see host.transports.base.SCHEMES)."""
    return BleChannel(uri)


class BleChannel:
    """A :class:`~host.transports.base.Channel` to one sensor over Bluetooth LE.

    Args:
        uri: ``ble:`` device string (see module docstring).
        queue_limit: notifications buffered between the callback and :meth:`receive`.
    """

    def __init__(self, uri: DeviceUri, *, queue_limit: int = 4096) -> None:
        self._uri = uri
        target = uri.target
        self._name: str | None = target[5:] if target.startswith("name=") else None
        self._address: str | None = target.upper() if target and self._name is None else None
        self._scan_timeout_s = uri.number("scan", 10.0)
        self._acquire = uri.params.get("notify", "start") == "acquire"
        self._client: BleakClient | None = None
        self._disconnecting: asyncio.Future[None] | None = None
        self._control: BleakGATTCharacteristic | None = None
        self._max_write = 20
        self._buffer: deque[bytes] = deque(maxlen=queue_limit)
        self._wake = asyncio.Event()
        self._lost = False
        self._intentional = False
        self._stats = dict.fromkeys(
            ("notifications", "bytes_in", "dropped", "decode_errors", "connects", "losses"), 0
        )

    @property
    def description(self) -> str:
        if self._name:
            return f"BLE {self._name}"
        return f"BLE {self._address}" if self._address else "BLE (first posture sensor)"

    def statistics(self) -> dict[str, int]:
        return dict(self._stats)

    # ------------------------------------------------------------------ connect

    async def connect(self) -> DeviceInfo:
        """Scan, connect, verify, read info and subscribe.

        Raises:
            BluetoothUnavailableError: Bluetooth off, missing or not permitted (permanent).
            ConnectError: not found / refused (transient) or not our sensor (permanent).
        """
        await self.disconnect()
        device, adv = await self._find()
        self._intentional = False
        self._lost = False
        self._buffer.clear()
        try:
            client = await establish_connection(
                BleakClient,
                device,
                device.name or device.address,
                disconnected_callback=self._on_disconnected,
                max_attempts=2,
                use_services_cache=False,
            )
        except (BleakError, OSError, TimeoutError) as exc:
            raise _translate(exc, f"connecting to {device.name or device.address}") from exc
        self._client = client
        try:
            return await self._set_up(client, device, adv)
        except BaseException:
            await self.disconnect()
            raise

    async def _find(self) -> tuple[BLEDevice, AdvertisementData | None]:
        found: list[tuple[BLEDevice, AdvertisementData]] = []

        def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
            if self._address is not None:
                ok = device.address.upper() == self._address
            elif self._name is not None:
                ok = (adv.local_name or device.name) == self._name
            else:
                ok = protocol.SERVICE_UUID in (u.lower() for u in adv.service_uuids)
            if ok:
                found.append((device, adv))
            return ok

        try:
            device = await BleakScanner.find_device_by_filter(
                wanted, timeout=self._scan_timeout_s, service_uuids=[protocol.SERVICE_UUID]
            )
        except (BleakError, OSError) as exc:
            raise _translate(exc, f"scanning for {self.description}") from exc
        if device is None:
            raise ConnectError(
                f"{self.description} not found within {self._scan_timeout_s:g} s; "
                + _NOT_FOUND_ADVICE
            )
        return device, (found[-1][1] if found else None)

    async def _set_up(
        self, client: BleakClient, device: BLEDevice, adv: AdvertisementData | None
    ) -> DeviceInfo:
        where = f"{device.name or device.address}"
        services = client.services
        missing = [u for u in _SUBSCRIBED if services.get_characteristic(u) is None]
        if missing:
            raise ConnectError(
                f"{where} lacks characteristic(s) {', '.join(missing)}: not a posture sensor, or "
                f"the system's GATT cache is stale (forget the device: bluetoothctl remove "
                f"{device.address})",
                transient=False,
            )
        control = services.get_characteristic(protocol.CONTROL_CHAR_UUID)
        assert control is not None
        self._control = control
        self._max_write = control.max_write_without_response_size
        try:
            raw_config = await client.read_gatt_char(protocol.CONFIG_CHAR_UUID)
            config = protocol.decode_message(raw_config)
            battery = await self._read_battery(client)
            dis = {k: await self._read_text(client, u) for k, u in _DIS_FIELDS.items()}
            for uuid in _SUBSCRIBED:
                if self._acquire:
                    await client.start_notify(
                        uuid, self._on_notify, bluez={"use_start_notify": False}
                    )
                else:
                    await client.start_notify(uuid, self._on_notify)
        except UnsupportedVersionError as exc:
            raise ConnectError(f"{where}: {exc}", transient=False) from exc
        except ProtocolError as exc:
            raise ConnectError(f"{where}: unreadable config ({exc})", transient=False) from exc
        except (BleakError, OSError, TimeoutError) as exc:
            raise _translate(exc, f"setting up {where}") from exc
        if not isinstance(config, ConfigMessage):
            raise ConnectError(
                f"{where}: the config characteristic holds {config!r}", transient=False
            )
        self._buffer.append(bytes(raw_config))  # the link gets the config at once
        self._wake.set()
        self._stats["connects"] += 1
        return DeviceInfo(
            name=(adv.local_name if adv else None) or device.name or device.address,
            address=device.address,
            transport="ble",
            battery_pct=battery,
            mtu=self._max_write + 3,
            rssi_dbm=adv.rssi if adv else None,
            **dis,
        )

    @staticmethod
    async def _read_battery(client: BleakClient) -> int | None:
        if client.services.get_characteristic(protocol.BATTERY_LEVEL_UUID) is None:
            return None
        data = await client.read_gatt_char(protocol.BATTERY_LEVEL_UUID)
        return int(data[0]) if data else None

    @staticmethod
    async def _read_text(client: BleakClient, uuid: str) -> str:
        if client.services.get_characteristic(uuid) is None:
            return ""
        return bytes(await client.read_gatt_char(uuid)).decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ streaming

    def _on_notify(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        # runs on bleak's callback path: only enqueue, never decode or block here
        if len(self._buffer) == self._buffer.maxlen:
            self._stats["dropped"] += 1
        self._buffer.append(bytes(data))
        self._stats["notifications"] += 1
        self._stats["bytes_in"] += len(data)
        self._wake.set()

    def _on_disconnected(self, _client: BleakClient) -> None:
        # bleak calls this for intentional disconnects too (notes/ble.md §2)
        if not self._intentional:
            self._lost = True
            self._stats["losses"] += 1
            logger.info("%s: link lost", self.description)
        self._wake.set()

    async def receive(self) -> list[Message]:
        """Wait for notifications and decode them (undecodable ones are counted and skipped).

        Raises:
            DisconnectedError: the link was lost, or the channel is not connected.
        """
        while True:
            if self._buffer:
                out: list[Message] = []
                while self._buffer:
                    data = self._buffer.popleft()
                    try:
                        out.append(protocol.decode_message(data))
                    except ProtocolError as exc:
                        self._stats["decode_errors"] += 1
                        logger.debug("undecodable notification %s: %s", data.hex(), exc)
                if out:
                    return out
            if self._lost or self._client is None:
                raise DisconnectedError(f"{self.description}: link lost; {_NOT_FOUND_ADVICE}")
            self._wake.clear()
            await self._wake.wait()

    async def send(self, payload: bytes) -> None:
        """Write one command to the control point (with response).

        Raises:
            DisconnectedError: not connected, or the write failed because the link dropped.
            ProtocolError: the command is larger than the negotiated write size.
        """
        client, control = self._client, self._control
        if client is None or control is None or self._lost:
            raise DisconnectedError(f"{self.description}: not connected")
        if len(payload) > self._max_write:
            raise ProtocolError(
                f"command of {len(payload)} bytes exceeds the {self._max_write}-byte write limit"
            )
        try:
            await client.write_gatt_char(control, payload, response=True)
        except (BleakError, OSError, TimeoutError) as exc:
            raise DisconnectedError(f"{self.description}: write failed ({exc})") from exc

    async def disconnect(self) -> None:
        """Disconnect on purpose; idempotent, never raises.

        A second caller while a disconnect is in flight waits for that one to finish.
        """
        client, self._client = self._client, None
        self._control = None
        if client is not None:
            self._intentional = True
            self._wake.set()
            self._disconnecting = asyncio.ensure_future(self._disconnect_client(client))
        if self._disconnecting is not None:
            await asyncio.shield(self._disconnecting)

    @staticmethod
    async def _disconnect_client(client: BleakClient) -> None:
        with contextlib.suppress(BleakError, OSError, TimeoutError, EOFError):
            async with asyncio.timeout(5.0):
                await client.disconnect()
