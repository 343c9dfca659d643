"""Device picker: the simulator is always offered; scanning runs off the GUI thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from host.gui.devices import SIM_DEVICES, DevicePicker

ROOT = Path(__file__).resolve().parents[2]


def test_simulator_offered_and_typed_devices_win(qtbot: QtBot) -> None:
    picker = DevicePicker("serial:/dev/ttyACM0")
    qtbot.addWidget(picker)
    offered = [picker.combo.itemData(i) for i in range(picker.combo.count())]
    assert set(SIM_DEVICES) <= set(offered)
    assert picker.device() == "serial:/dev/ttyACM0"
    picker.set_device("sim:desk_day")
    assert picker.device() == "sim:desk_day"
    picker.combo.setEditText("replay:day.csv?speed=4")
    assert picker.device() == "replay:day.csv?speed=4"


def test_scan_without_bluetooth_reports_and_recovers(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A bus address with nothing behind it: BlueZ is unreachable, as on a machine without it.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    picker = DevicePicker("sim:desk_day")
    qtbot.addWidget(picker)
    with qtbot.waitSignal(picker.scan_finished, timeout=10_000) as blocker:
        picker.start_scan(0.5)
        assert not picker.scan_button.isEnabled()  # the GUI thread is not blocked meanwhile
    assert blocker.args == [0]
    assert picker.scan_button.isEnabled()
    assert "scan failed" in picker.combo.toolTip()
    picker.shutdown()


def test_a_scan_that_fails_at_once_is_still_reported_from_the_event_loop(qtbot: QtBot) -> None:
    """A scan that has failed before start_scan attaches its callback (fast failure, no BlueZ)
    runs the callback in the GUI thread; the result must still arrive queued, not re-entrantly
    inside start_scan (CI once saw the button re-enabled before start_scan returned)."""
    import concurrent.futures

    class Inline(concurrent.futures.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            future: concurrent.futures.Future[object] = concurrent.futures.Future()
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001  # the scan's failure is the result
                future.set_exception(exc)
            return future

    def no_bluetooth(timeout_s: float) -> list[object]:
        raise RuntimeError("no BlueZ")

    picker = DevicePicker("sim:desk_day", scanner=no_bluetooth)  # type: ignore[arg-type]
    qtbot.addWidget(picker)
    picker._pool = Inline()
    with qtbot.waitSignal(picker.scan_finished, timeout=2000) as blocker:
        picker.start_scan(0.5)
        assert not picker.scan_button.isEnabled()  # still pending when start_scan returns
        assert picker.scan_button.text() == "Scanning…"
    assert blocker.args == [0]
    assert picker.scan_button.isEnabled()
    assert "no BlueZ" in picker.combo.toolTip()
    picker.shutdown()


@pytest.fixture
def served_ble(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "device_sim.serve", "upright_sitting", "--face", "ble"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        key, _, address = proc.stdout.readline().strip().partition("=")
        assert key == "DBUS_SYSTEM_BUS_ADDRESS"
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        yield address
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.fakebluez
def test_scan_finds_the_served_sensor_with_rssi(qtbot: QtBot, served_ble: str) -> None:
    picker = DevicePicker("sim:desk_day")
    qtbot.addWidget(picker)
    with qtbot.waitSignal(picker.scan_finished, timeout=15_000) as blocker:
        picker.start_scan(1.5)
    assert blocker.args == [1]
    labels = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    found = [label for label in labels if label.startswith("PostureSim-")]
    assert len(found) == 1
    assert "dBm" in found[0]
    index = labels.index(found[0])
    assert str(picker.combo.itemData(index)).startswith("ble:")
    picker.shutdown()
    assert os.environ["DBUS_SYSTEM_BUS_ADDRESS"] == served_ble
