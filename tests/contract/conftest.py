"""Rigs for the channel contract suite: the simulated sensor behind every real link face.

* ``private_bus`` (session): a private dbus-daemon for the fake BlueZ. Missing dbus-daemon is a
  failure with instructions, not a skip: CI installs it (dev.sh).
* ``make_rig(kind, ...)``: a :class:`~device_sim.firmware.SimDevice` served over ``kind`` (sim
  in-process; serial pty, tcp and ble through their faces running on their own event loop in a
  thread, so the host side under test has its loop to itself, like two processes) and the
  host-side Channel that reaches it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from link_rigs import FaceThread, Rig

from device_sim.fake_bluez import FakeBluez, FakeBluezOptions, PrivateBus
from device_sim.faults import FaultConfig
from device_sim.firmware import SimDevice
from device_sim.serial_face import SerialFace, SerialFaceOptions
from device_sim.transport import SimChannel
from host.transports.base import parse_device
from host.transports.ble import BleChannel
from host.transports.serial import SerialChannel


@pytest.fixture(scope="session")
def private_bus() -> Iterator[PrivateBus]:
    if shutil.which("dbus-daemon") is None:
        pytest.fail(
            "dbus-daemon is not installed; the fake-BlueZ tests need it "
            "(Debian: apt-get install dbus-daemon, or ./dev.sh setup)"
        )
    with PrivateBus() as bus:
        yield bus


@pytest.fixture
def make_rig(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(
        kind: str,
        *,
        faults: FaultConfig | None = None,
        speed: float = 4.0,
        rate_hz: int = 100,
        seed: int = 1,
        remove_on_disconnect: bool = False,
        notify: str = "start",
    ) -> Rig:
        device = SimDevice("desk_day", seed=seed, rate_hz=rate_hz, faults=faults)
        if kind == "sim":
            rig = Rig(kind, device, SimChannel(device, speed=speed))
        elif kind in ("serial", "tcp"):
            face_kind = "pty" if kind == "serial" else "tcp"
            thread = FaceThread(
                lambda: SerialFace(device, face_kind, SerialFaceOptions(speed=speed))
            )
            port = thread.start()
            rig = Rig(kind, device, SerialChannel(parse_device(f"serial:{port}")), thread)
        elif kind == "ble":
            bus: PrivateBus = request.getfixturevalue("private_bus")
            # bleak's only seam: it connects to the "system bus" named here
            monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
            options = FakeBluezOptions(speed=speed, remove_on_disconnect=remove_on_disconnect)
            thread = FaceThread(lambda: FakeBluez(device, options, bus_address=bus.address))
            thread.start()
            uri = parse_device(f"ble:name={device.name}?scan=5&notify={notify}")
            rig = Rig(kind, device, BleChannel(uri), thread)
        else:
            raise ValueError(kind)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        if rig.face is not None:
            rig.face.stop()
