"""BLE end to end: ``posture-sim serve --face ble`` in its own process, unmodified bleak here.

Also the canary: the parts of bleak's BlueZ backend our fake's contract relies on
(notes/ble.md §3) still exist, so a bleak upgrade that changes them fails loudly here instead of
making the fake silently unrepresentative.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from host import protocol
from host.link import SensorLink
from host.protocol import Command, Opcode, VibratePattern
from host.samples import SampleBlock

pytestmark = pytest.mark.fakebluez

ROOT = Path(__file__).resolve().parents[2]


def test_bleak_api_surface_the_fake_relies_on() -> None:
    import bleak
    import bleak_retry_connector
    from bleak.backends.bluezdbus import defs
    from bleak.backends.bluezdbus.manager import BlueZManager, get_global_bluez_manager
    from bleak.backends.characteristic import BleakGATTCharacteristic
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

    assert defs.BLUEZ_SERVICE == "org.bluez"
    assert defs.ADAPTER_INTERFACE == "org.bluez.Adapter1"
    assert defs.DEVICE_INTERFACE == "org.bluez.Device1"
    assert defs.GATT_CHARACTERISTIC_INTERFACE == "org.bluez.GattCharacteristic1"
    assert callable(get_global_bluez_manager)
    assert hasattr(BlueZManager, "get_default_adapter")
    assert isinstance(BleakGATTCharacteristic.max_write_without_response_size, property)
    assert "service_uuids" in inspect.signature(bleak.BleakScanner.__init__).parameters
    assert hasattr(bleak.BleakScanner, "find_device_by_filter")
    params = inspect.signature(bleak_retry_connector.establish_connection).parameters
    assert {"max_attempts", "use_services_cache", "disconnected_callback"} <= set(params)
    assert "dbus_error" in dir(BleakDBusError)
    assert "reason" in dir(BleakBluetoothNotAvailableError)


async def _serve(*args: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "device_sim.serve", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode().strip()
        yield line, proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 15)


@pytest.fixture
async def served_ble(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    async for line, proc in _serve("desk_day", "--face", "ble", "--seed", "3"):
        key, _, address = line.partition("=")
        assert key == "DBUS_SYSTEM_BUS_ADDRESS", line
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        yield address, proc


async def test_any_bleak_program_can_use_the_served_sensor(
    served_ble: tuple[str, asyncio.subprocess.Process],
) -> None:
    from bleak import BleakClient, BleakScanner

    address, proc = served_ble
    found = await BleakScanner.discover(timeout=1.5, service_uuids=[protocol.SERVICE_UUID])
    names = [d.name for d in found]
    assert len(names) == 1
    assert names[0] is not None
    assert names[0].startswith("PostureSim-")
    notifications: list[bytes] = []
    async with BleakClient(found[0]) as client:
        config = protocol.decode_message(await client.read_gatt_char(protocol.CONFIG_CHAR_UUID))
        assert isinstance(config, protocol.ConfigMessage)
        assert config.rate_hz == 100
        battery = await client.read_gatt_char(protocol.BATTERY_LEVEL_UUID)
        assert 0 < battery[0] <= 100
        model = await client.read_gatt_char(protocol.MODEL_NUMBER_UUID)
        assert model.decode() == "PostureSim"
        data = client.services.get_characteristic(protocol.DATA_CHAR_UUID)
        assert data is not None
        assert data.max_write_without_response_size == 244  # MTU 247
        await client.start_notify(protocol.DATA_CHAR_UUID, lambda _c, b: notifications.append(b))
        await client.start_notify(protocol.CONTROL_CHAR_UUID, lambda _c, b: None)
        start = Command(Opcode.START, (protocol.LIVE_ONLY,), 1)
        await client.write_gatt_char(protocol.CONTROL_CHAR_UUID, protocol.encode_message(start))
        vibrate = Command(Opcode.VIBRATE, (int(VibratePattern.GENTLE), 2, 150, 150), 2)
        await client.write_gatt_char(protocol.CONTROL_CHAR_UUID, protocol.encode_message(vibrate))
        await asyncio.sleep(1.0)
    packets = [protocol.decode_message(b) for b in notifications]
    assert 15 <= len(packets) <= 25  # 100 Hz in packets of 5 for 1 s
    assert all(isinstance(p, protocol.DataPacket) for p in packets)
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 15) == 0
    assert proc.stderr is not None
    stderr = (await proc.stderr.read()).decode()
    assert "VIBRATE GENTLE" in stderr
    # the private bus went away with the simulator
    bus_dir = Path(address.split("path=")[1].split(",")[0]).parent
    assert not bus_dir.exists()


async def test_sensor_link_over_acquire_notify(
    served_ble: tuple[str, asyncio.subprocess.Process],
) -> None:
    link = SensorLink("ble:?notify=acquire", first_connect_timeout_s=10, rng=random.Random(0))
    n = 0
    async with asyncio.timeout(20), link:
        async for item in link.stream():
            if isinstance(item, SampleBlock):
                n += len(item)
                if n >= 200:
                    break
    stats = link.statistics()
    assert stats.samples >= 200
    assert stats.gaps == 0
    assert stats.latency_p50_ms is not None
    assert stats.latency_p50_ms < 50
    assert link.info is not None
    assert link.info.battery_pct is not None
    assert link.info.mtu == 247


async def test_posture_scan_lists_the_served_sensor(
    served_ble: tuple[str, asyncio.subprocess.Process],
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "host.cli", "scan", "--timeout", "1", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert '"name": "PostureSim-' in out.decode()
    assert '"battery_pct": 100' in out.decode()  # advertised as Battery service data


async def test_posture_scan_without_bluetooth_exits_3() -> None:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "host.cli", "scan", "--timeout", "1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 3
    assert "BlueZ" in err.decode()


@pytest.mark.parametrize(
    ("error", "expected", "transient", "words"),
    [
        ("unavailable", "BluetoothUnavailableError", False, "switched off"),
        ("dbus-missing", "BluetoothUnavailableError", False, "BlueZ"),
        ("not-permitted", "BluetoothUnavailableError", False, "bluetooth' group"),
        ("not-found", "ConnectError", True, "in range"),
        ("page-timeout", "ConnectError", True, "br-connection-page-timeout"),
    ],
)
def test_bleak_errors_become_ours_with_advice(
    error: str, expected: str, transient: bool, words: str
) -> None:
    from bleak.exc import (
        BleakBluetoothNotAvailableError,
        BleakBluetoothNotAvailableReason,
        BleakDBusError,
        BleakDeviceNotFoundError,
    )

    from host.transports.ble import _translate

    exc: BaseException = {
        "unavailable": BleakBluetoothNotAvailableError(
            "off", BleakBluetoothNotAvailableReason.POWERED_OFF
        ),
        "dbus-missing": FileNotFoundError(2, "No such file or directory"),
        "not-permitted": BleakDBusError("org.bluez.Error.NotPermitted", ["denied"]),
        "not-found": BleakDeviceNotFoundError("AA:BB", "not found"),
        "page-timeout": BleakDBusError("org.bluez.Error.Failed", ["br-connection-page-timeout"]),
    }[error]
    ours = _translate(exc, "connecting")
    assert type(ours).__name__ == expected
    assert ours.transient is transient
    assert words in str(ours)
